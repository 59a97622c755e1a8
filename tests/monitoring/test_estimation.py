"""Estimated performance stored by the monitoring job: hourly counts, daily estimates with
the realised figures and the estimate's error once labels arrive, the API, the status, alert
rules and the selector retraining reads."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from sklearn import metrics as skm

from monitoring.alerts import services as alerting
from monitoring.engines import estimation as engine
from monitoring.models import (
    Alert,
    AlertSource,
    DailyEstimate,
    GroundTruth,
    HourlyEstimate,
    PredictionEvent,
)
from monitoring.performance import estimation, selectors
from monitoring.performance import services as performance
from monitoring.rollups import jobs
from registry.models import RegisteredModel
from registry.services import datasets as registry
from tests import factories

pytestmark = pytest.mark.django_db
DAY1 = dt.date(2026, 3, 2)
SCHEMA = [{"name": "x", "type": "numeric"}, {"name": "colour", "type": "categorical"}]


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _binary_rows(rng, n, spread=1.5):
    """True P(y=1 | x) = sigmoid(2x); the model scores sigmoid(3x) (over-confident)."""
    x = rng.normal(0, spread, n)
    y = (rng.random(n) < _sigmoid(2 * x)).astype(int)
    colour = rng.choice(["red", "blue"], n)
    return pd.DataFrame({"x": x, "colour": colour, "prediction_score": _sigmoid(3 * x), "y": y})


def _deployment(model: RegisteredModel, reference: pd.DataFrame):
    RegisteredModel.objects.filter(pk=model.pk).update(target_column="y")
    model.refresh_from_db()
    dataset = registry.dataset_upload(
        model=model,
        actor=model.owner,
        upload=factories.csv_upload(reference.to_csv(index=False)),
        name="reference",
        kind="training",
    )
    version = factories.model_version(
        model=model, input_schema=SCHEMA, training_datasets=[dataset.pk], feature_importance={}
    )
    return factories.deployment(
        version=version, endpoint=f"https://serving.example.org/{model.slug}"
    )


def _binary_outputs(row) -> dict:
    return {
        "prediction_label": str(int(row.prediction_score >= 0.5)),
        "prediction_score": float(row.prediction_score),
    }


def _events(
    deployment, frame: pd.DataFrame, day: dt.date, *, labelled: bool, prefix: str, outputs=None
):
    """One event per row of `frame` over `day` (the model's outputs from `outputs(row)`,
    binary by default), with the rows' labels `y` as ground truth when `labelled`."""
    outputs = outputs or _binary_outputs
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    step = dt.timedelta(seconds=86_000 / len(frame))
    PredictionEvent.objects.bulk_create(
        PredictionEvent(
            deployment=deployment,
            request_id=f"{prefix}-{i}",
            timestamp=start + i * step,
            features={"x": float(row.x), "colour": row.colour},
            **outputs(row),
        )
        for i, row in enumerate(frame.itertuples())
    )
    if labelled:
        GroundTruth.objects.bulk_create(
            GroundTruth(deployment=deployment, request_id=f"{prefix}-{i}", label=str(y))
            for i, y in enumerate(frame["y"])
        )


@pytest.fixture
def binary(model_a):
    """Day 1 labelled, day 2 unlabelled like the reference, day 3 unlabelled with inputs near
    the decision boundary (covariate shift: accuracy drops, P(y | x) unchanged)."""
    rng = np.random.default_rng(11)
    deployment = _deployment(model_a, _binary_rows(rng, 3_000))
    days = [_binary_rows(rng, 800), _binary_rows(rng, 800), _binary_rows(rng, 800, spread=0.4)]
    for k, frame in enumerate(days):
        _events(deployment, frame, DAY1 + dt.timedelta(days=k), labelled=k == 0, prefix=f"d{k}")
    return deployment, days


def _compute(deployment, n_days=3):
    days = [DAY1 + dt.timedelta(days=k) for k in range(n_days)]
    performance.performance_days_list_compute(deployment=deployment, days=days)
    return estimation.estimates_compute(deployment=deployment, days=days)


def test_daily_estimates_with_realised_figures_and_error_once_labelled(binary):
    deployment, frames = binary
    rows = {row.day: row for row in _compute(deployment)}
    assert sorted(rows) == [DAY1 + dt.timedelta(days=k) for k in range(3)]
    first = rows[DAY1]
    truth, scores = frames[0]["y"].to_numpy(), frames[0]["prediction_score"].to_numpy()
    realised = skm.accuracy_score(truth, scores >= 0.5)
    assert first.labelled == 800
    assert first.realised["accuracy"] == pytest.approx(realised)
    assert first.realised["roc_auc"] == pytest.approx(skm.roc_auc_score(truth, scores))
    assert first.error["accuracy"] == pytest.approx(first.estimated["accuracy"]["value"] - realised)
    band = first.estimated["accuracy"]
    assert band["lower"] <= realised <= band["upper"]
    assert first.reference["calibration"]["used"] is True
    # Unlabelled days: estimates, no realised figures; the shifted day is estimated lower.
    assert rows[DAY1 + dt.timedelta(days=1)].realised == {}
    shifted = rows[DAY1 + dt.timedelta(days=2)].estimated["accuracy"]
    assert shifted["upper"] < band["lower"]


def test_hourly_counts_sum_to_the_day(binary):
    deployment, _ = binary
    rows = {row.day: row for row in _compute(deployment)}
    hours = HourlyEstimate.objects.filter(deployment=deployment, hour__date=DAY1)
    assert hours.count() == 24
    merged = engine.merge_counts(hour.counts for hour in hours)
    estimate = engine.binary_estimate(merged)
    assert estimate["f1"]["value"] == pytest.approx(rows[DAY1].estimated["f1"]["value"])
    assert sum(hour.rows for hour in hours) == rows[DAY1].predictions == 800


def test_recomputing_is_idempotent(binary):
    deployment, _ = binary
    _compute(deployment)
    first = list(DailyEstimate.objects.values_list("day", "estimated"))
    _compute(deployment)
    assert list(DailyEstimate.objects.values_list("day", "estimated")) == first
    assert HourlyEstimate.objects.filter(deployment=deployment).count() == 72


def test_selector_latest_and_window(binary):
    deployment, _ = binary
    assert selectors.estimated_metric_latest(deployment, "accuracy") is None
    rows = {row.day: row for row in _compute(deployment)}
    latest = rows[DAY1 + dt.timedelta(days=2)].estimated
    assert selectors.estimated_metric_latest(deployment, "accuracy") == pytest.approx(
        latest["accuracy"]["value"]
    )
    assert selectors.estimated_metric_latest(deployment, "mae") is None
    two = [rows[DAY1 + dt.timedelta(days=k)].estimated["recall"]["value"] for k in (1, 2)]
    assert selectors.estimated_window(deployment, "recall", 2) == pytest.approx(np.mean(two))


def test_status_says_estimated_when_only_estimates_exist(model_a):
    rng = np.random.default_rng(12)
    deployment = _deployment(model_a, _binary_rows(rng, 2_000))
    today = dt.datetime.now(dt.UTC).date()
    _events(deployment, _binary_rows(rng, 300, spread=0.3), today, labelled=False, prefix="t")
    estimation.estimates_compute(deployment=deployment, days=[today])
    status = performance.deployment_status_compute(deployment=deployment)
    assert status.accuracy_level != "unknown"
    assert status.accuracy_reason.startswith("estimated")


def test_estimated_alert_rule_fires_before_labels(binary, model_a):
    deployment, _ = binary
    _compute(deployment)
    alerting.alert_rule_create(
        actor=model_a.owner,
        deployment=deployment,
        source=AlertSource.ESTIMATED,
        name="accuracy",
        comparator="lt",
        threshold=0.8,
    )
    alerting.alerts_evaluate(deployment=deployment)
    alert = Alert.objects.get(deployment=deployment)
    assert "estimated accuracy" in alert.message
    with pytest.raises(ValidationError):
        alerting.alert_rule_create(
            actor=model_a.owner,
            deployment=deployment,
            source=AlertSource.ESTIMATED,
            name="log_loss",
            comparator="lt",
            threshold=0.8,
        )


def test_api_lists_filters_and_hides(binary, api_as, model_b):
    deployment, _ = binary
    _compute(deployment)
    url = f"/api/v1/deployments/{deployment.pk}/estimated-performance/"
    api = api_as(deployment.version.model.owner)
    body = api.get(url).json()
    assert body["count"] == 3
    assert body["results"][0]["day"] == str(DAY1 + dt.timedelta(days=2))
    assert api.get(url, {"since": str(DAY1 + dt.timedelta(days=1))}).json()["count"] == 2
    assert api.get(url, {"metric": "mae"}).json()["count"] == 0
    bad = api.get(url, {"since": "2026-03-05", "until": "2026-03-01"})
    assert bad.status_code == 400 and "until" in bad.json()
    assert api_as(model_b.owner).get(url).status_code == 404


def test_missing_reference_scores_are_explained(model_a):
    rng = np.random.default_rng(13)
    reference = _binary_rows(rng, 500).drop(columns="prediction_score")
    deployment = _deployment(model_a, reference)
    _events(deployment, _binary_rows(rng, 50), DAY1, labelled=False, prefix="m")
    with pytest.raises(estimation.EstimationUnavailable, match="prediction_score"):
        estimation.estimates_compute(deployment=deployment, days=[DAY1])
    start = dt.datetime.combine(DAY1, dt.time.min, tzinfo=dt.UTC)
    result = jobs.deployment_monitor(
        deployment=deployment, start=start, end=start + dt.timedelta(days=1)
    )
    assert "prediction_score" in result["estimated_days"]


def test_dle_for_a_regressor_against_sklearn(db):
    model = factories.registered_model(task="regression")
    rng = np.random.default_rng(14)

    def rows(n, mean=0.0):
        x = rng.normal(mean, 1, n)
        colour = rng.choice(["red", "blue"], n)
        y = 2 * x + rng.normal(0, 0.2 + 0.5 * np.abs(x) + (colour == "red") * 0.3, n)
        return pd.DataFrame({"x": x, "colour": colour, "prediction": 2 * x, "y": y})

    deployment = _deployment(model, rows(2_000))
    day = rows(600)
    start = dt.datetime.combine(DAY1, dt.time.min, tzinfo=dt.UTC)
    PredictionEvent.objects.bulk_create(
        PredictionEvent(
            deployment=deployment,
            request_id=f"r-{i}",
            timestamp=start + dt.timedelta(minutes=2 * i),
            features={"x": float(r.x), "colour": r.colour},
            prediction_score=float(r.prediction),
        )
        for i, r in enumerate(day.itertuples())
    )
    GroundTruth.objects.bulk_create(
        GroundTruth(deployment=deployment, request_id=f"r-{i}", value=float(v))
        for i, v in enumerate(day["y"])
    )
    [row] = _compute(deployment, n_days=1)
    mae = skm.mean_absolute_error(day["y"], day["prediction"])
    assert row.method == "dle"
    assert row.realised["mae"] == pytest.approx(mae)
    assert row.estimated["mae"]["lower"] <= mae <= row.estimated["mae"]["upper"]
    assert row.error["rmse"] == pytest.approx(
        row.estimated["rmse"]["value"] - skm.root_mean_squared_error(day["y"], day["prediction"])
    )


def test_performance_tab_draws_the_estimate_and_states_its_assumptions(binary, client):
    deployment, _ = binary
    _compute(deployment)
    client.force_login(deployment.version.model.owner)
    url = reverse("monitoring:deployment-performance", args=[deployment.pk])
    query = {"start": str(DAY1), "end": str(DAY1 + dt.timedelta(days=2))}
    page = client.get(url, query)
    assert page.status_code == 200
    html = page.content.decode()
    assert "no concept shift" in html and "calibrated scores" in html
    assert "Estimate \N{MINUS SIGN} realised" in html
    chart = page.context["chart"]
    labels = [dataset["label"] for dataset in chart["datasets"]]
    assert "Estimated Accuracy" in labels
    estimated = next(d for d in chart["datasets"] if d["label"] == "Estimated Accuracy")
    assert estimated["dash"] is True
    first = DailyEstimate.objects.get(deployment=deployment, day=DAY1)
    assert estimated["data"][0] == pytest.approx(first.estimated["accuracy"]["value"])


def test_api_creates_an_estimated_rule_and_names_a_wrong_metric(binary, api_as):
    deployment, _ = binary
    api = api_as(deployment.version.model.owner)
    body = {
        "deployment": deployment.pk,
        "source": "estimated",
        "comparator": "lt",
        "threshold": 0.8,
    }
    wrong = api.post("/api/v1/alert-rules/", body | {"name": "log_loss"}, format="json")
    assert wrong.status_code == 400 and "name" in wrong.json()
    made = api.post("/api/v1/alert-rules/", body | {"name": "f1"}, format="json")
    assert made.status_code == 201, made.json()


def _multiclass_rows(rng, n):
    """Three classes with true probabilities softmax(-2x, 0, 2x); the model sends every
    class's probability as softmax(-3x, 0, 3x) (over-confident), its argmax and top score."""
    x = rng.normal(0, 1.0, n)
    logits = np.stack([-2 * x, np.zeros(n), 2 * x], axis=1)
    true_p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    sent = np.exp(1.5 * logits) / np.exp(1.5 * logits).sum(axis=1, keepdims=True)
    y = (rng.random(n)[:, None] > np.cumsum(true_p, axis=1)).sum(axis=1).clip(0, 2)
    frame = pd.DataFrame(
        {
            "x": x,
            "colour": rng.choice(["red", "blue"], n),
            "prediction": sent.argmax(axis=1),
            "prediction_score": sent.max(axis=1),
            "y": y,
        }
    )
    for k in range(3):
        frame[f"prediction_score_{k}"] = sent[:, k]
    return frame


def _multiclass_events(deployment, frame, day, *, labelled, prefix, class_scores=True):
    def outputs(row) -> dict:
        scores = {str(k): float(getattr(row, f"prediction_score_{k}")) for k in range(3)}
        return {
            "prediction_label": str(row.prediction),
            "prediction_score": float(row.prediction_score),
            "prediction_scores": scores if class_scores else None,
        }

    _events(deployment, frame, day, labelled=labelled, prefix=prefix, outputs=outputs)


@pytest.fixture
def multiclass(db):
    """Days 1 and 2 labelled with per-class scores, day 3 sent without them."""
    model = factories.registered_model(task="multiclass")
    rng = np.random.default_rng(21)
    deployment = _deployment(model, _multiclass_rows(rng, 4_000))
    frames = [_multiclass_rows(rng, 800) for _ in range(3)]
    for k, frame in enumerate(frames):
        _multiclass_events(
            deployment,
            frame,
            DAY1 + dt.timedelta(days=k),
            labelled=k < 2,
            prefix=f"m{k}",
            class_scores=k < 2,
        )
    return deployment, frames


def test_multiclass_roc_auc_is_estimated_and_realised_from_per_class_scores(multiclass):
    deployment, frames = multiclass
    rows = {row.day: row for row in _compute(deployment)}
    for k in range(2):
        row, frame = rows[DAY1 + dt.timedelta(days=k)], frames[k]
        sent = frame[[f"prediction_score_{c}" for c in range(3)]].to_numpy()
        realised = skm.roc_auc_score(frame["y"], sent, multi_class="ovr", average="macro")
        assert row.realised["roc_auc"] == pytest.approx(realised)
        band = row.estimated["roc_auc"]
        assert band["lower"] <= realised <= band["upper"]
        assert row.error["roc_auc"] == pytest.approx(band["value"] - realised)
    assert set(rows[DAY1].reference["class_calibration"]) == {"0", "1", "2"}
    # Events without per-class scores: the other estimates, no ROC AUC.
    third = rows[DAY1 + dt.timedelta(days=2)].estimated
    assert "accuracy" in third and "roc_auc" not in third


def test_estimated_performance_api_shows_multiclass_roc_auc(multiclass, api_as):
    deployment, _ = multiclass
    _compute(deployment)
    url = f"/api/v1/deployments/{deployment.pk}/estimated-performance/"
    body = api_as(deployment.version.model.owner).get(url, {"metric": "roc_auc"}).json()
    assert body["count"] == 2
    first = next(r for r in body["results"] if r["day"] == str(DAY1))
    assert set(first["estimated"]["roc_auc"]) == {"value", "lower", "upper"}
    assert first["realised"]["roc_auc"] is not None


def test_a_multiclass_reference_without_per_class_scores_estimates_no_roc_auc(db):
    model = factories.registered_model(task="multiclass")
    rng = np.random.default_rng(22)
    reference = _multiclass_rows(rng, 2_000).drop(
        columns=[f"prediction_score_{k}" for k in range(3)]
    )
    deployment = _deployment(model, reference)
    _multiclass_events(deployment, _multiclass_rows(rng, 300), DAY1, labelled=False, prefix="p")
    [row] = _compute(deployment, n_days=1)
    assert "accuracy" in row.estimated and "roc_auc" not in row.estimated


def test_performance_tab_draws_multiclass_auc_realised_and_estimated(multiclass, client):
    deployment, _ = multiclass
    _compute(deployment)
    client.force_login(deployment.version.model.owner)
    url = reverse("monitoring:deployment-performance", args=[deployment.pk])
    query = {"start": str(DAY1), "end": str(DAY1 + dt.timedelta(days=2)), "metric": "roc_auc"}
    page = client.get(url, query)
    assert page.status_code == 200
    chart = page.context["chart"]
    by_label = {dataset["label"]: dataset["data"] for dataset in chart["datasets"]}
    realised = by_label["AUC (macro one-vs-rest)"]
    estimated = by_label["Estimated AUC (macro one-vs-rest)"]
    first = DailyEstimate.objects.get(deployment=deployment, day=DAY1)
    assert realised[0] == pytest.approx(first.realised["roc_auc"])
    assert estimated[0] == pytest.approx(first.estimated["roc_auc"]["value"])
