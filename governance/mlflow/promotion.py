"""Governed promotion: the protected alias follows Steward's production approvals.

A production deployment of a mirrored version (which only an approved production request for
that version's digest lets through: governance.approvals.gate) records an APPROVED alias
event and, once committed, sets the alias in MLflow. Each sync compares MLflow's alias with
the last approved version: a difference is audited, alerted to the model's owner and
watchers once, and, when the connection says so, moved back.
"""

from __future__ import annotations

import logging

from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse

from governance import audit
from governance.approvals import notifications
from governance.mlflow import gateway
from governance.mlflow.choices import AliasEventKind
from governance.mlflow.connections import credentials, sync_user
from governance.mlflow.gateway import Credentials, MlflowUnavailable, RemoteModel
from governance.mlflow.models import AliasEvent, MirroredModel, MirroredVersion
from registry.choices import Environment
from registry.models import Deployment

logger = logging.getLogger(__name__)


def approved_version(mirror: MirroredModel) -> str | None:
    """The MLflow version Steward last approved for the protected alias, or None."""
    event = (
        mirror.alias_events.filter(kind=AliasEventKind.APPROVED)
        .order_by("-created_at", "-id")
        .first()
    )
    return event.mlflow_version if event is not None else None


def deployment_created(*, deployment: Deployment, actor: User) -> None:
    """Registry hook (STEWARD_REGISTRY_HOOKS["deployment_created"]), inside the deployment's
    transaction: a production deployment of a mirrored version approves the alias for it."""
    if deployment.environment != Environment.PRODUCTION:
        return
    mirrored = (
        MirroredVersion.objects.select_related("mirrored_model__connection")
        .filter(version_id=deployment.version_id)
        .first()
    )
    if mirrored is None:
        return
    mirror = mirrored.mirrored_model
    alias = mirror.connection.protected_alias
    AliasEvent.objects.create(
        mirrored_model=mirror,
        alias=alias,
        kind=AliasEventKind.APPROVED,
        mlflow_version=mirrored.mlflow_version,
        version_id=deployment.version_id,
        deployment=deployment,
    )
    audit.record(
        actor=actor,
        action="mlflow.alias.approved",
        target=deployment,
        after={
            "alias": alias,
            "mlflow_name": mirror.mlflow_name,
            "mlflow_version": mirrored.mlflow_version,
        },
    )
    transaction.on_commit(lambda: alias_push(mirror_id=mirror.pk))


def alias_push(*, mirror_id: int) -> bool:
    """Set the protected alias in MLflow to the approved version (after commit). A failure is
    recorded; the next sync finds the alias elsewhere and puts it right when reverting is on."""
    mirror = MirroredModel.objects.select_related("connection").get(pk=mirror_id)
    target = approved_version(mirror)
    alias = mirror.connection.protected_alias
    try:
        how = gateway.set_alias(credentials(mirror.connection), mirror.mlflow_name, alias, target)
    except MlflowUnavailable as exc:
        logger.warning("could not set %s@%s: %s", mirror.mlflow_name, alias, exc)
        _record(mirror, AliasEventKind.SET_FAILED, target, sync_user(), detail=str(exc))
        return False
    _record(mirror, AliasEventKind.SET, target, sync_user(), detail=f"written as an {how}")
    MirroredModel.objects.filter(pk=mirror.pk).update(alias_seen=target or "")
    return True


@transaction.atomic
def _record(
    mirror: MirroredModel, kind: str, mlflow_version: str | None, actor: User, *, detail: str = ""
) -> AliasEvent:
    version_id = (
        mirror.versions.filter(mlflow_version=mlflow_version)
        .values_list("version_id", flat=True)
        .first()
        if mlflow_version
        else None
    )
    event = AliasEvent.objects.create(
        mirrored_model=mirror,
        alias=mirror.connection.protected_alias,
        kind=kind,
        mlflow_version=mlflow_version or "",
        version_id=version_id,
        detail=detail[:2000],
    )
    audit.record(
        actor=actor,
        action=f"mlflow.alias.{kind}",
        target=mirror.model,
        after={
            "alias": event.alias,
            "mlflow_name": mirror.mlflow_name,
            "mlflow_version": event.mlflow_version,
            "detail": event.detail,
        },
    )
    return event


def alias_check(
    *, mirror: MirroredModel, remote: RemoteModel, creds: Credentials, actor: User
) -> int:
    """Compare MLflow's protected alias with the approved version; returns the events
    recorded (0 when they agree, or the disagreement was already reported)."""
    alias = mirror.connection.protected_alias
    found = remote.aliases.get(alias) or ""
    approved = approved_version(mirror) or ""
    if found == approved:
        if found != mirror.alias_seen:
            MirroredModel.objects.filter(pk=mirror.pk).update(alias_seen=found)
        return 0
    last = mirror.alias_events.order_by("-created_at", "-id").first()
    if last is not None and last.kind == AliasEventKind.SET_FAILED:  # Steward's own, retried
        gateway.set_alias(creds, mirror.mlflow_name, alias, approved or None)
        _record(mirror, AliasEventKind.SET, approved, actor, detail="retried by the sync")
        MirroredModel.objects.filter(pk=mirror.pk).update(alias_seen=approved)
        return 1
    events, seen = 0, found
    if found != mirror.alias_seen:  # new: report it once
        _record(
            mirror,
            AliasEventKind.UNAPPROVED,
            found,
            actor,
            detail=f"approved: {approved or 'none'}",
        )
        _alert(mirror, found, approved)
        events += 1
    if mirror.connection.revert_unapproved:
        gateway.set_alias(creds, mirror.mlflow_name, alias, approved or None)
        _record(mirror, AliasEventKind.REVERTED, approved, actor)
        events, seen = events + 1, approved
    MirroredModel.objects.filter(pk=mirror.pk).update(alias_seen=seen)
    return events


def _alert(mirror: MirroredModel, found: str, approved: str) -> None:
    """In-app (and e-mail) notice to the model's owner and watchers."""
    model = mirror.model
    where = f"version {found}" if found else "no version"
    notifications.notify(
        [model.owner, *notifications.watchers(model.pk)],
        subject=f"MLflow alias @{mirror.connection.protected_alias} of {model.name} moved "
        "without approval",
        body=f"MLflow's @{mirror.connection.protected_alias} names {where}; the version "
        f"approved for production in Steward is {approved or 'none'}.",
        url=reverse("registry:model-detail", args=[model.slug]),
    )
