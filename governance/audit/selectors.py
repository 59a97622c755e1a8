"""Reads of the audit log for the web UI: who may read which entries, and how to show them.

Entries about registry objects are visible to whoever may view the object; superusers,
auditors and reviewers (the global view permission) read the whole log.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from typing import Any

from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from django.urls import reverse

from governance.audit.models import AuditEvent
from registry.choices import Action
from registry.models import Artifact, Dataset, Deployment, ModelVersion, RegisteredModel
from registry.querysets import RestrictedQuerySet
from registry.selectors import sees_everything

# Audit target types that are registry objects, with the model class behind each.
AUDITED_TYPES: dict[str, Any] = {
    "registry.registeredmodel": RegisteredModel,
    "registry.modelversion": ModelVersion,
    "registry.artifact": Artifact,
    "registry.dataset": Dataset,
    "registry.deployment": Deployment,
}


USER_TYPE = "auth.user"


def model_audit(*, user: Any, model: RegisteredModel, limit: int = 15) -> list[AuditEvent]:
    """Recent audit entries about the model or its versions, artifacts, datasets and
    deployments, newest first."""
    parts: dict[str, RestrictedQuerySet[Any]] = {
        "registry.registeredmodel": RegisteredModel.objects.filter(pk=model.pk),
        "registry.modelversion": ModelVersion.objects.filter(model=model),
        "registry.artifact": Artifact.objects.filter(version__model=model),
        "registry.dataset": Dataset.objects.filter(model=model),
        "registry.deployment": Deployment.objects.filter(version__model=model),
    }
    q = reduce(
        operator.or_,
        (_target_q(label, qs.restrict(user, Action.VIEW)) for label, qs in parts.items()),
    )
    return list(AuditEvent.objects.filter(q).order_by("-seq")[:limit])


def _target_q(label: str, queryset: QuerySet[Any]) -> Q:
    """Audit entries whose target is one of `queryset`'s rows (target ids are text)."""
    ids = queryset.order_by().values(key=Cast("pk", output_field=CharField()))
    return Q(target_type=label, target_id__in=ids)


def audit_visible(*, user: Any) -> QuerySet[AuditEvent]:
    """The audit entries `user` may read.

    Superusers, auditors and reviewers (the global view permission) read the whole log.
    Everyone else reads the entries about registry objects they may view (models, versions,
    artifacts, datasets and deployments, matched on (target_type, target_id)) and about their
    own account (sign-ins, failed sign-ins). Entries about anything else (lineage edges, other
    users, system jobs) and about deleted objects stay with the first group.
    """
    if not (user.is_authenticated and user.is_active):
        return AuditEvent.objects.none()
    if sees_everything(user):
        return AuditEvent.objects.all()
    own_account = Q(target_type=USER_TYPE, target_id=str(user.pk))
    q = reduce(
        operator.or_,
        (
            _target_q(label, model.objects.restrict(user, Action.VIEW))
            for label, model in AUDITED_TYPES.items()
        ),
        own_account,
    )
    return AuditEvent.objects.filter(q)


@dataclass(frozen=True)
class ShownEvent:
    """An audit entry ready to show: the link to its target (empty when the viewer may not
    view it) and the before/after values as indented JSON."""

    event: AuditEvent
    target_url: str
    before_text: str
    after_text: str


def present_events(*, user: Any, events: Iterable[AuditEvent]) -> list[ShownEvent]:
    """`events` ready to show, one query per target type for the links."""
    events = list(events)
    wanted: dict[str, set[int]] = {}
    for event in events:
        if event.target_type in AUDITED_TYPES and event.target_id.isdigit():
            wanted.setdefault(event.target_type, set()).add(int(event.target_id))
    links: dict[tuple[str, str], str] = {}
    for label, ids in wanted.items():
        rows = AUDITED_TYPES[label].objects.restrict(user, Action.VIEW).filter(pk__in=ids)
        for row in rows.select_related(*_LINK_RELATED.get(label, ())):
            links[(label, str(row.pk))] = object_url(row)
    return [
        ShownEvent(
            event=event,
            target_url=links.get((event.target_type, event.target_id), ""),
            before_text=_json_text(event.before),
            after_text=_json_text(event.after),
        )
        for event in events
    ]


def _json_text(value: Any) -> str:
    if value in (None, {}, []):
        return ""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


_LINK_RELATED = {
    "registry.modelversion": ("model",),
    "registry.artifact": ("version__model",),
}


def object_url(obj: Any) -> str:
    """The page of a registry object (an artifact's page is its version's)."""
    if isinstance(obj, RegisteredModel):
        return reverse("registry:model-detail", args=[obj.slug])
    if isinstance(obj, ModelVersion):
        return reverse("registry:version-detail", args=[obj.model.slug, obj.number])
    if isinstance(obj, Artifact):
        return reverse("registry:version-detail", args=[obj.version.model.slug, obj.version.number])
    if isinstance(obj, Dataset):
        return reverse("registry:dataset-detail", args=[obj.pk])
    if isinstance(obj, Deployment):
        return reverse("registry:deployment-detail", args=[obj.pk])
    return ""


def audit_event_list(
    *,
    user: Any,
    action: str = "",
    actor: str = "",
    target_type: str = "",
    target_id: str = "",
    since: Any = None,
    until: Any = None,
) -> QuerySet[AuditEvent]:
    """The entries `user` may read (see `audit_visible`), newest first, filtered by exact
    action, actor name (contains), target type and id, and a time range."""
    events = audit_visible(user=user)
    if target_id:
        events = events.filter(target_id=target_id)
    if since:
        events = events.filter(created_at__gte=since)
    if until:
        events = events.filter(created_at__lte=until)
    if action:
        events = events.filter(action=action)
    if actor:
        events = events.filter(actor_name__icontains=actor)
    if target_type:
        events = events.filter(target_type=target_type)
    return events.order_by("-seq")


def audit_filter_options(*, user: Any) -> dict[str, list[str]]:
    """The actions and target types that occur in the entries `user` may read."""
    visible = audit_visible(user=user).order_by()
    actions = visible.order_by("action").values_list("action", flat=True).distinct()
    types = visible.exclude(target_type="").order_by("target_type")
    return {
        "actions": list(actions),
        "target_types": list(types.values_list("target_type", flat=True).distinct()),
    }
