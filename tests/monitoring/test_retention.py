"""Raw-event retention: months go only once their hours are rolled up and verified, removal
is audited, dashboards read the same figures afterwards, and a resend of a removed request is
refused by row and field. On PostgreSQL the tables are partitioned by month."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from django.db import DatabaseError, connection, transaction

from governance.audit.models import AuditEvent
from monitoring.dashboards import deployment_selectors as dash
from monitoring.dashboards import portfolio_selectors as portfolio
from monitoring.ingestion.services import BatchRejected, ground_truth_ingest, predictions_ingest
from monitoring.jobs.tasks import run_job
from monitoring.models import (
    DailyPerformance,
    GroundTruth,
    HourlyHealth,
    HourlySummary,
    JobRun,
    PredictionEvent,
    RawTable,
    RetentionHorizon,
    StaleHour,
)
from monitoring.retention import jobs as retention_jobs
from monitoring.retention import partitions, services
from monitoring.rollups import jobs
from monitoring.rollups import quality_selectors as quality
from monitoring.rollups import selectors as rollup_selectors
from monitoring.rollups.drift import drift_compute
from registry import services as registry
from tests import factories
from tests.conftest import on_postgresql
from tests.governance.conftest import postgresql  # noqa: F401
from tests.governance.test_audit_runtime_role import runtime_role  # noqa: F401

pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)
NOW = dt.datetime(2026, 12, 5, 12, tzinfo=dt.UTC)
OLD = dt.datetime(2026, 6, 10, 8, tzinfo=dt.UTC)  # wholly older than NOW - 90 days
RECENT = dt.datetime(2026, 11, 20, 8, tzinfo=dt.UTC)
PER_HOUR = 60


def training(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.normal(40, 10, rows).round(1),
            "income": rng.normal(50_000, 8_000, rows).round(2),
            "region": rng.choice(["north", "south"], rows),
            "label": rng.choice(["0", "1"], rows),
        }
    )


@pytest.fixture
def deployment(model_a):
    data = registry.dataset_upload(
        model=model_a,
        actor=model_a.owner,
        upload=factories.csv_upload(training(600, seed=1).to_csv(index=False)),
        name="cohort",
        kind="training",
    )
    version = factories.model_version(model=model_a, training_datasets=[data.pk])
    return factories.deployment(version=version)


def body(start: dt.datetime, hours: int, prefix: str = "e") -> bytes:
    data = training(hours * PER_HOUR, seed=int(start.timestamp()) % 997)
    lines = []
    for i, row in enumerate(data.itertuples()):
        moment = start + (i // PER_HOUR) * HOUR + dt.timedelta(seconds=(i % PER_HOUR) * 7)
        lines.append(
            {
                "request_id": f"{prefix}-{moment:%Y%m%d%H}-{i}",
                "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "features": {"age": row.age, "income": row.income, "region": row.region},
                "prediction": row.label,
                "score": 0.7 if row.label == "1" else 0.2,
                "latency_ms": 5.0 + i % 11,
            }
        )
    return "\n".join(json.dumps(line) for line in lines).encode()


def post(deployment, start, hours, *, on_error="reject", prefix="e"):
    return predictions_ingest(
        deployment=deployment,
        body=body(start, hours, prefix),
        content_type="application/x-ndjson",
        on_error=on_error,
        actor=deployment.version.model.owner,
    )


def label(deployment, start, hours, prefix="e"):
    """Ground truth for half of the requests posted by `post`, dated an hour later."""
    lines = [
        {
            "request_id": f"{prefix}-{start + (i // PER_HOUR) * HOUR:%Y%m%d%H}-{i}",
            "label": "1" if i % 3 else "0",
            "timestamp": (start + (i // PER_HOUR + 1) * HOUR).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        for i in range(0, hours * PER_HOUR, 2)
    ]
    return ground_truth_ingest(
        deployment=deployment,
        body="\n".join(json.dumps(line) for line in lines).encode(),
        content_type="application/x-ndjson",
        on_error="reject",
        actor=deployment.version.model.owner,
    )


def roll_up(deployment):
    """The monitoring job: rebuilds every stale hour wherever it is in time."""
    return jobs.deployment_monitor(deployment=deployment, start=RECENT - 24 * HOUR, end=RECENT)


def removals():
    return AuditEvent.objects.filter(action=services.ACTION).order_by("seq")


def apply():
    return services.raw_retention_apply(now=NOW, days=90)


def test_nothing_is_removed_while_its_hours_are_not_rolled_up(deployment):
    post(deployment, OLD, hours=2)
    label(deployment, OLD, hours=2)
    partitions.partitions_ensure(now=NOW, floor={})
    result = apply()
    kept = result[RawTable.PREDICTIONS]["kept"]
    assert list(kept) == ["2026-06"]
    assert f"deployment {deployment.pk} 2026-06-10 08:00 is marked stale" in kept["2026-06"]
    assert result[RawTable.PREDICTIONS]["removed"] == []
    # Ground truth waits for its month's predictions.
    assert result[RawTable.GROUND_TRUTH]["kept"] == {
        "2026-06": "the predictions of this month are still kept"
    }
    assert PredictionEvent.objects.count() == 2 * PER_HOUR
    assert GroundTruth.objects.count() == PER_HOUR
    assert not removals().exists() and not RetentionHorizon.objects.exists()


def test_an_hour_whose_hourly_row_is_missing_or_short_keeps_its_month(deployment):
    post(deployment, OLD, hours=2)
    roll_up(deployment)
    assert not StaleHour.objects.exists()
    HourlyHealth.objects.filter(deployment=deployment, hour=OLD).update(count=PER_HOUR - 1)
    HourlyHealth.objects.filter(deployment=deployment, hour=OLD + HOUR).delete()
    kept = apply()[RawTable.PREDICTIONS]["kept"]["2026-06"]
    assert f"2026-06-10 08:00 has {PER_HOUR} events but an hourly row of {PER_HOUR - 1}" in kept
    assert f"2026-06-10 09:00 has {PER_HOUR} events but no hourly row" in kept
    assert PredictionEvent.objects.count() == 2 * PER_HOUR and not removals().exists()


def test_a_rolled_up_month_is_removed_and_audited_recent_ones_stay(deployment):
    post(deployment, OLD, hours=2)
    label(deployment, OLD, hours=2)
    post(deployment, RECENT, hours=1, prefix="r")
    partitions.partitions_ensure(now=NOW, floor={})
    roll_up(deployment)
    result = apply()
    method = "drop partition" if on_postgresql() else "delete"
    removed = result[RawTable.PREDICTIONS]["removed"]
    assert [(r["month"], r["rows"], r["method"]) for r in removed] == [
        ("2026-06", 2 * PER_HOUR, method)
    ]
    truth = result[RawTable.GROUND_TRUTH]["removed"]
    assert [(r["month"], r["rows"]) for r in truth] == [("2026-06", PER_HOUR)]
    assert PredictionEvent.objects.count() == PER_HOUR  # the recent hour
    assert not PredictionEvent.objects.filter(timestamp__lt=RECENT).exists()
    assert not GroundTruth.objects.exists()
    entries = list(removals())
    assert [(e.after["table"], e.after["month"], e.actor_name) for e in entries] == [
        ("predictions", "2026-06", services.SYSTEM_ACTOR),
        ("ground_truth", "2026-06", services.SYSTEM_ACTOR),
    ]
    assert entries[0].after["rows"] == 2 * PER_HOUR
    assert entries[0].after["to"] == "2026-07-01T00:00:00+00:00"
    horizon = RetentionHorizon.objects.get(table=RawTable.PREDICTIONS).dropped_before
    assert horizon == dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    # Summaries stay, and a second run has nothing more to do.
    assert HourlyHealth.objects.get(deployment=deployment, hour=OLD).count == PER_HOUR
    assert HourlySummary.objects.filter(deployment=deployment, hour=OLD).exists()
    assert DailyPerformance.objects.filter(deployment=deployment, day=OLD.date()).exists()
    again = apply()
    assert again[RawTable.PREDICTIONS]["removed"] == [] and removals().count() == 2
    if on_postgresql():
        table = PredictionEvent._meta.db_table
        assert dt.datetime(2026, 6, 1, tzinfo=dt.UTC) not in partitions.partition_months(table)


def test_a_resend_of_a_removed_request_is_refused_by_row_and_field(deployment):
    post(deployment, OLD, hours=1)
    roll_up(deployment)
    apply()
    assert not PredictionEvent.objects.exists()
    with pytest.raises(BatchRejected) as refused:
        post(deployment, OLD, hours=1)
    first = refused.value.report.error_list()[0]
    assert first["row"] == 1 and first["field"] == "timestamp"
    assert "removed by retention" in first["reason"]
    # In skip mode a mixed batch stores the new rows only; the hour's summary is untouched.
    mixed = body(OLD, 1) + b"\n" + body(RECENT, 1, prefix="r")
    result = predictions_ingest(
        deployment=deployment,
        body=mixed,
        content_type="application/x-ndjson",
        on_error="skip",
        actor=deployment.version.model.owner,
    )
    assert (result.accepted, result.report.rejected_rows) == (PER_HOUR, PER_HOUR)
    assert PredictionEvent.objects.filter(timestamp__lt=RECENT).count() == 0
    assert not StaleHour.objects.filter(hour__lt=RECENT).exists()
    assert HourlyHealth.objects.get(deployment=deployment, hour=OLD).count == PER_HOUR


def test_a_resend_of_a_kept_request_is_still_stored_once(deployment):
    assert post(deployment, OLD, hours=1).accepted == PER_HOUR
    partitions.partitions_ensure(now=NOW, floor={})
    again = post(deployment, OLD, hours=1)
    assert (again.accepted, again.duplicates) == (0, PER_HOUR)
    # The same request ids sent with other timestamps (another month's partition) too.
    moved = body(OLD, 1).replace(b'"2026-06-10T', b'"2026-11-10T')
    result = predictions_ingest(
        deployment=deployment,
        body=moved,
        content_type="application/x-ndjson",
        on_error="reject",
        actor=deployment.version.model.owner,
    )
    assert (result.accepted, result.duplicates) == (0, PER_HOUR)
    assert PredictionEvent.objects.count() == PER_HOUR


def test_the_retention_and_partition_jobs_run_as_job_kinds(deployment):
    post(deployment, OLD, hours=1)
    roll_up(deployment)
    job = JobRun.objects.create(kind=retention_jobs.RETENTION_KIND, params={"days": 90})
    run_job.run(job.pk)
    job.refresh_from_db()
    assert job.state == "succeeded", job.error
    assert job.result["predictions"]["removed"][0]["month"] == "2026-06"
    ahead = JobRun.objects.create(kind=retention_jobs.PARTITIONS_KIND, params={"ahead": 3})
    run_job.run(ahead.pk)
    ahead.refresh_from_db()
    assert ahead.state == "succeeded", ahead.error


# --- PostgreSQL: partitions ------------------------------------------------------------------

postgresql_only = pytest.mark.skipif(
    not on_postgresql(), reason="declarative partitioning is PostgreSQL's"
)


@postgresql_only
def test_both_tables_are_partitioned_by_month_with_a_default_partition():
    for model in (PredictionEvent, GroundTruth):
        table = model._meta.db_table
        assert partitions.is_partitioned(table)
        months = partitions.partition_months(table)
        assert partitions.month_floor(dt.datetime.now(dt.UTC)) in months
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s)", [partitions.default_name(table)])
            assert cursor.fetchone()[0] is not None


@postgresql_only
def test_partitions_are_created_ahead_and_take_their_rows_out_of_the_default(deployment):
    table = PredictionEvent._meta.db_table
    far = dt.datetime(2031, 3, 4, tzinfo=dt.UTC)
    PredictionEvent.objects.create(deployment=deployment, request_id="far", timestamp=far)
    created = partitions.partitions_ensure(now=NOW, ahead=3, floor={})
    assert (
        partitions.partition_name(table, dt.datetime(2027, 3, 1, tzinfo=dt.UTC))
        in created[RawTable.PREDICTIONS]
    )
    assert partitions.partition_name(table, far) in created[RawTable.PREDICTIONS]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {table} WHERE request_id = 'far'")  # noqa: S608
        assert cursor.fetchone()[0] == partitions.partition_name(table, far)
    again = partitions.partitions_ensure(now=NOW, ahead=3, floor={})
    assert again[RawTable.PREDICTIONS] == []


@postgresql_only
def test_dropping_an_expired_partition_leaves_every_dashboard_figure_unchanged(deployment, owner):
    post(deployment, OLD, hours=3)
    label(deployment, OLD, hours=3)
    post(deployment, OLD + 24 * HOUR, hours=2, prefix="n")
    partitions.partitions_ensure(now=NOW, floor={})
    first, last = OLD.date() - dt.timedelta(days=2), OLD.date() + dt.timedelta(days=3)
    start, end = OLD - 24 * HOUR, OLD + 72 * HOUR

    def figures():
        return {
            "health": dash.health_range(deployment=deployment, first=first, last=last),
            "performance": [
                (p.day, p.predictions, p.labelled, p.metrics)
                for p in dash.performance_range(deployment=deployment, first=first, last=last)
            ],
            "performance_view": dash.performance_view(
                deployment=deployment, metric="accuracy", first=first, last=last
            ),
            "drift": [
                (r.feature, r.window_start, r.statistic, r.p_value, r.drifted, r.current_digest)
                for r in rollup_selectors.drift_latest(deployment=deployment, start=start, end=end)
            ],
            "drift_view": dash.drift_view(deployment=deployment),
            "distribution": dash.distribution_view(
                deployment=deployment, feature="age", first=first, last=last
            ),
            "quality": quality.quality_window(deployment=deployment, start=start, end=end),
            "detail": {
                # computed_at moves with every monitoring run; the verdicts must not.
                "status": [
                    {k: v for k, v in axis.items() if k != "computed_at"}
                    for axis in dash.status_levels(deployment=deployment)
                ],
                "activity": (
                    dash.activity_get(deployment=deployment).predictions,
                    dash.activity_get(deployment=deployment).first_prediction_at,
                ),
            },
            "portfolio": portfolio.portfolio_summary(user=owner),
            "inventory": [
                (d.pk, getattr(d, "predictions", None))
                for d in portfolio.inventory_list(user=owner)
            ],
            "total": portfolio.prediction_total(user=owner),
        }

    # A stored drift window over the old hours: the monitoring run recomputes it with the
    # hours it rebuilds, and after the drop it is recomputed again from the summaries alone.
    drift_compute(deployment, start, end)
    roll_up(deployment)
    before = figures()
    assert before["health"]["hours"] == 5 and before["performance"] and before["drift"]
    result = apply()
    assert result[RawTable.PREDICTIONS]["removed"][0]["method"] == "drop partition"
    assert not PredictionEvent.objects.exists()
    roll_up(deployment)  # the next monitoring run finds nothing to rebuild
    drift_compute(deployment, start, end)
    after = figures()
    for key, value in before.items():
        assert after[key] == value, repr((key, after[key], value))


def refused(sql: str, params: list[object], match: str) -> None:
    with pytest.raises(DatabaseError, match=match), transaction.atomic(), connection.cursor() as c:
        c.execute(sql, params)


@postgresql_only
@pytest.mark.usefixtures("runtime_role")
def test_the_runtime_role_runs_retention_through_the_owner_function(deployment):
    """steward_runtime owns no table, so it creates and drops partitions only through
    steward_raw_partition, and only those of the raw tables."""
    post(deployment, OLD, hours=1)
    assert partitions.partitions_ensure(now=NOW, floor={})[RawTable.PREDICTIONS]
    roll_up(deployment)
    assert apply()[RawTable.PREDICTIONS]["removed"][0]["method"] == "drop partition"
    default = partitions.default_name(PredictionEvent._meta.db_table)
    refused(f"DROP TABLE {default}", [], "must be owner")
    refused(
        "SELECT steward_raw_partition('drop', 'governance_auditevent', %s)",
        [OLD.replace(day=1, hour=0)],
        "not a raw-event table",
    )
