"""Periodic revalidation: per risk tier an interval (`ApprovalPolicy.revalidation_days`);
a daily sweep opens a revalidation request (the approval workflow, kind "revalidation") when
a model's next validation falls due, and marks the model overdue once the date has passed
without an approved revalidation. Approving a version or a revalidation records the
validation on the model and sets the next due date.

The sweep runs as the JobRun kind "revalidation_sweep" (registered in ApprovalsConfig.ready)
that beat starts daily; `revalidation_sweep(today=...)` takes the day so tests can travel.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance.approvals import notifications
from governance.approvals.choices import RequestKind, RequestState
from governance.approvals.errors import ApprovalRefused
from governance.approvals.models import ApprovalPolicy, ApprovalRequest
from registry import services as registry
from registry.choices import Stage, ValidationStatus
from registry.models import ModelVersion, RegisteredModel

KIND = "revalidation_sweep"
SWEEP_ACTOR = "revalidation-sweep"
APPROVAL_ACTOR = "approval-workflow"


def interval_days(tier: str) -> int | None:
    policy = ApprovalPolicy.objects.filter(risk_tier=tier).values("revalidation_days").first()
    return policy["revalidation_days"] if policy else None


def notice_days() -> int:
    """How long before the due date the revalidation request opens."""
    return int(getattr(settings, "STEWARD_REVALIDATION_NOTICE_DAYS", 30))


def record_validation(request: ApprovalRequest) -> None:
    """An approved version or revalidation request validates its model today; the next
    validation falls due after the tier's interval (none without one)."""
    model = request.version.model
    today = timezone.localdate()
    days = interval_days(model.risk_tier)
    registry.model_set_validation(
        model=model,
        actor=APPROVAL_ACTOR,
        validation_status=ValidationStatus.VALIDATED,
        validated_on=today,
        next_validation_due=today + dt.timedelta(days=days) if days else None,
    )


def _current_version(model: RegisteredModel) -> ModelVersion | None:
    """The approved version a revalidation is about: the newest approved one."""
    return model.versions.filter(stage=Stage.APPROVED).order_by("-number").first()


def _due_date(model: RegisteredModel) -> dt.date | None:
    if model.next_validation_due:
        return model.next_validation_due
    days = interval_days(model.risk_tier)
    if model.validated_on and days:
        return model.validated_on + dt.timedelta(days=days)
    return None


@transaction.atomic
def _sweep_model(model: RegisteredModel, today: dt.date) -> dict[str, Any]:
    from governance.approvals.services import open_revalidation

    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    due = _due_date(model)
    outcome: dict[str, Any] = {"model": model.slug, "due": due.isoformat() if due else None}
    version = _current_version(model)
    if due is None or version is None:
        return outcome
    if due - dt.timedelta(days=notice_days()) > today:
        return outcome
    pending = ApprovalRequest.objects.filter(
        version__model=model, kind=RequestKind.REVALIDATION, state=RequestState.PENDING
    ).first()
    if pending is None:
        try:
            pending = open_revalidation(version=version, due=due)
            outcome["opened"] = pending.pk
        except ApprovalRefused as refusal:
            outcome["refused"] = str(refusal)
    status = (
        ValidationStatus.REVALIDATION_OVERDUE if due < today else ValidationStatus.REVALIDATION_DUE
    )
    if model.validation_status != status:
        registry.model_set_validation(
            model=model, actor=SWEEP_ACTOR, validation_status=status, next_validation_due=due
        )
        outcome["status"] = str(status)
        if status == ValidationStatus.REVALIDATION_OVERDUE:
            notifications.revalidation_overdue(model=model, due=due, request=pending)
    return outcome


def revalidation_sweep(*, today: dt.date | None = None) -> dict[str, Any]:
    """Open the revalidation requests that are due and mark the models that lapsed; each
    model in its own transaction, so one refusal does not hold up the rest."""
    today = today or timezone.localdate()
    candidates = RegisteredModel.objects.filter(versions__stage=Stage.APPROVED).distinct()
    outcomes = [_sweep_model(model, today) for model in candidates.order_by("pk")]
    acted = [o for o in outcomes if len(o) > 2]
    return {
        "today": today.isoformat(),
        "models_checked": len(outcomes),
        "opened": sum(1 for o in acted if "opened" in o),
        "overdue": sum(
            1 for o in acted if o.get("status") == ValidationStatus.REVALIDATION_OVERDUE
        ),
        "changes": acted,
    }


def run(job: Any, progress: Any) -> dict[str, Any]:
    """The JobRun body: one sweep for today."""
    result = revalidation_sweep()
    progress(1.0)
    return result
