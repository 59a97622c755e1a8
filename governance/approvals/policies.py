"""Approval policies per risk tier: edited by admins only, each change audited and kept as a
new numbered version. A request copies the policy (and its version) when it opens, so an
edit never changes what an open request needs."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from governance import audit
from governance.approvals.models import ApprovalPolicy, ApprovalPolicyVersion
from registry.actors import Actor, Viewer

CHANGE_POLICY = "approvals.change_approvalpolicy"
EDITABLE = (
    "min_approvals",
    "separation_of_duties",
    "require_readiness",
    "expiry_days",
    "revalidation_days",
)


def may_edit_policies(user: Viewer) -> bool:
    """Superusers and the admins role (which holds approvals.change_approvalpolicy)."""
    return bool(user and user.is_active and user.has_perm(CHANGE_POLICY))


def _unversioned(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in snapshot.items() if k != "version"}


@transaction.atomic
def policy_update(
    *,
    policy: ApprovalPolicy,
    actor: Actor,
    reason: str = "",
    required_groups: list[Group] | None = None,
    **changes: Any,
) -> ApprovalPolicy:
    """Change a tier's policy; a real change raises its version by one and stores it."""
    if not may_edit_policies(actor):
        raise PermissionDenied("only admins may change approval policies")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError({k: "cannot be changed" for k in sorted(unknown)})
    policy = ApprovalPolicy.objects.select_for_update().get(pk=policy.pk)
    before = policy.as_snapshot()
    for name, value in changes.items():
        setattr(policy, name, value)
    if policy.min_approvals < 1:
        raise ValidationError({"min_approvals": "an approval takes at least one approver"})
    policy.full_clean()
    if required_groups is not None:
        policy.required_groups.set(required_groups)
    if _unversioned(policy.as_snapshot()) == _unversioned(before):
        return policy
    policy.version += 1
    policy.save()
    ApprovalPolicyVersion.objects.create(
        risk_tier=policy.risk_tier,
        number=policy.version,
        snapshot=policy.as_snapshot(),
        reason=reason.strip(),
        changed_by=actor,
    )
    audit.record(
        actor=actor,
        action="governance.approval.policy.changed",
        target=policy,
        before=before,
        after=policy.as_snapshot() | {"reason": reason.strip()},
    )
    return policy


def ensure_policy_versions() -> None:
    """Store the current version of any policy that has no stored version (fresh defaults,
    or a database from before policies were versioned)."""
    for policy in ApprovalPolicy.objects.prefetch_related("required_groups"):
        if not ApprovalPolicyVersion.objects.filter(
            risk_tier=policy.risk_tier, number=policy.version
        ).exists():
            ApprovalPolicyVersion.objects.create(
                risk_tier=policy.risk_tier,
                number=policy.version,
                snapshot=policy.as_snapshot(),
                reason="initial policy",
            )
