"""Reads for the approval workflow: progress against the policy, the reviewer's inbox, the
signed-in user's notifications."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from governance.approvals.choices import RequestState, Verdict
from governance.approvals.digests import current_digest
from governance.approvals.models import (
    ApprovalDecision,
    ApprovalPolicyVersion,
    ApprovalRequest,
    Notification,
)
from registry.actors import Actor, Viewer
from registry.choices import Action


@dataclass(frozen=True)
class Progress:
    approvals: int
    needed: int
    missing_groups: list[str] = field(default_factory=list)
    voided: int = 0  # approvals bound to a manifest the version no longer has

    @property
    def complete(self) -> bool:
        return self.approvals >= self.needed and not self.missing_groups


def approval_progress(request: ApprovalRequest) -> Progress:
    """Count distinct approvers whose decision is bound to the request's manifest, while the
    version's manifest still hashes to it (a change behind the registry's back voids all)."""
    current = current_digest(request.version, request.digest_scheme)
    bound = request.manifest_digest if current == request.manifest_digest else None
    approvals = [d for d in request.decisions.all() if d.verdict == Verdict.APPROVE]
    valid = [d for d in approvals if d.manifest_digest == bound]
    covered = {g for d in valid for g in d.reviewer_groups}
    missing = sorted(set(request.policy["required_groups"]) - covered)
    return Progress(
        approvals=len({d.reviewer_id for d in valid}),
        needed=request.policy["min_approvals"],
        missing_groups=missing,
        voided=len(approvals) - len(valid),
    )


def version_approval_is_valid(version: Any) -> bool:
    """Does the version's approval still bind what it has: the release manifest (or, for an
    approval given before manifests were bound, the model artifacts)?"""
    latest = (
        ApprovalRequest.objects.filter(version=version, kind="version", state=RequestState.APPROVED)
        .order_by("-closed_at")
        .first()
    )
    return latest is not None and latest.manifest_digest == current_digest(
        version, latest.digest_scheme
    )


def inbox(*, user: Actor) -> QuerySet[ApprovalRequest]:
    """Pending requests this user may decide and has not decided on their current manifest
    (separation of duties applied: not their own requests, not their own models)."""
    decided = ApprovalDecision.objects.filter(
        request=OuterRef("pk"), reviewer=user, manifest_digest=OuterRef("manifest_digest")
    )
    return (
        ApprovalRequest.objects.restrict(user, Action.APPROVE)
        .filter(state=RequestState.PENDING)
        .exclude(Q(requested_by=user) | Q(version__model__owner=user))
        .exclude(Exists(decided))
        .select_related("version__model", "requested_by")
        .order_by("requested_at")
    )


def request_list(*, user: Viewer) -> QuerySet[ApprovalRequest]:
    return (
        ApprovalRequest.objects.restrict(user, Action.VIEW)
        .select_related("version__model", "requested_by", "deployment")
        .prefetch_related("decisions__reviewer")
    )


def policy_versions(*, risk_tier: str) -> QuerySet[ApprovalPolicyVersion]:
    """A tier's policy versions, newest first."""
    return ApprovalPolicyVersion.objects.filter(risk_tier=risk_tier).select_related("changed_by")


def notification_list(*, user: Viewer) -> QuerySet[Notification]:
    """The user's own notifications (lifecycle events, reviews, in-app alerts), newest first."""
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user)


def unread_notification_count(*, user: Viewer) -> int:
    return notification_list(user=user).filter(read_at__isnull=True).count()
