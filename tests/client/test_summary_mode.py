"""The client's summary mode against a live Steward: layouts, posted hours, the logger that
posts summaries instead of events, and the refusals the client surfaces."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from django.utils import timezone
from steward_client import Conflict
from steward_client.summary_mode import hourly_summaries

from monitoring.models import HourlyHealth, HourlySummary, PostedSummary
from monitoring.rollups import hourly, jobs
from monitoring.rollups.posted import features_of
from registry import services as registry
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)
HOUR = dt.timedelta(hours=1)


def reference(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.normal(40, 10, rows).round(1),
            "income": rng.normal(50_000, 8_000, rows).round(2),
            "region": rng.choice(["north", "south"], rows),
            "prediction": rng.choice(["approve", "deny"], rows),
        }
    )


@pytest.fixture
def deployment(owner):
    model = factories.registered_model(owner=owner)
    dataset = registry.dataset_upload(
        model=model,
        actor=owner,
        upload=factories.csv_upload(reference(800, 1).to_csv(index=False)),
        name="training",
        kind="training",
    )
    version = factories.model_version(model=model, training_datasets=[dataset.pk])
    return factories.deployment(version=version)


def rows(start: dt.datetime, n: int = 240) -> pd.DataFrame:
    frame = reference(n, 4)
    frame["timestamp"] = [start + dt.timedelta(seconds=int(s)) for s in np.arange(n) * 30]
    frame["request_id"] = [f"c-{i}" for i in range(n)]
    frame["latency_ms"] = np.linspace(5, 50, n)
    return frame


def test_hours_built_locally_are_posted_and_become_hourly_rows(steward, deployment):
    layouts = steward.layouts(deployment.version_id)
    start = hourly.floor_hour(timezone.now()) - 3 * HOUR
    frame = rows(start)
    answer = steward.post_summaries(
        deployment.pk, layouts["digest"], hourly_summaries(frame, layouts)
    )
    assert answer["hours"] == 2 and answer["events"] == len(frame)
    jobs.deployment_monitor(deployment=deployment, start=start, end=start + 2 * HOUR)
    assert sum(HourlyHealth.objects.filter(deployment=deployment).values_list("count", flat=True))
    assert HourlySummary.objects.filter(deployment=deployment).count() == 2 * 4


def test_the_logger_in_summary_mode_posts_hours_not_events(steward, deployment):
    start = hourly.floor_hour(timezone.now()) - 3 * HOUR
    frame = rows(start)
    with steward.summary_logger(deployment.pk, source="host-a", flush_rows=100) as logger:
        for row in frame.to_dict("records"):
            logger.log(
                row["request_id"],
                {name: row[name] for name in ("age", "income", "region")},
                prediction=row["prediction"],
                latency_ms=row["latency_ms"],
                timestamp=row["timestamp"],
            )
    posted = PostedSummary.objects.filter(deployment=deployment, source="host-a")
    assert sorted(posted.values_list("count", flat=True)) == [120, 120]
    # Posted in pieces and merged on the host: the same counts as the whole hour at once.
    whole = {
        entry["hour"]: entry for entry in hourly_summaries(frame, logger.layouts, packed=False)
    }
    for row in posted:
        entry = whole[row.hour.strftime("%Y-%m-%dT%H:00:00Z")]
        stored = features_of(row.features)
        for name, summary in entry["features"].items():
            assert stored[name]["counts"] == summary["counts"]
        assert row.health["latency"]["buckets"] == entry["health"]["latency"]["buckets"]


def test_a_stale_layout_digest_is_a_conflict_for_the_client(steward, deployment):
    layouts = steward.layouts(deployment.version_id)
    frame = rows(hourly.floor_hour(timezone.now()) - 3 * HOUR)
    with pytest.raises(Conflict, match="layouts"):
        steward.post_summaries(deployment.pk, "0" * 64, hourly_summaries(frame, layouts))


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """Scores, and true labels for about two rows in three ("approve" likelier with a higher
    score); the rest have no ground truth yet."""
    rng = np.random.default_rng(8)
    frame = frame.assign(score=rng.uniform(0, 1, len(frame)).round(4))
    truth = np.where(rng.uniform(0, 1, len(frame)) < frame["score"], "approve", "deny")
    return frame.assign(label=pd.Series(truth, dtype=object).where(rng.random(len(frame)) < 0.67))


def twins(deployment, steward) -> tuple:
    """Two deployments of the fixture's version deciding alike (threshold 0.45, positive
    "approve"): one fed raw, one fed summaries."""
    pair = tuple(
        factories.deployment(
            version=deployment.version,
            endpoint=f"https://serving.example.org/{name}/predict",
            decision_threshold="0.45",
        )
        for name in ("raw-twin", "summary-twin")
    )
    for twin in pair:
        steward.monitoring_settings(twin.pk, positive_label="approve")
    return pair


def log_raw(steward, deployment_id: int, frame: pd.DataFrame) -> None:
    events = [
        {
            "request_id": row["request_id"],
            "timestamp": row["timestamp"].isoformat(),
            "features": {name: row[name] for name in ("age", "income", "region")},
            "prediction": row["prediction"],
            "score": row["score"],
            "latency_ms": row["latency_ms"],
        }
        for row in frame.to_dict("records")
    ]
    steward.log_predictions(deployment_id, events)
    known = frame.dropna(subset=["label"])
    steward.post_ground_truth(deployment_id, known[["request_id", "label"]].to_dict("records"))


def performance_of(steward, deployment_id: int) -> dict:
    return {row["day"]: row for row in steward.performance(deployment_id, days=3)}


def assert_same(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys() and expected
    for day, row in expected.items():
        assert (got[day]["predictions"], got[day]["labelled"]) == (
            row["predictions"],
            row["labelled"],
        )
        assert row["labelled"] > 0
        for name in ("accuracy", "precision", "recall", "f1", "log_loss"):
            assert got[day]["metrics"][name] == pytest.approx(row["metrics"][name], abs=1e-9)
        assert got[day]["metrics"]["roc_auc"] == pytest.approx(row["metrics"]["roc_auc"], abs=0.01)


def test_hours_with_labels_give_the_performance_of_the_same_rows_logged_raw(steward, deployment):
    raw, deployment = twins(deployment, steward)
    decision = steward.performance_settings(deployment.pk)
    assert decision == {"positive_label": "approve", "threshold": 0.45}
    start = hourly.floor_hour(timezone.now()) - 3 * HOUR
    frame = labelled(rows(start))
    log_raw(steward, raw.pk, frame)
    layouts = steward.layouts(deployment.version_id)
    hours = hourly_summaries(frame, layouts, **decision)
    assert all("scores" in hour["performance"] for hour in hours)
    steward.post_summaries(deployment.pk, layouts["digest"], hours)
    for target in (raw, deployment):
        target.refresh_from_db()
        jobs.deployment_monitor(deployment=target, start=start, end=start + 2 * HOUR)
    assert_same(performance_of(steward, deployment.pk), performance_of(steward, raw.pk))


def test_the_summary_logger_posts_the_performance_of_rows_logged_with_labels(steward, deployment):
    raw, deployment = twins(deployment, steward)
    start = hourly.floor_hour(timezone.now()) - 3 * HOUR
    frame = labelled(rows(start))
    log_raw(steward, raw.pk, frame)
    with steward.summary_logger(deployment.pk, source="host-a", flush_rows=70) as logger:
        for row in frame.to_dict("records"):
            logger.log(
                row["request_id"],
                {name: row[name] for name in ("age", "income", "region")},
                prediction=row["prediction"],
                score=row["score"],
                latency_ms=row["latency_ms"],
                timestamp=row["timestamp"],
                label=row["label"],
            )
    for target in (raw, deployment):
        target.refresh_from_db()
        jobs.deployment_monitor(deployment=target, start=start, end=start + 2 * HOUR)
    assert_same(performance_of(steward, deployment.pk), performance_of(steward, raw.pk))
