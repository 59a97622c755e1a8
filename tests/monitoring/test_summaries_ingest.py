"""Summaries as a first-class input: the layouts endpoint, posted hourly summaries, and the
hourly rows, drift and health they give, compared with the same events posted raw. Runs on
SQLite (ORM path) and PostgreSQL (COPY path) alike."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from django.utils import timezone
from steward_client.summary_mode import hourly_summaries

from governance.audit.models import AuditEvent
from monitoring.engines.health import HOURLY_FIELDS
from monitoring.models import (
    DailyPerformance,
    DeploymentActivity,
    DriftResult,
    HourlyHealth,
    HourlySummary,
    PostedSummary,
    StaleHour,
)
from monitoring.performance import services as performance_services
from monitoring.rollups import hourly, jobs, staleness
from monitoring.rollups.posted import features_of
from registry import services as registry
from tests import factories

pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)
HOURS = 3


def reference(rows: int = 1500, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.normal(40, 10, rows).round(1),
            "income": rng.normal(50_000, 8_000, rows).round(2),
            "region": rng.choice(["north", "south"], rows, p=[0.6, 0.4]),
            "prediction": rng.choice(["approve", "deny"], rows),
        }
    )


@pytest.fixture
def version(model_a):
    dataset = registry.dataset_upload(
        model=model_a,
        actor=model_a.owner,
        upload=factories.csv_upload(reference().to_csv(index=False)),
        name="training",
        kind="training",
    )
    return factories.model_version(model=model_a, training_datasets=[dataset.pk])


def deploy(version, name: str, **fields):
    return factories.deployment(
        version=version, endpoint=f"https://serving.example.org/{name}/predict", **fields
    )


def start_hour() -> dt.datetime:
    return hourly.floor_hour(timezone.now()) - (HOURS + 1) * HOUR


def events(start: dt.datetime, per_hour: int = 120, seed: int = 5) -> pd.DataFrame:
    """`per_hour` events in each of HOURS hours, shifted from the reference (income drifts),
    with every health column and some missing values."""
    rows = HOURS * per_hour
    frame = reference(rows, seed=seed)
    rng = np.random.default_rng(seed)
    frame["income"] += 6_000
    frame.loc[::17, "income"] = np.nan
    frame.loc[::23, "region"] = None
    seconds = np.sort(rng.integers(0, HOURS * 3600, rows))
    frame["timestamp"] = [start + dt.timedelta(seconds=int(s)) for s in seconds]
    frame["request_id"] = [f"q-{i}" for i in range(rows)]
    frame["latency_ms"] = rng.lognormal(3, 0.6, rows).round(3)
    frame["status"] = np.where(rng.random(rows) < 0.05, "error", "ok")
    frame["cache_hit"] = pd.Series(rng.choice([True, False, None], rows), dtype=object)
    frame["cpu"] = rng.uniform(0.1, 0.9, rows).round(3)
    frame["memory"] = np.where(rng.random(rows) < 0.1, np.nan, 300.0)
    return frame


def wire(frame: pd.DataFrame) -> list[dict]:
    """The rows as the raw predictions endpoint takes them."""
    out = []
    for row in frame.to_dict("records"):
        features = {
            name: (None if pd.isna(row[name]) else row[name])
            for name in ("age", "income", "region")
        }
        event = {
            "request_id": row["request_id"],
            "timestamp": row["timestamp"].isoformat(),
            "features": features,
            "prediction": row["prediction"],
            "latency_ms": row["latency_ms"],
            "status": row["status"],
            "cpu": row["cpu"],
        }
        if row["cache_hit"] is not None:
            event["cache_hit"] = row["cache_hit"]
        if not pd.isna(row["memory"]):
            event["memory"] = row["memory"]
        if "score" in row:
            event["score"] = row["score"]
        out.append(event)
    return out


def labelled_events(start: dt.datetime) -> pd.DataFrame:
    """`events` with a score each and, for about 70 % of them, a true label ("approve" more
    likely with a higher score); the others have no ground truth yet."""
    frame = events(start)
    rng = np.random.default_rng(11)
    frame["score"] = rng.uniform(0, 1, len(frame)).round(4)
    truth = np.where(rng.uniform(0, 1, len(frame)) < frame["score"], "approve", "deny")
    frame["label"] = pd.Series(truth, dtype=object).where(rng.random(len(frame)) < 0.7, None)
    return frame


def post_ground_truth(client, deployment, frame: pd.DataFrame) -> None:
    known = frame.dropna(subset=["label"])
    rows = known[["request_id", "label"]].to_dict("records")
    response = client.post(
        f"/api/v1/deployments/{deployment.pk}/ground-truth/",
        data=json.dumps(rows),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content


def performance(deployment) -> dict:
    return {
        row.day: (row.predictions, row.labelled, row.metrics)
        for row in DailyPerformance.objects.filter(deployment=deployment)
    }


def post_raw(client, deployment, frame: pd.DataFrame) -> None:
    response = client.post(
        f"/api/v1/deployments/{deployment.pk}/predictions/",
        data=json.dumps(wire(frame)),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content


def layouts(client, version) -> dict:
    response = client.get(f"/api/v1/versions/{version.pk}/layouts/")
    assert response.status_code == 200, response.content
    return response.json()


def post_summaries(client, deployment, body: dict):
    return client.post(
        f"/api/v1/deployments/{deployment.pk}/summaries/",
        data=json.dumps(body),
        content_type="application/json",
    )


def post_hours(
    client,
    deployment,
    frame,
    given: dict,
    source: str | None = None,
    *,
    packed: bool = True,
    **decision,
) -> dict:
    hours = hourly_summaries(frame, given, packed=packed, **decision)
    body = {"format": 1, "layout_digest": given["digest"], "hours": hours}
    if source:
        body["source"] = source
    response = post_summaries(client, deployment, body)
    assert response.status_code == 200, response.content
    return response.json()


def monitor(deployment, start: dt.datetime) -> None:
    jobs.deployment_monitor(deployment=deployment, start=start, end=start + HOURS * HOUR)


def hourly_rows(deployment) -> tuple[dict, dict]:
    summaries = {
        (row.feature, row.hour): (row.summary, row.digest, row.row_count)
        for row in HourlySummary.objects.filter(deployment=deployment)
    }
    health = {
        row["hour"]: row for row in HourlyHealth.objects.filter(deployment=deployment).values()
    }
    figures = [f for f in HOURLY_FIELDS if f != "hour"]
    return summaries, {h: {f: row[f] for f in figures} for h, row in health.items()}


def drift(deployment) -> dict:
    """Feature and prediction drift (multivariate drift needs raw rows)."""
    return {
        row.feature: (row.method, row.statistic, row.p_value, row.drifted, row.current_digest)
        for row in DriftResult.objects.filter(deployment=deployment).exclude(kind="multivariate")
    }


# --- the layouts ------------------------------------------------------------------------------


def test_layouts_give_every_feature_the_prediction_and_the_profile_digest(api_as, owner, version):
    given = layouts(api_as(owner), version)
    profile = version.reference_profile
    assert given["format"] == 1 and given["version"] == version.pk
    assert given["digest"] == profile.digest
    assert sorted(given["features"]) == ["age", "income", "region"]
    assert given["features"]["region"] == profile.layouts["region"]
    assert given["prediction"] == profile.layouts["__prediction__"]


def test_layouts_of_a_version_without_reference_data_answer_409(api_as, owner, model_a):
    bare = factories.model_version(model=model_a)
    response = api_as(owner).get(f"/api/v1/versions/{bare.pk}/layouts/")
    assert response.status_code == 409
    assert "no reference profile" in response.json()["detail"]


def test_layouts_of_an_invisible_version_answer_404(api_as, outsider, version):
    assert api_as(outsider).get(f"/api/v1/versions/{version.pk}/layouts/").status_code == 404


# --- summaries equal events -------------------------------------------------------------------


def test_summaries_give_the_same_hourly_rows_drift_and_health_as_the_events(
    api_as, owner, version, settings
):
    # Both sides on the summary path (a raw window this small would be tested exactly).
    settings.STEWARD_DRIFT_EXACT_MAX_ROWS = 0
    client = api_as(owner)
    raw, summarised = deploy(version, "raw"), deploy(version, "summaries")
    start = start_hour()
    frame = events(start)
    post_raw(client, raw, frame)
    answer = post_hours(client, summarised, frame, layouts(client, version))
    assert answer["hours"] == HOURS and answer["events"] == len(frame)
    assert answer["feature_hours"] == HOURS * 4  # three features and the prediction
    monitor(raw, start)
    monitor(summarised, start)

    raw_summaries, raw_health = hourly_rows(raw)
    posted_summaries, posted_health = hourly_rows(summarised)
    assert len(raw_summaries) == HOURS * 4 and len(raw_health) == HOURS
    assert posted_summaries == raw_summaries  # the same dicts, digests and row counts
    assert posted_health == raw_health
    assert drift(summarised) == drift(raw)
    assert drift(raw)["income"][3] is True  # the shift is seen, not a vacuous equality
    activity = DeploymentActivity.objects.get(deployment=summarised)
    assert activity.predictions == len(frame)


def test_summaries_may_leave_out_their_layouts_and_give_the_same_rows(api_as, owner, version):
    """The body's layout_digest names the layouts, so a summary may omit its own copy of
    them; stored rows leave them out either way and the rebuild re-attaches the profile's."""
    client = api_as(owner)
    whole, bare = deploy(version, "with layouts"), deploy(version, "without layouts")
    start = start_hour()
    frame = events(start)
    given = layouts(client, version)
    post_hours(client, whole, frame, given, packed=False)
    hours = hourly_summaries(frame, given, packed=False)
    for entry in hours:
        for summary in [*entry["features"].values(), entry["prediction"]]:
            del summary["layout"]
    body = {"format": 1, "layout_digest": given["digest"], "hours": hours}
    assert post_summaries(client, bare, body).status_code == 200
    stored = PostedSummary.objects.filter(deployment=whole).first()
    assert all("layout" not in summary for summary in features_of(stored.features).values())
    monitor(whole, start)
    monitor(bare, start)
    assert hourly_rows(bare) == hourly_rows(whole)
    assert len(hourly_rows(whole)[0]) == HOURS * 4


def test_a_summary_carrying_another_layout_answers_400_naming_it(api_as, owner, version):
    client = api_as(owner)
    deployment = deploy(version, "other layout")
    given = layouts(client, version)
    hours = hourly_summaries(events(start_hour()), given, packed=False)
    hours[2]["features"]["income"]["layout"]["edges"][3] += 0.5
    hours[0]["features"]["region"]["layout"]["categories"].append("elsewhere")
    body = {"format": 1, "layout_digest": given["digest"], "hours": hours}
    response = post_summaries(client, deployment, body)
    assert response.status_code == 400
    errors = {error["field"]: error["message"] for error in response.json()["errors"]}
    assert set(errors) == {"hours[2].features.income", "hours[0].features.region"}
    assert all("another layout" in message for message in errors.values())
    assert not PostedSummary.objects.exists()


def assert_same_performance(got: dict, expected: dict) -> None:
    """Equal days, counts and label metrics (to 1e-9) and log loss; the binned ROC AUC, Gini
    and KS within the bound docs/monitoring.md states for them."""
    assert got.keys() == expected.keys() and expected
    for day, (predictions, labelled, figures) in expected.items():
        assert got[day][:2] == (predictions, labelled)
        other = got[day][2]
        assert other.keys() == figures.keys()
        for name in ("accuracy", "precision", "recall", "f1", "log_loss"):
            assert other[name] == pytest.approx(figures[name], abs=1e-9), name
        for name in ("roc_auc", "ks"):
            assert other[name] == pytest.approx(figures[name], abs=0.01), name


def decided(deployment, owner) -> dict:
    """The deployment's positive label set to "approve": its decision for summary mode."""
    performance_services.monitoring_settings_update(
        deployment=deployment, actor=owner, positive_label="approve"
    )
    return {"positive_label": "approve", "threshold": float(deployment.decision_threshold or 0.5)}


def test_summaries_with_outcomes_give_the_same_daily_performance_as_events_and_labels(
    api_as, owner, version
):
    client = api_as(owner)
    raw = deploy(version, "raw-labelled", decision_threshold="0.4")
    summarised = deploy(version, "summaries-labelled", decision_threshold="0.4")
    start = start_hour()
    frame = labelled_events(start)
    decided(raw, owner)
    decision = decided(summarised, owner)
    post_raw(client, raw, frame)
    post_ground_truth(client, raw, frame)
    answer = post_hours(client, summarised, frame, layouts(client, version), **decision)
    assert answer["hours"] == HOURS
    monitor(raw, start)
    monitor(summarised, start)
    expected = performance(raw)
    assert sum(labelled for _, labelled, _ in expected.values()) > 200
    assert_same_performance(performance(summarised), expected)
    # The single-day service gives the same figures as the job's batch over days.
    for day in expected:
        row = performance_services.daily_performance_compute(deployment=summarised, day=day)
        assert (row.predictions, row.labelled) == expected[day][:2]
    assert_same_performance(performance(summarised), expected)


def test_a_day_fed_half_raw_and_half_summaries_has_the_performance_of_all_raw(
    api_as, owner, version
):
    client = api_as(owner)
    whole = deploy(version, "whole-labelled", decision_threshold="0.5")
    mixed = deploy(version, "mixed-labelled", decision_threshold="0.5")
    start = start_hour()
    frame = labelled_events(start)
    decided(whole, owner)
    decision = decided(mixed, owner)
    post_raw(client, whole, frame)
    post_ground_truth(client, whole, frame)
    half = frame.index % 2 == 0
    post_raw(client, mixed, frame[half])
    post_ground_truth(client, mixed, frame[half])
    post_hours(client, mixed, frame[~half], layouts(client, version), **decision)
    monitor(whole, start)
    monitor(mixed, start)
    assert_same_performance(performance(mixed), performance(whole))


def test_posting_outcomes_for_hours_already_built_recomputes_their_day(api_as, owner, version):
    client = api_as(owner)
    deployment = deploy(version, "late-outcomes")
    decision = decided(deployment, owner)
    start = start_hour()
    frame = labelled_events(start)
    given = layouts(client, version)
    post_hours(client, deployment, frame.drop(columns="label"), given, source="host", **decision)
    monitor(deployment, start)
    assert all(labelled == 0 for _, labelled, _ in performance(deployment).values())
    # The same source posts its hours again, now with their outcomes: the day is redone.
    post_hours(client, deployment, frame, given, source="host", **decision)
    monitor(deployment, start)
    labelled = sum(n for _, n, _ in performance(deployment).values())
    assert labelled == int((frame["label"].notna() & (frame["status"] == "ok")).sum())
    assert all(
        figures.get("accuracy") is not None for *_, figures in performance(deployment).values()
    )


def test_a_rebuild_merges_events_and_posted_summaries_of_the_same_hours(api_as, owner, version):
    client = api_as(owner)
    whole, mixed = deploy(version, "whole"), deploy(version, "mixed")
    start = start_hour()
    frame = events(start)
    post_raw(client, whole, frame)
    half = frame.index % 2 == 0
    post_raw(client, mixed, frame[half])
    post_hours(client, mixed, frame[~half], layouts(client, version))
    monitor(whole, start)
    monitor(mixed, start)
    for _ in range(2):  # rebuilding again neither loses nor doubles the posted part
        expected, expected_health = hourly_rows(whole)
        got, got_health = hourly_rows(mixed)
        assert got.keys() == expected.keys()
        for key, (summary, _, count) in expected.items():
            other = got[key][0]
            assert got[key][2] == count
            assert other.get("counts") == summary.get("counts")
            assert other.get("missing") == summary.get("missing")
            if "sum" in summary:
                assert other["sum"] == pytest.approx(summary["sum"], rel=1e-12)
                assert other["m2"] == pytest.approx(summary["m2"], rel=1e-9)
                assert other["sample"] == summary["sample"]
        for hour, figures in expected_health.items():
            assert got_health[hour] == pytest.approx(figures, rel=1e-12)
        staleness.hours_mark_stale(deployment_id=mixed.pk, hours=[start, start + HOUR])
        monitor(mixed, start)


def test_reposting_an_hour_replaces_it_and_another_source_adds_to_it(api_as, owner, version):
    client = api_as(owner)
    deployment = deploy(version, "repost")
    start = start_hour()
    frame = events(start)
    given = layouts(client, version)
    first = post_hours(client, deployment, frame, given, source="host-1")
    again = post_hours(client, deployment, frame, given, source="host-1")
    assert (first["replaced"], again["replaced"]) == (0, HOURS)
    monitor(deployment, start)
    health = HourlyHealth.objects.filter(deployment=deployment)
    assert sum(row.count for row in health) == len(frame)
    other = events(start, per_hour=10, seed=9)
    other["request_id"] = "o-" + other["request_id"]
    post_hours(client, deployment, other, given, source="host-2")
    assert StaleHour.objects.filter(deployment=deployment).count() == HOURS
    monitor(deployment, start)
    assert sum(row.count for row in health.all()) == len(frame) + len(other)
    assert DeploymentActivity.objects.get(deployment=deployment).predictions == len(frame) + len(
        other
    )
    assert PostedSummary.objects.filter(deployment=deployment).count() == 2 * HOURS
    entry = AuditEvent.objects.filter(action="monitoring.summaries.posted").last()
    assert entry.after["source"] == "host-2" and entry.after["hours"] == HOURS


# --- refusals ---------------------------------------------------------------------------------


def test_a_wrong_layout_digest_answers_409_naming_the_layouts(api_as, owner, version):
    client = api_as(owner)
    deployment = deploy(version, "wrong")
    given = layouts(client, version)
    hours = hourly_summaries(events(start_hour()), given)
    response = post_summaries(
        client, deployment, {"format": 1, "layout_digest": "f" * 64, "hours": hours}
    )
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "f" * 64 in detail and given["digest"] in detail
    assert f"/versions/{version.pk}/layouts/" in detail
    assert not PostedSummary.objects.exists()


def test_malformed_hours_answer_400_naming_the_field_and_row(api_as, owner, version):
    client = api_as(owner)
    deployment = deploy(version, "bad")
    given = layouts(client, version)
    hours = hourly_summaries(events(start_hour()), given, packed=False)
    hours[1]["features"]["age"]["counts"][0] = -1
    hours[2]["hour"] = hours[2]["hour"].replace(":00:00Z", ":30:00Z")
    hours[0]["features"]["region"]["missing"] += 1
    hours[0]["health"]["errors"] = hours[0]["count"] + 1
    del hours[1]["features"]["income"]
    body = {"format": 1, "layout_digest": given["digest"], "hours": hours}
    response = post_summaries(client, deployment, body)
    assert response.status_code == 400
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {
        "hours[0].features.region",
        "hours[0].health.errors",
        "hours[1].features.age",
        "hours[1].features.income",
        "hours[2].hour",
    }
    assert "hours[1].features.age: counts must be" in response.json()["detail"]
    assert not PostedSummary.objects.exists() and not StaleHour.objects.exists()


def test_bad_performance_counts_answer_400_naming_the_hour_and_field(api_as, owner, version):
    client = api_as(owner)
    deployment = deploy(version, "bad-performance")
    given = layouts(client, version)
    hours = hourly_summaries(labelled_events(start_hour()), given, positive_label="approve")
    assert all("scores" in hour["performance"] for hour in hours)
    hours[0]["performance"]["scores"]["positive"] = [1] * 3
    hours[1]["performance"]["scores"]["log_loss_sum"] = -1.0
    hours[2]["performance"]["errors"] = {"n": 1}
    body = {"format": 1, "layout_digest": given["digest"], "hours": hours}
    response = post_summaries(client, deployment, body)
    assert response.status_code == 400
    assert {(e["field"], e["message"]) for e in response.json()["errors"]} == {
        ("hours[0].performance.scores.positive", "must be 200 non-negative integer counts"),
        ("hours[1].performance.scores.log_loss_sum", "must be a finite non-negative number"),
        (
            "hours[2].performance.errors",
            "a classifier's hours carry confusion counts, not errors",
        ),
    }
    assert not PostedSummary.objects.exists() and not StaleHour.objects.exists()


def test_confusion_counts_beyond_labelled_and_score_bins_that_disagree_are_refused(
    api_as, owner, version
):
    client = api_as(owner)
    deployment = deploy(version, "bad-confusion")
    given = layouts(client, version)
    hours = hourly_summaries(labelled_events(start_hour()), given, positive_label="approve")
    hours[0]["performance"]["labelled"] = 1
    hours[1]["performance"]["scores"]["negative"][0] += 1
    hours[2]["performance"]["confusion"]["approve"] = {"deny": -2}
    body = {"format": 1, "layout_digest": given["digest"], "hours": hours}
    errors = post_summaries(client, deployment, body).json()["errors"]
    assert {(e["field"], e["message"]) for e in errors} == {
        ("hours[0].performance.confusion", "its counts cannot exceed labelled"),
        ("hours[1].performance.scores", "its counts must add up to the confusion's counts"),
        ("hours[2].performance.confusion.approve", "must map predicted labels to counts"),
    }
    assert not PostedSummary.objects.exists()


def regression_version(owner):
    """A regression model's version with reference data (no prediction column)."""
    regression = factories.registered_model(owner=owner, name="Prices", task="regression")
    dataset = registry.dataset_upload(
        model=regression,
        actor=owner,
        upload=factories.csv_upload(reference().drop(columns="prediction").to_csv(index=False)),
        name="training",
        kind="training",
    )
    return factories.model_version(model=regression, training_datasets=[dataset.pk])


def regression_events(start: dt.datetime) -> pd.DataFrame:
    """`events` with a predicted price as score and, for about 70 % of them, the true price."""
    frame = events(start).drop(columns="prediction")
    rng = np.random.default_rng(12)
    frame["score"] = rng.normal(100, 20, len(frame)).round(2)
    truth = (frame["score"] + rng.normal(0, 15, len(frame))).round(2)
    frame["value"] = truth.where(rng.random(len(frame)) < 0.7)
    return frame


def test_a_regressions_summaries_give_the_same_errors_as_events_and_values(api_as, owner):
    client = api_as(owner)
    version = regression_version(owner)
    raw, summarised = deploy(version, "prices-raw"), deploy(version, "prices-summaries")
    start = start_hour()
    frame = regression_events(start)
    wired = wire(frame.assign(prediction=None))
    response = client.post(
        f"/api/v1/deployments/{raw.pk}/predictions/",
        data=json.dumps(wired),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    known = frame.dropna(subset=["value"])[["request_id", "value"]].to_dict("records")
    response = client.post(
        f"/api/v1/deployments/{raw.pk}/ground-truth/",
        data=json.dumps(known),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    post_hours(client, summarised, frame, layouts(client, version))
    monitor(raw, start)
    monitor(summarised, start)
    expected, got = performance(raw), performance(summarised)
    assert got.keys() == expected.keys() and expected
    for day, (predictions, labelled, figures) in expected.items():
        assert got[day][:2] == (predictions, labelled) and labelled > 0
        assert figures.keys() == {"mae", "rmse", "r2", "mape"} == got[day][2].keys()
        for name, value in figures.items():
            assert got[day][2][name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


def test_a_regression_models_hours_are_checked_for_error_sums(api_as, owner):
    deployment = deploy(regression_version(owner), "prices")
    client = api_as(owner)
    given = layouts(client, deployment.version)
    assert given["task"] == "regression"
    frame = events(start_hour()).drop(columns="prediction")
    frame["score"], frame["value"] = 10.0, np.linspace(0, 20, len(frame))
    hours = hourly_summaries(frame, given)
    assert hours[0]["performance"]["errors"]["n"] > 0
    hours[0]["performance"]["errors"]["squared_sum"] = float("-1")
    hours[1]["performance"]["confusion"] = {"a": {"a": 1}}
    hours[2]["performance"]["errors"]["n"] = hours[2]["performance"]["labelled"] + 1
    body = {"format": 1, "layout_digest": given["digest"], "hours": hours}
    errors = post_summaries(client, deployment, body).json()["errors"]
    assert {(e["field"], e["message"]) for e in errors} == {
        ("hours[0].performance.errors.squared_sum", "must be a finite non-negative number"),
        (
            "hours[1].performance.confusion",
            "a regression model's hours carry errors, not confusion",
        ),
        ("hours[2].performance.errors.n", "must be a non-negative integer, at most labelled"),
    }
    assert not PostedSummary.objects.exists()


def test_future_repeated_and_empty_hours_are_refused(api_as, owner, version):
    client = api_as(owner)
    deployment = deploy(version, "future")
    given = layouts(client, version)
    hours = hourly_summaries(events(start_hour()), given)
    future = dict(hours[0], hour=(hourly.floor_hour(timezone.now()) + 2 * HOUR).isoformat())
    body = {"format": 1, "layout_digest": given["digest"], "hours": [hours[0], hours[0], future]}
    errors = post_summaries(client, deployment, body).json()["errors"]
    assert {(e["field"], e["message"]) for e in errors} == {
        ("hours[1].hour", "repeats hours[0]"),
        ("hours[2].hour", "is in the future"),
    }
    body = {"format": 1, "layout_digest": given["digest"], "hours": []}
    assert post_summaries(client, deployment, body).status_code == 400
    body = {"format": 2, "layout_digest": given["digest"], "hours": hours}
    assert post_summaries(client, deployment, body).json()["errors"][0]["field"] == "format"


def test_summaries_for_an_invisible_deployment_answer_404(api_as, outsider, version):
    deployment = deploy(version, "perm")
    body = {"format": 1, "layout_digest": "x", "hours": []}
    assert post_summaries(api_as(outsider), deployment, body).status_code == 404
