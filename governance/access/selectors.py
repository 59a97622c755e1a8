"""Who granted or revoked which right on a model, for whom and when: read from the audit log,
for those who may manage access to the model (its managers and admins) only."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from governance.audit.models import AuditEvent
from registry.actors import Viewer
from registry.choices import Action
from registry.models import RegisteredModel

GRANT_ACTIONS = ("governance.access.granted", "governance.access.revoked")
MODEL_TYPE = "registry.registeredmodel"


def may_see_grants(*, user: Viewer, model: RegisteredModel) -> bool:
    return RegisteredModel.objects.restrict(user, Action.MANAGE_ACCESS).filter(pk=model.pk).exists()


def grant_history(*, user: Viewer, model: RegisteredModel) -> QuerySet[AuditEvent]:
    """The model's grant and revocation entries, newest first; PermissionDenied for anyone who
    may not manage access to the model (the caller has checked it is visible)."""
    if not may_see_grants(user=user, model=model):
        raise PermissionDenied("Only those who manage access to this model see its grants.")
    return AuditEvent.objects.filter(
        action__in=GRANT_ACTIONS, target_type=MODEL_TYPE, target_id=str(model.pk)
    ).order_by("-seq")


def grant_rows(events: list[AuditEvent]) -> list[dict[str, Any]]:
    """One row per entry: when, who, granted or revoked, for whom, what changed, what held
    afterwards (the entries store the principal's rights before and after)."""
    rows = []
    for event in events:
        before, after = event.before or {}, event.after or {}
        held_before, held_after = set(before.get("actions", [])), set(after.get("actions", []))
        kind = "group" if "group" in after else "user"
        rows.append(
            {
                "event": event,
                "granted": event.action == GRANT_ACTIONS[0],
                "kind": kind,
                "principal": after.get(kind, ""),
                "changed": sorted(held_after ^ held_before),
                "holds": sorted(held_after),
            }
        )
    return rows
