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
    whole = {entry["hour"]: entry for entry in hourly_summaries(frame, logger.layouts)}
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
