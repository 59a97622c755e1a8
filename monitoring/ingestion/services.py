"""Ingest batches of prediction events and ground truth for a deployment.

One batch is one transaction: the rows and its audit entry are written together or not at
all. In "reject" mode any bad row refuses the whole batch before anything is written; in
"skip" mode the valid rows are stored and the rejects reported. Rows whose (deployment,
request_id) is already stored count as duplicates and are not written again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from governance import audit
from monitoring.ingestion import parsing, storage
from monitoring.ingestion.validation import (
    Report,
    refuse_before,
    validate_ground_truth,
    validate_predictions,
)
from monitoring.models import GroundTruth, PredictionEvent, RawTable
from monitoring.retention.services import ingestion_horizon
from monitoring.rollups import staleness
from registry.actors import Actor
from registry.choices import Action
from registry.models import Deployment
from registry.services.common import require_object

ON_ERROR_CHOICES = ("reject", "skip")
DEFAULT_MAX_BATCH_ROWS = 50_000
MAX_ERRORS_SHOWN = 1_000


class BatchTooLarge(Exception):
    """More rows than STEWARD_MAX_BATCH_ROWS (HTTP 413)."""


class BatchRejected(Exception):
    """Reject mode and at least one bad row, or no rows at all (HTTP 400); nothing stored."""

    def __init__(self, message: str, report: Report | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.report = report


@dataclass(frozen=True)
class IngestResult:
    received: int
    accepted: int
    duplicates: int
    report: Report

    def as_dict(self) -> dict[str, Any]:
        return outcome(self.report, accepted=self.accepted, duplicates=self.duplicates)


def outcome(report: Report, *, accepted: int, duplicates: int) -> dict[str, Any]:
    """The response body: counts and the per-row report (capped at MAX_ERRORS_SHOWN)."""
    return {
        "received": report.received,
        "accepted": accepted,
        "duplicates": duplicates,
        "rejected_rows": report.rejected_rows,
        "rejected": report.error_list(limit=MAX_ERRORS_SHOWN),
        "errors_truncated": len(report.errors) > MAX_ERRORS_SHOWN,
    }


def max_batch_rows() -> int:
    return int(getattr(settings, "STEWARD_MAX_BATCH_ROWS", DEFAULT_MAX_BATCH_ROWS))


def _parse(
    body: bytes, content_type: str, *, reserved: tuple[str, ...], nested: bool
) -> parsing.Batch:
    batch = parsing.parse_batch(body, content_type=content_type, reserved=reserved, nested=nested)
    limit = max_batch_rows()
    if len(batch) > limit:
        raise BatchTooLarge(
            f"the batch has {len(batch)} rows; at most {limit} are accepted per request "
            "(STEWARD_MAX_BATCH_ROWS): split it"
        )
    if len(batch) == 0:
        raise BatchRejected("the batch has no rows")
    return batch


def _store(
    *,
    deployment: Deployment,
    actor: Actor,
    report: Report,
    on_error: str,
    model: type[models.Model],
    action: str,
    fmt: str,
    rows: np.ndarray,
) -> IngestResult:
    if on_error not in ON_ERROR_CHOICES:
        raise ValueError(f"on_error must be one of {ON_ERROR_CHOICES}")
    _refuse_if_rejecting(report, on_error)
    with transaction.atomic():
        # Rows dated before the retention horizon would land in a removed month: refused.
        # The shared lock keeps the horizon where it is until the batch is stored.
        table = RawTable.PREDICTIONS if model is PredictionEvent else RawTable.GROUND_TRUTH
        horizon = ingestion_horizon(table=table)
        if horizon is not None:
            report = refuse_before(report, rows, before=pd.Timestamp(horizon))
            _refuse_if_rejecting(report, on_error)
        accepted = storage.store_frame(model=model, deployment_id=deployment.pk, frame=report.valid)
        duplicates = len(report.valid) - accepted
        if model is PredictionEvent and accepted:
            storage.activity_add(
                deployment_id=deployment.pk, added=accepted, timestamps=report.valid["timestamp"]
            )
        if accepted:
            _mark_stale(model, deployment.pk, report.valid)
        counts = {"format": fmt, "received": report.received, "accepted": accepted}
        counts |= {"duplicates": duplicates, "rejected_rows": report.rejected_rows}
        audit.record(actor=actor, action=action, target=deployment, after=counts)
    return IngestResult(report.received, accepted, duplicates, report)


def _refuse_if_rejecting(report: Report, on_error: str) -> None:
    if on_error == "reject" and len(report.errors):
        raise BatchRejected(
            f"{report.rejected_rows} of {report.received} rows are invalid; nothing was stored "
            "(send ?on_error=skip to store the valid rows)",
            report,
        )


def _mark_stale(model: type[models.Model], deployment_id: int, frame: pd.DataFrame) -> None:
    """Mark the hours the batch changes, in its transaction: its events' hours, or for ground
    truth the hours of the predictions it labels (a prediction still to come marks its own)."""
    if model is PredictionEvent:
        hours = staleness.hours_of(frame["timestamp"])
    else:
        ids = frame["request_id"].astype(str).tolist()
        hours = staleness.prediction_hours(deployment_id=deployment_id, request_ids=ids)
    staleness.hours_mark_stale(deployment_id=deployment_id, hours=hours)


def predictions_ingest(
    *, deployment: Deployment, body: bytes, content_type: str, on_error: str, actor: Actor
) -> IngestResult:
    """Validate a batch of prediction events against the deployed version's input schema and
    store the valid, new ones. Needs the "deploy" action on the deployment's model."""
    require_object(actor, Action.DEPLOY, deployment)
    batch = _parse(body, content_type, reserved=parsing.PREDICTION_FIELDS, nested=True)
    report = validate_predictions(batch, deployment.version.input_schema)
    return _store(
        deployment=deployment,
        actor=actor,
        report=report,
        on_error=on_error,
        model=PredictionEvent,
        action="monitoring.predictions.ingested",
        fmt=batch.format,
        rows=batch.rows,
    )


def ground_truth_ingest(
    *, deployment: Deployment, body: bytes, content_type: str, on_error: str, actor: Actor
) -> IngestResult:
    """Store observed outcomes keyed by request_id; the prediction may come before or after."""
    require_object(actor, Action.DEPLOY, deployment)
    batch = _parse(body, content_type, reserved=parsing.GROUND_TRUTH_FIELDS, nested=False)
    report = validate_ground_truth(batch, received_at=pd.Timestamp(timezone.now()))
    return _store(
        deployment=deployment,
        actor=actor,
        report=report,
        on_error=on_error,
        model=GroundTruth,
        action="monitoring.ground_truth.ingested",
        fmt=batch.format,
        rows=batch.rows,
    )
