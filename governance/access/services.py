"""Grants and revocations of per-model rights, each audited.

Who may hand out what: anyone with manage_access on a model may grant and revoke view and
change on it; every other right (approve above all, and deploy, delete, manage_access, which
would let an owner's friend route around review) is for admins, who hold manage_access on
every model through their role. An owner therefore cannot make themselves or a colleague an
approver of their own model.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from guardian.shortcuts import assign_perm, get_group_perms, get_user_perms, remove_perm

from governance import audit
from registry.actors import Actor, Viewer
from registry.choices import Action
from registry.models import RegisteredModel
from registry.querysets import codename_for, has_global_permission
from registry.services.common import require_object

# What a model's manager who is not an admin may grant or revoke.
MANAGER_GRANTABLE = (Action.VIEW, Action.CHANGE)

Principal = User | Group
PRINCIPAL_KINDS = ("user", "group")


def principal_find(*, kind: str, name: str) -> Principal | None:
    """The user (by username) or group (by name) a grant names; None when there is none."""
    if kind == "user":
        return User.objects.filter(username=name).first()
    if kind == "group":
        return Group.objects.filter(name=name).first()
    raise ValueError(f"a principal is one of {PRINCIPAL_KINDS}, not {kind!r}")


def grantable_actions(actor: Viewer) -> list[str]:
    """The actions `actor` may grant or revoke on a model they manage: all of them for
    admins (manage_access on every model), view and change for anyone else."""
    if has_global_permission(actor, Action.MANAGE_ACCESS):
        return list(Action.values)
    return [a.value for a in MANAGER_GRANTABLE]


def _subject(principal: Principal) -> dict[str, str]:
    if isinstance(principal, Group):
        return {"group": principal.name}
    return {"user": principal.get_username()}


def _current(model: RegisteredModel, principal: Principal) -> list[str]:
    perms = (
        get_group_perms(principal, model)
        if isinstance(principal, Group)
        else get_user_perms(principal, model)
    )
    return sorted(str(p).removesuffix("_registeredmodel") for p in perms)


def _change(
    model: RegisteredModel, principal: Principal, actions: list[str], actor: Actor, *, grant: bool
) -> list[str]:
    require_object(actor, Action.MANAGE_ACCESS, model)
    refused = sorted(set(actions) - set(grantable_actions(actor)))
    if refused:
        raise PermissionDenied(
            f"only admins may {'grant' if grant else 'revoke'} {', '.join(refused)} on {model}"
        )
    apply = assign_perm if grant else remove_perm
    before = _current(model, principal)
    for action in actions:
        apply(f"registry.{codename_for(action)}", principal, model)
    after = _current(model, principal)
    audit.record(
        actor=actor,
        action="governance.access.granted" if grant else "governance.access.revoked",
        target=model,
        before=_subject(principal) | {"actions": before},
        after=_subject(principal) | {"actions": after},
    )
    return after


@transaction.atomic
def access_grant(
    *, model: RegisteredModel, principal: Principal, actions: list[str], actor: Actor
) -> list[str]:
    """Give a user or group `actions` on `model`; returns what the principal now holds."""
    return _change(model, principal, actions, actor, grant=True)


@transaction.atomic
def access_revoke(
    *, model: RegisteredModel, principal: Principal, actions: list[str], actor: Actor
) -> list[str]:
    """Take `actions` on `model` away from a user or group; returns what remains."""
    return _change(model, principal, actions, actor, grant=False)


def access_list(*, model: RegisteredModel) -> list[dict[str, Any]]:
    """Who holds which actions on the model through a direct grant (owner and roles apart)."""
    from registry.models import RegisteredModelGroupPermission, RegisteredModelUserPermission

    rows: dict[tuple[str, str], set[str]] = {}
    for perm in RegisteredModelUserPermission.objects.filter(content_object=model).select_related(
        "user", "permission"
    ):
        rows.setdefault(("user", perm.user.username), set()).add(perm.permission.codename)
    for group_perm in RegisteredModelGroupPermission.objects.filter(
        content_object=model
    ).select_related("group", "permission"):
        rows.setdefault(("group", group_perm.group.name), set()).add(group_perm.permission.codename)
    return [
        {kind: name, "actions": sorted(c.removesuffix("_registeredmodel") for c in codes)}
        for (kind, name), codes in sorted(rows.items())
    ]
