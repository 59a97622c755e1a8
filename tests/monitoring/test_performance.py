"""Model quality: daily performance against ground truth, status, settings and portfolio."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.utils import timezone
from sklearn import metrics as sk

from monitoring.engines.status import Level, Thresholds
from monitoring.models import (
    DailyPerformance,
    DeploymentStatus,
    DriftResult,
    GroundTruth,
    HourlyHealth,
    MonitoringSettings,
    PredictionEvent,
)
from monitoring.performance import selectors, services
from monitoring.rollups import jobs
from tests import factories

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 3, 4)
NOON = dt.datetime(2026, 3, 4, 12, tzinfo=dt.UTC)


def deployment_of(model, **fields):
    endpoint = f"https://serving.example.org/{model.slug}"
    return factories.deployment(
        version=factories.model_version(model=model), endpoint=endpoint, **fields
    )


def add_labelled(
    deployment,
    *,
    labels,
    truth,
    scores=None,
    values=None,
    at=NOON,
    unlabelled=0,
    class_scores=None,
):
    """Events at `at` (one per second) with ground truth for all but the `unlabelled` last;
    `class_scores`: each event's {class: probability}."""
    n = len(labels if labels is not None else scores)
    ids = [f"q-{at:%d}-{i}" for i in range(n + unlabelled)]
    PredictionEvent.objects.bulk_create(
        PredictionEvent(
            deployment=deployment,
            request_id=rid,
            timestamp=at + dt.timedelta(seconds=i),
            prediction_label=None if labels is None or i >= n else labels[i],
            prediction_score=None if scores is None or i >= n else float(scores[i]),
            prediction_scores=None if class_scores is None or i >= n else class_scores[i],
        )
        for i, rid in enumerate(ids)
    )
    GroundTruth.objects.bulk_create(
        GroundTruth(
            deployment=deployment,
            request_id=ids[i],
            label=None if truth is None else truth[i],
            value=None if values is None else float(values[i]),
        )
        for i in range(n)
    )


def test_binary_daily_metrics_equal_scikit_learns_on_the_same_joined_data(model_a):
    deployment = deployment_of(model_a, decision_threshold="0.4")
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 2, 300)
    scores = np.clip(truth * 0.3 + rng.uniform(0, 0.7, 300), 0, 1)
    add_labelled(
        deployment, labels=None, truth=[str(t) for t in truth], scores=scores, unlabelled=20
    )
    row = services.daily_performance_compute(deployment=deployment, day=DAY)
    predicted = scores >= 0.4
    assert (row.predictions, row.labelled) == (320, 300)
    m = row.metrics
    assert m["accuracy"] == pytest.approx(sk.accuracy_score(truth, predicted))
    assert m["precision"] == pytest.approx(sk.precision_score(truth, predicted))
    assert m["recall"] == pytest.approx(sk.recall_score(truth, predicted))
    assert m["f1"] == pytest.approx(sk.f1_score(truth, predicted))
    auc = sk.roc_auc_score(truth, scores)
    assert m["roc_auc"] == pytest.approx(auc)
    assert m["gini_norm"] == pytest.approx(2 * auc - 1)
    assert m["log_loss"] == pytest.approx(sk.log_loss(truth, scores))
    fpr, tpr, _ = sk.roc_curve(truth, scores)
    assert m["ks"] == pytest.approx(max(tpr - fpr))


def test_a_daily_row_stores_its_threshold_positive_label_and_input_digest(model_a):
    import hashlib
    import json

    deployment = deployment_of(model_a, decision_threshold="0.4")
    add_labelled(deployment, labels=None, truth=["1", "0"], scores=[0.9, 0.2], unlabelled=1)
    row = services.daily_performance_compute(deployment=deployment, day=DAY)
    assert (row.decision_threshold, row.positive_label) == (0.4, "1")
    # The joined rows by hand: request id, predicted label and score, truth label and value.
    rows = [["q-04-0", None, 0.9, "1", None], ["q-04-1", None, 0.2, "0", None]]
    columns = ["request_id", "prediction_label", "prediction_score", "label", "value"]
    canonical = json.dumps(
        {"columns": columns, "rows": rows}, sort_keys=True, separators=(",", ":")
    )
    assert row.input_digest == hashlib.sha256(canonical.encode()).hexdigest()
    GroundTruth.objects.filter(request_id="q-04-1").update(label="1")
    changed = services.daily_performance_compute(deployment=deployment, day=DAY)
    assert changed.input_digest != row.input_digest


def test_multiclass_daily_metrics_equal_scikit_learns(owner):
    model = factories.registered_model(owner=owner, name="Species", task="multiclass")
    deployment = deployment_of(model)
    rng = np.random.default_rng(5)
    truth = rng.choice(["a", "b", "c"], 200)
    predicted = np.where(rng.uniform(size=200) < 0.7, truth, rng.choice(["a", "b", "c"], 200))
    add_labelled(deployment, labels=list(predicted), truth=list(truth))
    m = services.daily_performance_compute(deployment=deployment, day=DAY).metrics
    assert m["accuracy"] == pytest.approx(sk.accuracy_score(truth, predicted))
    assert m["macro_f1"] == pytest.approx(sk.f1_score(truth, predicted, average="macro"))


def test_multiclass_daily_roc_auc_equals_sklearns_macro_one_vs_rest(owner):
    model = factories.registered_model(owner=owner, name="Cultivar", task="multiclass")
    deployment = deployment_of(model)
    rng = np.random.default_rng(6)
    classes = np.array(["a", "b", "c"])
    proba = rng.dirichlet([1.0, 1.0, 1.0], 200)
    truth = classes[(rng.random(200)[:, None] > np.cumsum(proba, axis=1)).sum(axis=1).clip(0, 2)]
    rows = [dict(zip(classes, map(float, p), strict=True)) for p in proba]
    add_labelled(
        deployment,
        labels=list(classes[proba.argmax(axis=1)]),
        truth=list(truth),
        scores=proba.max(axis=1),
        class_scores=rows,
    )
    expected = sk.roc_auc_score(truth, proba, multi_class="ovr", average="macro")
    m = services.daily_performance_compute(deployment=deployment, day=DAY).metrics
    assert m["roc_auc"] == pytest.approx(expected)
    (listed,) = services.performance_days_list_compute(deployment=deployment, days=[DAY])
    assert listed.metrics["roc_auc"] == pytest.approx(expected)


def test_multiclass_days_without_per_class_scores_have_no_roc_auc(owner):
    model = factories.registered_model(owner=owner, name="Cultivar", task="multiclass")
    deployment = deployment_of(model)
    add_labelled(deployment, labels=["a", "b"], truth=["a", "a"], scores=[0.9, 0.6])
    m = services.daily_performance_compute(deployment=deployment, day=DAY).metrics
    assert "roc_auc" not in m and m["accuracy"] == 0.5


def test_regression_daily_metrics_equal_scikit_learns(owner):
    model = factories.registered_model(owner=owner, name="Price", task="regression")
    deployment = deployment_of(model)
    rng = np.random.default_rng(9)
    values = rng.normal(100, 20, 150)
    predictions = values + rng.normal(0, 5, 150)
    add_labelled(deployment, labels=None, truth=None, scores=predictions, values=values)
    m = services.daily_performance_compute(deployment=deployment, day=DAY).metrics
    assert m["mae"] == pytest.approx(sk.mean_absolute_error(values, predictions))
    assert m["rmse"] == pytest.approx(np.sqrt(sk.mean_squared_error(values, predictions)))
    assert m["r2"] == pytest.approx(sk.r2_score(values, predictions))
    assert m["mape"] == pytest.approx(sk.mean_absolute_percentage_error(values, predictions))


def test_daily_performance_joins_in_two_queries_whatever_the_row_count(
    model_a, django_assert_max_num_queries
):
    deployment = deployment_of(model_a)
    add_labelled(deployment, labels=["1", "0"] * 200, truth=["1", "1"] * 200)
    with django_assert_max_num_queries(2):
        services.joined_day(deployment, DAY)


def set_status_inputs(deployment, *, accuracy, drifted, features, error_rate, now):
    DailyPerformance.objects.update_or_create(
        deployment=deployment,
        day=now.date(),
        defaults={
            "task": "binary",
            "predictions": 10,
            "labelled": 10,
            "metrics": {"accuracy": accuracy},
        },
    )
    DriftResult.objects.filter(deployment=deployment).delete()
    for i in range(features):
        DriftResult.objects.create(
            deployment=deployment,
            window_start=now - dt.timedelta(days=1),
            window_end=now,
            feature=f"f{i}",
            method="psi",
            statistic=0.1,
            threshold=0.2,
            drifted=i < drifted,
            engine_version="1",
            reference_digest="r",
            current_digest="c",
        )
    HourlyHealth.objects.update_or_create(
        deployment=deployment,
        hour=now - dt.timedelta(hours=1),
        defaults={
            "count": 1000,
            "errors": int(error_rate * 1000),
            "latency_count": 1000,
            "latency_p95_ms": 100.0,
        },
    )
    PredictionEvent.objects.get_or_create(
        deployment=deployment, request_id="last", defaults={"timestamp": now}
    )


@pytest.mark.parametrize(
    ("accuracy", "drifted", "error_rate", "level", "words"),
    [
        (0.9, 0, 0.0, Level.GOOD, "is at or above the at-risk threshold"),
        (0.8, 3, 0.02, Level.AT_RISK, "is below the at-risk threshold"),
        (0.5, 6, 0.2, Level.FAILING, "is below the failing threshold"),
    ],
)
def test_status_gives_each_level_with_its_reason(
    model_a, accuracy, drifted, error_rate, level, words
):
    deployment = deployment_of(model_a)
    now = timezone.now()
    set_status_inputs(
        deployment, accuracy=accuracy, drifted=drifted, features=10, error_rate=error_rate, now=now
    )
    row = services.deployment_status_compute(deployment=deployment, now=now)
    assert row.accuracy_level == level
    assert row.accuracy_reason.startswith(f"accuracy {accuracy:.4g} {words}")
    assert row.drift_level == level
    assert "drifted feature share" in row.drift_reason
    assert row.service_health_level == level


def test_status_is_unknown_without_ground_truth_drift_or_traffic(model_a):
    deployment = deployment_of(model_a)
    row = services.deployment_status_compute(deployment=deployment)
    assert (row.accuracy_level, row.drift_level, row.service_health_level) == ("unknown",) * 3
    assert "no ground truth" in row.accuracy_reason
    assert row.service_health_reason == "no traffic in the window"


def test_stored_thresholds_change_the_verdict(model_a, owner):
    deployment = deployment_of(model_a)
    now = timezone.now()
    set_status_inputs(deployment, accuracy=0.8, drifted=0, features=4, error_rate=0, now=now)
    assert services.deployment_status_compute(deployment=deployment).accuracy_level == "at_risk"
    services.monitoring_settings_update(
        deployment=deployment, actor=owner, thresholds={"accuracy_at_risk": 0.7}
    )
    assert services.deployment_status_compute(deployment=deployment).accuracy_level == "good"


def test_portfolio_counts_only_what_the_user_may_view(model_a, model_b, owner, outsider):
    mine = deployment_of(model_a)
    deployment_of(model_b)
    now = timezone.now()
    set_status_inputs(mine, accuracy=0.5, drifted=0, features=4, error_rate=0, now=now)
    services.deployment_status_compute(deployment=mine, now=now)
    counts = selectors.portfolio_counts(user=owner)
    assert counts["accuracy"] == {"good": 0, "at_risk": 0, "failing": 1, "unknown": 0}
    assert sum(selectors.portfolio_counts(user=outsider)["accuracy"].values()) == 0


def test_monitoring_job_stays_idempotent_and_stores_performance_and_status(model_a):
    deployment = deployment_of(model_a)
    end = jobs.floor_hour(timezone.now())
    add_labelled(
        deployment, labels=["1", "0", "1"], truth=["1", "0", "0"], at=end - dt.timedelta(hours=2)
    )
    start = end - dt.timedelta(hours=24)
    first = jobs.deployment_monitor(deployment=deployment, start=start, end=end)
    before = list(DailyPerformance.objects.values("day", "predictions", "labelled", "metrics"))
    second = jobs.deployment_monitor(deployment=deployment, start=start, end=end)
    assert first == second
    assert "skipped" in first  # no reference dataset: drift skipped, quality still computed
    assert (
        list(DailyPerformance.objects.values("day", "predictions", "labelled", "metrics")) == before
    )
    assert before[0]["metrics"]["accuracy"] == pytest.approx(2 / 3)
    assert DeploymentStatus.objects.filter(deployment=deployment).count() == 1
    assert first["status"]["accuracy"] == "failing"


# --- API ---------------------------------------------------------------------------------------


def test_performance_api_lists_days_for_a_viewer_and_404s_the_outsider(
    api_as, model_a, reviewer, outsider
):
    deployment = deployment_of(model_a)
    today = timezone.now().date()
    DailyPerformance.objects.create(
        deployment=deployment,
        day=today,
        task="binary",
        predictions=5,
        labelled=4,
        metrics={"accuracy": 0.75},
    )
    url = f"/api/v1/deployments/{deployment.pk}/performance/?days=7"
    answer = api_as(reviewer).get(url)
    assert answer.status_code == 200
    assert answer.json()[0]["metrics"] == {"accuracy": 0.75}
    assert api_as(outsider).get(url).status_code == 404


def test_status_api_answers_unknown_before_the_first_computation(api_as, model_a, owner):
    deployment = deployment_of(model_a)
    url = f"/api/v1/deployments/{deployment.pk}/status/"
    assert api_as(owner).get(url).json()["accuracy"]["level"] == "unknown"
    services.deployment_status_compute(deployment=deployment)
    body = api_as(owner).get(url).json()
    assert body["drift"] == {"level": "unknown", "reason": "no drift computed for the window"}
    assert body["computed_at"] is not None


def test_settings_patch_needs_change_rights(api_as, model_a, owner, reviewer, outsider):
    deployment = deployment_of(model_a)
    url = f"/api/v1/deployments/{deployment.pk}/monitoring-settings/"
    got = api_as(reviewer).get(url).json()
    assert got["effective_thresholds"] == Thresholds().to_dict()
    patch = {"thresholds": {"accuracy_at_risk": 0.9}}
    assert api_as(reviewer).patch(url, patch, format="json").status_code == 403
    assert api_as(outsider).patch(url, patch, format="json").status_code == 404
    answer = api_as(owner).patch(url, patch, format="json")
    assert answer.status_code == 200
    assert answer.json()["effective_thresholds"]["accuracy_at_risk"] == 0.9
    assert MonitoringSettings.objects.get(deployment=deployment).thresholds == {
        "accuracy_at_risk": 0.9
    }


def test_settings_patch_rejects_an_unknown_threshold(api_as, model_a, owner):
    deployment = deployment_of(model_a)
    url = f"/api/v1/deployments/{deployment.pk}/monitoring-settings/"
    answer = api_as(owner).patch(url, {"thresholds": {"nope": 1}}, format="json")
    assert answer.status_code == 400


def test_portfolio_api_gives_the_outsider_zero(api_as, model_a, outsider, owner):
    deployment_of(model_a)
    assert api_as(owner).get("/api/v1/monitoring/portfolio/").json()["drift"]["unknown"] == 1
    body = api_as(outsider).get("/api/v1/monitoring/portfolio/").json()
    assert all(n == 0 for axis in body.values() for n in axis.values())


def test_portfolio_api_counts_what_the_portfolio_page_counts_active_deployments_only(
    api_as, client, model_a, owner
):
    from monitoring.dashboards.portfolio_selectors import portfolio_summary
    from registry.services import deployment_retire

    retired = deployment_of(model_a)
    deployment_retire(deployment=retired, actor=owner)
    deployment_of(model_a)
    body = api_as(owner).get("/api/v1/monitoring/portfolio/").json()
    assert sum(body["accuracy"].values()) == 1 == portfolio_summary(user=owner)["total"]


def test_fairness_by_the_sensitive_attribute_equals_a_plain_computation(model_a, api_as, owner):
    deployment = deployment_of(model_a)
    answer = api_as(owner).patch(
        f"/api/v1/deployments/{deployment.pk}/monitoring-settings/",
        {"sensitive_attribute": "region"},
        format="json",
    )
    assert answer.status_code == 200 and answer.json()["sensitive_attribute"] == "region"
    rng = np.random.default_rng(11)
    n = 400
    regions = rng.choice(["north", "south", "east"], n)
    scores = rng.random(n) + np.where(regions == "north", 0.15, 0.0)
    truth = np.where(rng.random(n) < 0.5, "1", "0")
    add_labelled(deployment, labels=None, truth=list(truth), scores=scores)
    for i, region in enumerate(regions):
        PredictionEvent.objects.filter(deployment=deployment, request_id=f"q-04-{i}").update(
            features={"region": str(region), "age": 30}
        )
    row = services.daily_performance_compute(deployment=deployment, day=DAY)
    predicted = scores >= 0.5
    by_group = {g["group"]: g for g in row.fairness["groups"]}
    assert row.fairness["attribute"] == "region" and set(by_group) == {"north", "south", "east"}
    selection = {}
    for region in ("north", "south", "east"):
        mask = regions == region
        selection[region] = predicted[mask].mean()
        expected_accuracy = sk.accuracy_score(truth[mask] == "1", predicted[mask])
        assert by_group[region]["n"] == mask.sum()
        assert by_group[region]["selection_rate"] == pytest.approx(selection[region], abs=1e-12)
        assert by_group[region]["accuracy"] == pytest.approx(expected_accuracy, abs=1e-12)
    top, bottom = max(selection.values()), min(selection.values())
    assert row.metrics["demographic_parity_difference"] == pytest.approx(top - bottom, abs=1e-12)
    assert row.metrics["disparate_impact_ratio"] == pytest.approx(bottom / top, abs=1e-12)


def test_a_sensitive_attribute_must_be_an_input_feature(api_as, model_a, owner):
    deployment = deployment_of(model_a)
    answer = api_as(owner).patch(
        f"/api/v1/deployments/{deployment.pk}/monitoring-settings/",
        {"sensitive_attribute": "religion"},
        format="json",
    )
    assert answer.status_code == 400 and "sensitive_attribute" in str(answer.json())
    stored = MonitoringSettings.objects.filter(deployment=deployment).first()
    assert stored is None or stored.sensitive_attribute == ""
