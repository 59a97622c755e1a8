"""Stale hours: which (deployment, UTC hour) rollups no longer match the stored rows.

Ingestion marks every hour a batch touched, in the batch's own transaction, so no stored
event escapes the rollups however late it arrives or however old it is; ground truth marks
the hours of the predictions it labels (their day's performance changes). The monitoring job
reads the marks, rebuilds those hours and removes exactly the marks it read: a mark renewed
meanwhile (a newer `marked_at`) stays for the next run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import pandas as pd
from django.db.models.functions import TruncHour
from django.utils import timezone

from monitoring.models import PredictionEvent, StaleHour

# Ground-truth request ids looked up per query (SQLite's bound-parameter limit is 32,766).
LOOKUP_CHUNK = 10_000


def hours_of(timestamps: pd.Series) -> list[dt.datetime]:
    """The distinct UTC hours of a column of timestamps, sorted."""
    stamps = pd.to_datetime(timestamps, utc=True).dropna()
    return [hour.to_pydatetime() for hour in sorted(stamps.dt.floor("h").unique())]


def hours_mark_stale(*, deployment_id: int, hours: Iterable[dt.datetime]) -> int:
    """Mark the hours stale (insert, or renew `marked_at`): one statement. Sorted, so two
    batches lock the same marks in the same order and cannot deadlock."""
    now = timezone.now()
    marks = [
        StaleHour(deployment_id=deployment_id, hour=hour, marked_at=now)
        for hour in sorted(set(hours))
    ]
    if marks:
        StaleHour.objects.bulk_create(
            marks,
            update_conflicts=True,
            unique_fields=["deployment", "hour"],
            update_fields=["marked_at"],
        )
    return len(marks)


def prediction_hours(*, deployment_id: int, request_ids: Sequence[str]) -> list[dt.datetime]:
    """The hours of the deployment's stored predictions with these request ids."""
    hours: set[dt.datetime] = set()
    for offset in range(0, len(request_ids), LOOKUP_CHUNK):
        chunk = list(request_ids[offset : offset + LOOKUP_CHUNK])
        hours.update(
            PredictionEvent.objects.filter(deployment_id=deployment_id, request_id__in=chunk)
            .annotate(at=TruncHour("timestamp", tzinfo=dt.UTC))
            .order_by()
            .values_list("at", flat=True)
            .distinct()
        )
    return sorted(hours)


def stale_marks(*, deployment_id: int) -> dict[dt.datetime, dt.datetime]:
    """{hour: marked_at} of the deployment's stale hours."""
    return dict(
        StaleHour.objects.filter(deployment_id=deployment_id).values_list("hour", "marked_at")
    )


def marks_claim(*, deployment_id: int) -> list[dt.datetime]:
    """Take the deployment's stale marks: read, then delete exactly those hours (two
    statements, whatever their number). Call it in the transaction that rebuilds the hours,
    before reading their events: a mark renewed by a batch committed before the delete is
    taken with it, and that batch's events are then visible to the read that follows; a
    batch committing later leaves its mark for the next run."""
    hours = sorted(stale_marks(deployment_id=deployment_id))
    if hours:
        StaleHour.objects.filter(deployment_id=deployment_id, hour__in=hours).delete()
    return hours
