"""Role groups and their global grants. Object grants (per model) come on top of these.

Kept in code and applied after every migrate, so a fresh database always has the roles.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

ADMINS, DATA_SCIENTISTS, REVIEWERS, AUDITORS, VIEWERS, RISK_OFFICERS = (
    "admins",
    "data-scientists",
    "reviewers",
    "auditors",
    "viewers",
    "risk-officers",
)

# role -> global permissions ("app.codename"); a global permission opens every model.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    ADMINS: [
        "registry.add_registeredmodel",
        "registry.view_registeredmodel",
        "registry.change_registeredmodel",
        "registry.delete_registeredmodel",
        "registry.deploy_registeredmodel",
        "registry.approve_registeredmodel",
        "registry.manage_access_registeredmodel",
        "registry.lower_risk_tier_registeredmodel",
    ],
    DATA_SCIENTISTS: ["registry.add_registeredmodel"],
    REVIEWERS: ["registry.view_registeredmodel", "registry.approve_registeredmodel"],
    AUDITORS: ["registry.view_registeredmodel"],
    VIEWERS: [],
    # Risk officers see every model and may lower a risk tier (with a reason); raising one
    # is open to anyone who may change the model.
    RISK_OFFICERS: ["registry.view_registeredmodel", "registry.lower_risk_tier_registeredmodel"],
}


def ensure_roles(**_: Any) -> None:
    """Create the role groups and give them their global permissions (idempotent)."""
    for role, perms in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".")
            wanted += list(
                Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.add(*wanted)
