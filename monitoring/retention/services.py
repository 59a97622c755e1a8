"""Raw-event retention: remove whole months of prediction events and ground truth older than
STEWARD_RAW_RETENTION_DAYS once the summaries made from them are verified, audited.

A month of predictions is removed only when (1) no stale mark is pending for any of its
hours, and (2) every (deployment, hour) holding events has its HourlyHealth row counting
exactly those events (the hourly rows are written together, in one transaction, by
`hours_build`). A month of ground truth goes only with or after the predictions of that month,
and with no stale mark pending before its end. On PostgreSQL the month's partition is
dropped (plus any stray rows of it in the default partition); elsewhere, and for months
without a partition, its rows are deleted. Each removed month moves the table's
`RetentionHorizon` and appends an audit entry in the same transaction; ingestion then refuses
rows dated before the horizon (their hours' summaries are final and would be rebuilt from
nothing). Summaries, daily performance and running totals are never touched.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Count
from django.db.models.functions import TruncHour, TruncMonth
from django.utils import timezone

from governance import audit
from governance.audit.recording import AuditActor
from monitoring.models import (
    HourlyHealth,
    PredictionEvent,
    RawTable,
    RetentionHorizon,
    StaleHour,
)
from monitoring.retention import partitions as parts

ACTION = "monitoring.raw_retention.removed"
SYSTEM_ACTOR = "system:raw_retention"
SHOWN = 5  # unverified hours named in a kept month's reason


@dataclass
class TableOutcome:
    removed: list[dict[str, Any]] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)  # month -> why it stays


def retention_days() -> int:
    return int(settings.STEWARD_RAW_RETENTION_DAYS)


def horizon_get(table: str) -> dt.datetime | None:
    return (
        RetentionHorizon.objects.filter(table=table)
        .values_list("dropped_before", flat=True)
        .first()
    )


def horizons() -> dict[str, dt.datetime]:
    return dict(RetentionHorizon.objects.values_list("table", "dropped_before"))


def ingestion_horizon(*, table: str) -> dt.datetime | None:
    """For a batch being stored: hold the raw tables' shared lock (retention waits for the
    batch, the batch for a removal in progress) and return the table's horizon."""
    parts.lock_shared()
    return horizon_get(table)


def _model(table: str) -> type[models.Model]:
    return parts.MODELS[table]


def candidate_months(table: str, cutoff: dt.datetime) -> list[dt.datetime]:
    """Months wholly before `cutoff` that may hold rows, oldest first."""
    model = _model(table)
    db_table = model._meta.db_table
    if parts.is_partitioned(db_table):
        months = set(parts.partition_months(db_table)) | set(parts.default_months(db_table))
    else:
        stamps = model._default_manager.filter(timestamp__lt=cutoff).order_by()
        months = {
            month.astimezone(dt.UTC)
            for month in stamps.annotate(m=TruncMonth("timestamp", tzinfo=dt.UTC))
            .values_list("m", flat=True)
            .distinct()
        }
    return sorted(m for m in months if parts.month_after(m) <= cutoff)


def _stale_in(start: dt.datetime, end: dt.datetime) -> list[tuple[int, dt.datetime]]:
    return list(
        StaleHour.objects.filter(hour__gte=start, hour__lt=end)
        .order_by("hour", "deployment_id")
        .values_list("deployment_id", "hour")
    )


def event_hour_counts(start: dt.datetime, end: dt.datetime) -> dict[tuple[int, dt.datetime], int]:
    """{(deployment, hour): events stored} of [start, end): one grouped query."""
    rows = (
        PredictionEvent.objects.filter(timestamp__gte=start, timestamp__lt=end)
        .annotate(at=TruncHour("timestamp", tzinfo=dt.UTC))
        .order_by()
        .values("deployment_id", "at")
        .annotate(n=Count("*"))  # no column: an index-only scan of (deployment, timestamp)
        .values_list("deployment_id", "at", "n")
    )
    return {(dep, at): n for dep, at, n in rows}


def _stale_problems(start: dt.datetime, end: dt.datetime) -> list[str]:
    return [f"deployment {d} {h:%Y-%m-%d %H}:00 is marked stale" for d, h in _stale_in(start, end)]


def predictions_unverified(start: dt.datetime, end: dt.datetime) -> tuple[int, list[str]]:
    """(events in the month, what stops it going: empty when its summaries are verified)."""
    problems = _stale_problems(start, end)
    counts = event_hour_counts(start, end)
    built = {
        (dep, hour): n
        for dep, hour, n in HourlyHealth.objects.filter(hour__gte=start, hour__lt=end).values_list(
            "deployment_id", "hour", "count"
        )
    }
    for (dep, hour), n in sorted(counts.items(), key=lambda item: (item[0][1], item[0][0])):
        have = built.get((dep, hour))
        if have != n:
            state = "no hourly row" if have is None else f"an hourly row of {have}"
            problems.append(f"deployment {dep} {hour:%Y-%m-%d %H}:00 has {n} events but {state}")
    return sum(counts.values()), problems


def ground_truth_unverified(
    start: dt.datetime, end: dt.datetime, predictions_horizon: dt.datetime | None
) -> list[str]:
    if predictions_horizon is None or predictions_horizon < end:
        return ["the predictions of this month are still kept"]
    stale = StaleHour.objects.filter(hour__lt=end).order_by("hour")
    return [
        f"deployment {d} {h:%Y-%m-%d %H}:00 is marked stale"
        for d, h in stale.values_list("deployment_id", "hour")[:SHOWN]
    ]


def month_remove(table: str, month: dt.datetime) -> tuple[str, int | None]:
    """Remove the month's rows: drop its partition (rows counted before by the caller, None
    here) or delete them. Returns (method, rows deleted). Call under the exclusive lock."""
    model = _model(table)
    db_table, end = model._meta.db_table, parts.month_after(month)
    rows = model._default_manager.filter(timestamp__gte=month, timestamp__lt=end)
    if parts.is_partitioned(db_table) and month in parts.partition_months(db_table):
        parts.partition_drop(db_table, month)
        # Rows of the month that reached the default partition before it existed.
        rows.delete()
        return "drop partition", None
    deleted, _ = rows.delete()
    return "delete", deleted


def _remove(
    table: str,
    month: dt.datetime,
    *,
    rows: int | None,
    verify: Callable[[], list[str]],
    actor: AuditActor,
    days: int,
) -> dict[str, Any] | list[str]:
    """One month in one transaction: lock, check again what can change meanwhile (stale marks),
    remove, move the horizon, audit. Returns the audit's figures, or the problems found."""
    end = parts.month_after(month)
    with transaction.atomic():
        parts.lock_exclusive()
        problems = verify()
        if problems:
            return problems
        if rows is None:
            rows = (
                _model(table)
                ._default_manager.filter(timestamp__gte=month, timestamp__lt=end)
                .count()
            )
        method, deleted = month_remove(table, month)
        RetentionHorizon.objects.update_or_create(table=table, defaults={"dropped_before": end})
        figures = {
            "table": table,
            "month": f"{month:%Y-%m}",
            "from": month.isoformat(),
            "to": end.isoformat(),
            "rows": deleted if deleted is not None else rows,
            "method": method,
            "retention_days": days,
        }
        audit.record(actor=actor, action=ACTION, after=figures)
    return figures


def raw_retention_apply(
    *,
    actor: AuditActor = SYSTEM_ACTOR,
    now: dt.datetime | None = None,
    days: int | None = None,
) -> dict[str, Any]:
    """Remove the verified months of raw events wholly older than the retention period,
    predictions first, oldest first; the first month that fails verification stops its table
    (the horizon is one instant). Returns what was removed and why the rest stays."""
    days = retention_days() if days is None else days
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    outcome: dict[str, TableOutcome] = {}

    predictions = outcome.setdefault(RawTable.PREDICTIONS, TableOutcome())
    for month in candidate_months(RawTable.PREDICTIONS, cutoff):
        end = parts.month_after(month)
        rows, problems = predictions_unverified(month, end)
        recheck = functools.partial(_stale_problems, month, end)
        result = problems or _remove(
            RawTable.PREDICTIONS, month, rows=rows, verify=recheck, actor=actor, days=days
        )
        if isinstance(result, list):
            predictions.kept[f"{month:%Y-%m}"] = _reason(result)
            break
        predictions.removed.append(result)

    truth = outcome.setdefault(RawTable.GROUND_TRUTH, TableOutcome())
    kept_from = horizon_get(RawTable.PREDICTIONS)
    for month in candidate_months(RawTable.GROUND_TRUTH, cutoff):
        end = parts.month_after(month)
        check = functools.partial(ground_truth_unverified, month, end, kept_from)
        result = check() or _remove(
            RawTable.GROUND_TRUTH, month, rows=None, verify=check, actor=actor, days=days
        )
        if isinstance(result, list):
            truth.kept[f"{month:%Y-%m}"] = _reason(result)
            break
        truth.removed.append(result)

    marks = horizons()
    return {
        "retention_days": days,
        "cutoff": cutoff.isoformat(),
        **{
            table: {
                "removed": got.removed,
                "kept": got.kept,
                "horizon": marks[table].isoformat() if table in marks else None,
            }
            for table, got in outcome.items()
        },
    }


def _reason(problems: list[str]) -> str:
    more = len(problems) - SHOWN
    text = "; ".join(problems[:SHOWN])
    return f"{text} (and {more} more)" if more > 0 else text
