"""Default approval policies, ensured after every migrate (and after a test flush)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

from governance.approvals.models import ApprovalPolicy
from governance.approvals.policies import ensure_policy_versions

# tier -> (minimum distinct approvals, groups that must each approve, expiry in days)
DEFAULT_POLICIES: dict[str, tuple[int, list[str], int | None]] = {
    "low": (1, ["reviewers"], None),
    "medium": (1, ["reviewers"], 30),
    "high": (2, ["reviewers"], 30),
    "critical": (2, ["reviewers", "admins"], 14),
}


# tier -> days between validations (SR 11-7 asks for at least annual review of material models)
DEFAULT_REVALIDATION_DAYS: dict[str, int | None] = {
    "low": None,
    "medium": 730,
    "high": 365,
    "critical": 180,
}


def ensure_default_policies(**_: Any) -> None:
    """Create any missing tier's policy; existing policies (perhaps edited) are left alone."""
    for tier, (minimum, groups, expiry) in DEFAULT_POLICIES.items():
        policy, created = ApprovalPolicy.objects.get_or_create(
            risk_tier=tier,
            defaults={
                "min_approvals": minimum,
                "expiry_days": expiry,
                "revalidation_days": DEFAULT_REVALIDATION_DAYS[tier],
            },
        )
        if created:
            policy.required_groups.set([Group.objects.get_or_create(name=g)[0] for g in groups])
    ensure_policy_versions()
    # Admins edit the policies (policies.policy_update); nobody else does.
    Group.objects.get_or_create(name="admins")[0].permissions.add(
        *Permission.objects.filter(
            content_type__app_label="approvals", codename="change_approvalpolicy"
        )
    )
