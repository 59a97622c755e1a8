"""Governed promotion: the protected alias follows Steward's production approvals.

A production deployment of a mirrored version (which only an approved production request for
that version's digest lets through: governance.approvals.gate) records an APPROVED alias
event and, once committed, sets the alias in MLflow. Each sync compares MLflow's alias with
the last approved version: a difference is audited, alerted to the model's owner and
watchers once, and, when the connection says so, moved back.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse

from governance import audit
from governance.approvals import notifications
from governance.mlflow import gateway, jobs
from governance.mlflow.choices import AliasEventKind
from governance.mlflow.connections import credentials, sync_user
from governance.mlflow.gateway import Credentials, MlflowUnavailable, RemoteModel
from governance.mlflow.models import AliasEvent, MirroredModel, MirroredVersion
from monitoring.alerts import services as alert_services
from monitoring.models import AlertRule, AlertSource
from registry.choices import DeploymentStatus, Environment
from registry.models import Deployment

logger = logging.getLogger(__name__)
# The built-in alert rule (monitoring, source "external") an unapproved alias move raises.
ALIAS_RULE = "mlflow_alias_unapproved"


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
    # A recorded background job (JobRun "mlflow_alias_push"), dispatched once this
    # transaction commits: the approving request never waits on MLflow.
    jobs.alias_push_start(mirror_id=mirror.pk, actor=actor)


def alias_push(*, mirror_id: int) -> dict[str, Any]:
    """Point the protected alias in MLflow at the version Steward last approved (the
    "mlflow_alias_push" job). Idempotent: the alias is read back first and written only when
    it differs, then read back again; a repeated run records nothing new. MlflowUnavailable
    (the server down, or the alias reading back wrong) is recorded in the alias history and
    raised, so the job records the error and is retried with backoff."""
    mirror = MirroredModel.objects.select_related("connection", "model").get(pk=mirror_id)
    target = approved_version(mirror) or ""
    alias = mirror.connection.protected_alias
    try:
        how = _push(mirror, credentials(mirror.connection), target)
    except MlflowUnavailable as exc:
        logger.warning("could not set %s@%s: %s", mirror.mlflow_name, alias, exc)
        _record(mirror, AliasEventKind.SET_FAILED, target, sync_user(), detail=str(exc))
        raise
    last = mirror.alias_events.order_by("-created_at", "-id").first()
    recorded = last is not None and (last.kind, last.mlflow_version) == (AliasEventKind.SET, target)
    if not recorded:
        _record(mirror, AliasEventKind.SET, target, sync_user(), detail=how)
    MirroredModel.objects.filter(pk=mirror.pk).update(alias_seen=target)
    return {"mirror": mirror.pk, "alias": alias, "version": target, "how": how}


def _push(mirror: MirroredModel, creds: Credentials, target: str) -> str:
    """Make MLflow's alias name `target` ("" removes it) and check it reads back so; returns
    how ("already set", "written as an alias", "written as a tag")."""
    alias = mirror.connection.protected_alias
    if gateway.get_alias(creds, mirror.mlflow_name, alias) == target:
        return "already set"
    how = gateway.set_alias(creds, mirror.mlflow_name, alias, target or None)
    found = gateway.get_alias(creds, mirror.mlflow_name, alias)
    if found != target:
        raise MlflowUnavailable(
            f"@{alias} of {mirror.mlflow_name} reads back {found or 'nothing'} after being "
            f"set to {target or 'nothing'}"
        )
    return "written as an alias" if how == "alias" else "written as a tag"


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
            _clear_alerts(mirror)  # put back (by hand or by Steward): the alert is over
        return 0
    last = mirror.alias_events.order_by("-created_at", "-id").first()
    if last is not None and last.kind in (AliasEventKind.APPROVED, AliasEventKind.SET_FAILED):
        # Steward's own move, not yet made (its job is queued, retrying or gave up): the
        # sync makes it rather than report it.
        how = _push(mirror, creds, approved)
        _record(mirror, AliasEventKind.SET, approved, actor, detail=f"{how} by the sync")
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
        _clear_alerts(mirror)
        events, seen = events + 1, approved
    MirroredModel.objects.filter(pk=mirror.pk).update(alias_seen=seen)
    return events


def _clear_alerts(mirror: MirroredModel) -> None:
    rule = AlertRule.objects.filter(
        model_id=mirror.model_id, source=AlertSource.EXTERNAL, name=ALIAS_RULE
    ).first()
    if rule is not None:
        alert_services.alerts_clear(rule=rule)


def alert_deployment(mirror: MirroredModel) -> Deployment | None:
    """The deployment an unapproved move's Alert is raised on: the model's active production
    deployment (the newest), else the deployment of Steward's last alias approval, else the
    model's newest deployment anywhere; None when the model was never deployed in Steward."""
    deployments = Deployment.objects.filter(version__model_id=mirror.model_id)
    serving = deployments.filter(
        environment=Environment.PRODUCTION, status=DeploymentStatus.ACTIVE
    ).order_by("-deployed_at", "-id")
    found = serving.first()
    if found is not None:
        return found
    approval = (
        mirror.alias_events.filter(kind=AliasEventKind.APPROVED, deployment__isnull=False)
        .select_related("deployment")
        .order_by("-created_at", "-id")
        .first()
    )
    if approval is not None:
        return approval.deployment
    return deployments.order_by("-deployed_at", "-id").first()


def _alert(mirror: MirroredModel, found: str, approved: str) -> None:
    """An Alert row of the model's built-in rule "mlflow_alias_unapproved" on its production
    deployment (the alerts dashboard, the rule's e-mail and webhooks; the owner's in-app notice
    comes from its audit entry), plus an in-app and e-mail notice to the owner and watchers."""
    model = mirror.model
    where = f"version {found}" if found else "no version"
    deployment = alert_deployment(mirror)
    if deployment is not None:
        alert_services.alert_raise(
            rule=alert_services.external_rule_ensure(model=model, name=ALIAS_RULE),
            deployment=deployment,
            message=f"MLflow's @{mirror.connection.protected_alias} of {mirror.mlflow_name} "
            f"names {where} without approval; the version approved for production in Steward "
            f"is {approved or 'none'}.",
            key=f"mlflow@{found or '-'}",
        )
    notifications.notify(
        [model.owner, *notifications.watchers(model.pk)],
        subject=f"MLflow alias @{mirror.connection.protected_alias} of {model.name} moved "
        "without approval",
        body=f"MLflow's @{mirror.connection.protected_alias} names {where}; the version "
        f"approved for production in Steward is {approved or 'none'}.",
        url=reverse("registry:model-detail", args=[model.slug]),
    )
