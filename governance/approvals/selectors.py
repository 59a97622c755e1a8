"""Reads for the approval workflow: progress against the policy, the reviewer's inbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from governance.approvals.choices import RequestState, Verdict
from governance.approvals.digests import model_digest
from governance.approvals.models import ApprovalDecision, ApprovalRequest
from registry.choices import Action


@dataclass(frozen=True)
class Progress:
    approvals: int
    needed: int
    missing_groups: list[str] = field(default_factory=list)
    voided: int = 0  # approvals bound to a digest the artifact no longer has

    @property
    def complete(self) -> bool:
        return self.approvals >= self.needed and not self.missing_groups


def approval_progress(request: ApprovalRequest) -> Progress:
    """Count distinct approvers whose decision is bound to the artifact's current digest."""
    current = model_digest(request.version)
    approvals = [d for d in request.decisions.all() if d.verdict == Verdict.APPROVE]
    valid = [d for d in approvals if d.artifact_digest == current]
    covered = {g for d in valid for g in d.reviewer_groups}
    missing = sorted(set(request.policy["required_groups"]) - covered)
    return Progress(
        approvals=len({d.reviewer_id for d in valid}),
        needed=request.policy["min_approvals"],
        missing_groups=missing,
        voided=len(approvals) - len(valid),
    )


def version_approval_is_valid(version: Any) -> bool:
    """Is the version's approval still bound to its model artifact's current digest?"""
    latest = (
        ApprovalRequest.objects.filter(version=version, kind="version", state=RequestState.APPROVED)
        .order_by("-closed_at")
        .first()
    )
    return latest is not None and latest.artifact_digest == model_digest(version)


def inbox(*, user: Any) -> QuerySet[ApprovalRequest]:
    """Pending requests this user may decide and has not decided yet (separation of duties
    applied: not their own requests, not their own models)."""
    decided = ApprovalDecision.objects.filter(request=OuterRef("pk"), reviewer=user)
    return (
        ApprovalRequest.objects.restrict(user, Action.APPROVE)
        .filter(state=RequestState.PENDING)
        .exclude(Q(requested_by=user) | Q(version__model__owner=user))
        .exclude(Exists(decided))
        .select_related("version__model", "requested_by")
        .order_by("requested_at")
    )


def request_list(*, user: Any) -> QuerySet[ApprovalRequest]:
    return (
        ApprovalRequest.objects.restrict(user, Action.VIEW)
        .select_related("version__model", "requested_by", "deployment")
        .prefetch_related("decisions__reviewer")
    )
