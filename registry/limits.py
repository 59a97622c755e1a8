"""Caps on free text and lists: the one table the models' save check, the API's input fields
and the guard tests read. No Django model imported here.

Every TextField and JSONField of every model is either in CAPS (written from user input:
capped) or in SYSTEM_WRITTEN (written only by the application: why it needs no cap);
tests/registry/test_limits.py fails on a field in neither, so a new one gets a decision.
docs/security.md lists the caps.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

TEXT = 10_000  # a description, an intended use, a comment, a reason
EVIDENCE_TEXT = 20_000  # a readiness answer's evidence
NOTE = 5_000  # a readiness answer's note
SHORT_TEXT = 1_000  # one question, one category
RECIPIENTS = 20  # addresses on a report schedule, each at most 254 characters
TAGS = 50  # tags on a model
TAG = 50  # characters in one tag
ITEMS = 500  # entries in any other list (categories, events, groups, features of a schema)
JSON_BYTES = 64 * 1024  # any JSON document a user sends (hyperparameters, metrics, schemas)
EVENT_TEXT = 10_000  # text in an ingested prediction or outcome (checked by ingestion)

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# A NUL in any string of a value, as json.dumps writes it: the escape \u0000 after an even
# number of backslashes (an odd number would make it the text "\u0000", which is storable).
_ESCAPED_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


@dataclass(frozen=True)
class Cap:
    chars: int | None = None  # text: characters
    items: int | None = None  # JSON list or object: entries at the top level
    json_bytes: int | None = None  # JSON: size once encoded


_JSON = Cap(json_bytes=JSON_BYTES)
CAPS: dict[str, Cap] = {
    # registry
    "registry.RegisteredModel.description": Cap(chars=TEXT),
    "registry.RegisteredModel.intended_use": Cap(chars=TEXT),
    "registry.RegisteredModel.tags": Cap(items=TAGS, json_bytes=TAGS * (TAG + 4)),
    "registry.RegisteredModel.restrictions": Cap(chars=TEXT),
    "registry.RegisteredModel.risk_rationale": Cap(chars=TEXT),
    "registry.ModelVersion.description": Cap(chars=TEXT),
    "registry.ModelVersion.input_schema": Cap(items=ITEMS, json_bytes=JSON_BYTES),
    "registry.ModelVersion.hyperparameters": _JSON,
    "registry.ModelVersion.training_metrics": _JSON,
    "registry.ModelVersion.feature_importance": _JSON,
    "registry.Artifact.description": Cap(chars=TEXT),
    "registry.Dataset.description": Cap(chars=TEXT),
    "registry.Dataset.schema": Cap(items=ITEMS, json_bytes=JSON_BYTES),
    "registry.Deployment.description": Cap(chars=TEXT),
    # monitoring: ingested rows are checked in bulk by monitoring/ingestion/validation.py
    "monitoring.PredictionEvent.features": _JSON,
    "monitoring.PredictionEvent.prediction_scores": Cap(items=ITEMS, json_bytes=JSON_BYTES),
    "monitoring.PredictionEvent.prediction_label": Cap(chars=EVENT_TEXT),
    "monitoring.PredictionEvent.error": Cap(chars=EVENT_TEXT),
    "monitoring.GroundTruth.label": Cap(chars=EVENT_TEXT),
    "monitoring.MonitoringSettings.thresholds": _JSON,
    "monitoring.MonitoringSettings.drift_methods": _JSON,
    # posted hourly summaries: checked hour by hour by monitoring/rollups/posted.py
    "monitoring.PostedSummary.health": _JSON,
    "monitoring.PostedSummary.performance": _JSON,
    # governance
    "readiness.ChecklistAnswer.evidence_text": Cap(chars=EVIDENCE_TEXT),
    "readiness.ChecklistAnswer.note": Cap(chars=NOTE),
    "readiness.ChecklistTemplate.description": Cap(chars=TEXT),
    "readiness.ChecklistSection.description": Cap(chars=TEXT),
    "readiness.ChecklistItem.question": Cap(chars=SHORT_TEXT),
    "readiness.ChecklistItem.guidance": Cap(chars=TEXT),
    "readiness.ChecklistItem.required_for": Cap(items=ITEMS, json_bytes=JSON_BYTES),
    "approvals.ApprovalRequest.comment": Cap(chars=TEXT),
    "approvals.ApprovalDecision.comment": Cap(chars=TEXT),
    "approvals.ApprovalPolicyVersion.reason": Cap(chars=TEXT),
    "approvals.WebhookEndpoint.events": Cap(items=ITEMS, json_bytes=JSON_BYTES),
    "reports.ReportSchedule.recipients": Cap(chars=RECIPIENTS * 256),
    # a retraining run's reason and the result the team's trainer sends
    "retraining.RetrainingRun.reason": Cap(chars=TEXT),
    "retraining.RetrainingRun.comparison": _JSON,
    # the MLflow bridge: names an admin types; tags an MLflow server sends
    "mlflow_bridge.MlflowConnection.model_names": Cap(items=ITEMS, json_bytes=JSON_BYTES),
    "mlflow_bridge.MirroredVersion.tags": _JSON,
    "mlflow_bridge.MirroredVersion.datasets": Cap(items=ITEMS, json_bytes=JSON_BYTES),
}

_CAPPED_MODELS = {key.rsplit(".", 1)[0] for key in CAPS}

SYSTEM_WRITTEN: dict[str, str] = {
    "registry.Dataset.profile": "computed from the stored file",
    "monitoring.JobRun.params": "built by the service that queues the job",
    "monitoring.JobRun.result": "a job's own result",
    "monitoring.JobRun.error": "a job's own failure, cut short by the job runner",
    "monitoring.DailyPerformance.metrics": "computed",
    "monitoring.DailyPerformance.fairness": "computed",
    "monitoring.DeploymentStatus.accuracy_reason": "computed",
    "monitoring.DeploymentStatus.drift_reason": "computed",
    "monitoring.DeploymentStatus.service_health_reason": "computed",
    "monitoring.Alert.message": "composed by the alert engine",
    "monitoring.AlertDelivery.error": "a delivery failure",
    "monitoring.AlertDelivery.payload": "composed by the alert engine",
    "monitoring.ReferenceProfile.feature_types": "computed from a capped schema",
    "monitoring.ReferenceProfile.layouts": "computed",
    "monitoring.ReferenceProfile.summaries": "computed",
    "monitoring.ReferenceProfile.sample": "a bounded sample",
    "monitoring.HourlySummary.summary": "computed",
    "monitoring.HourlyQuality.features": "computed",
    "monitoring.DeploymentStatus.data_quality_reason": "computed",
    "monitoring.DriftResult.parameters": "computed",
    "governance.AuditEvent.before": "a snapshot of a capped row",
    "governance.AuditEvent.after": "a snapshot of a capped row",
    "approvals.ApprovalRequest.policy": "a copy of the policy in force",
    "approvals.ApprovalDecision.reviewer_groups": "the reviewer's groups",
    "approvals.Notification.body": "composed by the application",
    "approvals.WebhookDelivery.payload": "composed by the application",
    "approvals.WebhookDelivery.error": "a delivery failure",
    "approvals.ApprovalRequest.manifest": "computed from the version's capped rows",
    "approvals.ApprovalPolicyVersion.snapshot": "a copy of the policy in force",
    "reports.ReportExport.manifest": "written by the export job",
    "mlflow_bridge.MlflowConnection.last_error": "a sync's own failures, cut short",
    "mlflow_bridge.AliasEvent.detail": "composed by the bridge, cut short",
    "mlflow_bridge.MlflowConnection.username": "a Fernet token of a capped input",
    "mlflow_bridge.MlflowConnection.password": "a Fernet token of a capped input",
    "mlflow_bridge.MlflowConnection.token": "a Fernet token of a capped input",
    "registry.Dataset.external_metadata": "written by the MLflow sync, dropped past 64 KiB",
    "governance.ModelCardRevision.content": "text sections checked by governance/modelcards/"
    "sections.py (known keys, 20,000 characters each) beside computed data sections",
    "monitoring.DailyEstimate.estimated": "computed",
    "monitoring.DailyEstimate.realised": "computed",
    "monitoring.DailyEstimate.reference": "computed",
    "monitoring.DailyEstimate.error": "an estimation's own failure",
    "monitoring.HourlyEstimate.counts": "computed",
    "retraining.RetrainingRun.more_triggers": "triggers the application recorded",
    "retraining.RetrainingRun.suggestion": "computed from the monitoring results",
    "retraining.RetrainingRun.error": "a trainer delivery's own failure, cut short",
    "retraining.TrainerDelivery.payload": "composed by the application",
    "retraining.TrainerDelivery.error": "a delivery failure",
}


def unstorable(text: str) -> str | None:
    """Why `text` cannot be stored (PostgreSQL refuses NUL and lone UTF-16 surrogates), or
    None when it can."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    return "holds a NUL character" if found.group() == "\x00" else "holds a lone UTF-16 surrogate"


def _json_problem(value: Any) -> str | None:
    if isinstance(value, str):
        return unstorable(value)
    if isinstance(value, dict):
        for key, item in value.items():
            why = (unstorable(key) if isinstance(key, str) else None) or _json_problem(item)
            if why:
                return why
    elif isinstance(value, list | tuple):
        for item in value:
            why = _json_problem(item)
            if why:
                return why
    return None


def problem(value: Any, cap: Cap) -> str | None:
    """What is wrong with `value` under `cap`, or None."""
    if value is None:
        return None
    if isinstance(value, str):
        if cap.chars is not None and len(value) > cap.chars:
            return f"at most {cap.chars} characters (this has {len(value)})"
        return unstorable(value)
    if cap.items is not None and isinstance(value, list | dict) and len(value) > cap.items:
        return f"at most {cap.items} entries (this has {len(value)})"
    if cap.json_bytes is not None:
        text = json.dumps(value, ensure_ascii=False, default=str)
        try:
            size = len(text.encode())
        except UnicodeEncodeError:
            return "holds a lone UTF-16 surrogate"
        if size > cap.json_bytes:
            return f"at most {cap.json_bytes} bytes of JSON (this has {size})"
        # The text holds every key and string, so one scan replaces walking the value.
        nul = "\\u0000" in text and _ESCAPED_NUL.search(text) is not None
        return "holds a NUL character" if nul else None
    return _json_problem(value)


def check(instance: Any) -> None:
    """Raise ValidationError naming every capped field of `instance` that is over its cap."""
    label = instance._meta.label
    if label not in _CAPPED_MODELS:
        return
    errors = {}
    for field in instance._meta.concrete_fields:
        cap = CAPS.get(f"{label}.{field.name}")
        if cap is not None and (why := problem(getattr(instance, field.attname), cap)):
            errors[field.name] = why
    if errors:
        raise ValidationError(errors)


def check_before_save(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """pre_save receiver: every save of a capped model passes through `check` (bulk inserts
    do not; ingestion checks its rows itself)."""
    if not raw:
        check(instance)


@deconstructible
class JsonCap:
    """A validator for an API input field holding JSON (a dict, a list): entries, encoded
    size, and no text the databases refuse."""

    def __init__(self, *, items: int | None = ITEMS, json_bytes: int = JSON_BYTES) -> None:
        self.cap = Cap(items=items, json_bytes=json_bytes)

    def __call__(self, value: Any) -> None:
        why = problem(value, self.cap)
        if why:
            raise ValidationError(why, code="too_large")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JsonCap) and other.cap == self.cap
