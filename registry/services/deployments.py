"""Writes on deployments: deploy, roll back (a new row), change status."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.module_loading import import_string

from governance import audit, lineage
from governance.lineage.models import Relation
from registry import hooks
from registry.actors import Actor
from registry.choices import Action, DeploymentStatus, Environment, Stage
from registry.errors import InvalidTransition
from registry.models import Deployment, Endpoint, ModelVersion, RegisteredModel
from registry.querysets import has_global_permission
from registry.services.common import require_object

UNDEPLOYABLE = {Stage.REJECTED, Stage.ARCHIVED}
# One answer whoever holds the endpoint, visible to the actor or not: it names only the
# actor's own model, never the holder, its deployments or their traffic shares.
ENDPOINT_TAKEN = (
    "this endpoint is not available to model {model}: an endpoint serves only the model that "
    "first deployed to it (an administrator can move it)"
)


def _claim_endpoint(model: RegisteredModel, environment: str, endpoint: str) -> Endpoint:
    """The endpoint, locked, created for `model` if nobody served it yet; ValidationError when
    it belongs to another model. A unique constraint settles two first deployments racing."""
    found = Endpoint.objects.select_for_update().filter(environment=environment, name=endpoint)
    row = found.first()
    if row is None:
        try:
            with transaction.atomic():
                row = Endpoint.objects.create(environment=environment, name=endpoint, model=model)
        except IntegrityError:  # another model's first deployment won the race
            row = found.get()
    if row.model_id != model.pk:
        raise ValidationError({"endpoint": ENDPOINT_TAKEN.format(model=model.slug)})
    return row


def _check_traffic(environment: str, endpoint: str, share: Decimal, replacing: set[int]) -> None:
    """Active deployments behind one endpoint may not take more than 100% of its traffic. The
    endpoint belongs to the deploying model, so every share counted here is its own."""
    taken = Deployment.objects.select_for_update().filter(
        environment=environment, endpoint=endpoint, status=DeploymentStatus.ACTIVE
    ).exclude(pk__in=replacing).aggregate(total=Sum("traffic_share"))["total"] or Decimal(0)
    if taken + share > 100:
        raise ValidationError(
            {
                "traffic_share": f"{endpoint} ({environment}) already routes {taken}% to other "
                f"active deployments; {share}% more would exceed 100%"
            }
        )


def _deactivate(deployment: Deployment, actor: Actor, *, reason: str) -> None:
    before = {"status": deployment.status}
    deployment.status = DeploymentStatus.INACTIVE
    deployment.save(update_fields=["status", "updated_at"])
    audit.record(
        actor=actor,
        action="registry.deployment.deactivated",
        target=deployment,
        before=before,
        after={"status": deployment.status, "reason": reason},
    )


@transaction.atomic
def deployment_create(
    *,
    version: ModelVersion,
    actor: Actor,
    environment: str,
    endpoint: str,
    decision_threshold: Decimal | float | None = None,
    traffic_share: Decimal | float = 100,
    description: str = "",
    replaces: Deployment | None = None,
    is_rollback: bool = False,
) -> Deployment:
    """Deploy `version`. Production takes approved versions only, and only what the
    production gate (STEWARD_PRODUCTION_GATE) lets through. With `replaces`, the replaced
    deployment is made inactive in the same transaction."""
    require_object(actor, Action.DEPLOY, version)
    version = ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
    if version.stage in UNDEPLOYABLE:
        raise InvalidTransition(f"{version} is {version.get_stage_display().lower()}")
    if environment == Environment.PRODUCTION and version.stage != Stage.APPROVED:
        raise InvalidTransition(
            f"{version} is {version.get_stage_display().lower()}: "
            "only approved versions may be deployed to production"
        )
    share = Decimal(str(traffic_share))
    if replaces is not None:
        replaces = Deployment.objects.select_for_update().get(pk=replaces.pk)
        if replaces.version.model_id != version.model_id:
            raise ValidationError({"replaces": "must be a deployment of the same model"})
        if (replaces.environment, replaces.endpoint) != (environment, endpoint):
            raise ValidationError({"replaces": "must be a deployment at the same endpoint"})
        if replaces.status != DeploymentStatus.ACTIVE:
            raise ValidationError(
                {
                    "replaces": f"deployment {replaces.pk} is {replaces.status}: only an active "
                    "deployment can be replaced"
                }
            )
    _claim_endpoint(version.model, environment, endpoint)
    _check_traffic(environment, endpoint, share, {replaces.pk} if replaces else set())
    bind = (
        _gate(version, endpoint, actor, is_rollback)
        if environment == Environment.PRODUCTION
        else None
    )
    deployment = Deployment(
        version=version,
        environment=environment,
        endpoint=endpoint,
        decision_threshold=None if decision_threshold is None else Decimal(str(decision_threshold)),
        traffic_share=share,
        description=description,
        replaces=replaces,
        is_rollback=is_rollback,
        deployed_by=actor,
    )
    deployment.full_clean()
    deployment.save()
    if bind is not None:
        bind(deployment)
    audit.record(
        actor=actor,
        action="registry.deployment.created",
        target=deployment,
        after=audit.snapshot(deployment),
    )
    lineage.link(
        upstream=version, downstream=deployment, relation=Relation.DEPLOYED_FROM, actor=actor
    )
    if replaces is not None and replaces.status == DeploymentStatus.ACTIVE:
        _deactivate(replaces, actor, reason=f"replaced by deployment {deployment.pk}")
    hooks.fire(hooks.DEPLOYMENT_CREATED, deployment=deployment, actor=actor)
    return deployment


class ProductionGate(Protocol):
    """What STEWARD_PRODUCTION_GATE names: raises to refuse, returns a binder for the row."""

    def __call__(
        self, *, version: ModelVersion, endpoint: str, actor: Actor, is_rollback: bool
    ) -> Callable[[Deployment], None]: ...


def _gate(
    version: ModelVersion, endpoint: str, actor: Actor, is_rollback: bool
) -> Callable[[Deployment], None]:
    """Ask the configured production gate; it raises to refuse and returns a binder."""
    gate: ProductionGate = import_string(settings.STEWARD_PRODUCTION_GATE)
    return gate(version=version, endpoint=endpoint, actor=actor, is_rollback=is_rollback)


def _rollback_target(deployment: Deployment) -> ModelVersion:
    """The version that served this endpoint before `deployment`'s version did."""
    earlier = (
        Deployment.objects.filter(
            environment=deployment.environment,
            endpoint=deployment.endpoint,
            version__model_id=deployment.version.model_id,
            deployed_at__lt=deployment.deployed_at,
        )
        .exclude(version_id=deployment.version_id)
        .select_related("version")
        .first()
    )
    if earlier is None:
        raise InvalidTransition(
            f"no earlier version served {deployment.endpoint}: nothing to roll back to"
        )
    return earlier.version


def rollback_target(deployment: Deployment) -> ModelVersion | None:
    """The version a rollback of `deployment` would bring back (the one that served its
    endpoint before), or None when nothing earlier served there. For confirmation pages."""
    try:
        return _rollback_target(deployment)
    except InvalidTransition:
        return None


@transaction.atomic
def deployment_rollback(
    *,
    deployment: Deployment,
    actor: Actor,
    to_version: ModelVersion | None = None,
    reason: str = "",
) -> Deployment:
    """Roll back by deploying an earlier version as a new record that points at this one."""
    require_object(actor, Action.DEPLOY, deployment)
    deployment = (
        Deployment.objects.select_for_update().select_related("version").get(pk=deployment.pk)
    )
    if deployment.status != DeploymentStatus.ACTIVE:
        raise InvalidTransition(f"deployment {deployment.pk} is {deployment.status}, not active")
    target = to_version or _rollback_target(deployment)
    if target.model_id != deployment.version.model_id:
        raise ValidationError({"to_version": "must be a version of the same model"})
    if target.number >= deployment.version.number:
        raise ValidationError({"to_version": "a rollback goes to an earlier version"})
    rollback = deployment_create(
        version=target,
        actor=actor,
        environment=deployment.environment,
        endpoint=deployment.endpoint,
        decision_threshold=deployment.decision_threshold,
        traffic_share=deployment.traffic_share,
        description=reason or f"Rollback of deployment {deployment.pk}",
        replaces=deployment,
        is_rollback=True,
    )
    lineage.link(
        upstream=deployment, downstream=rollback, relation=Relation.ROLLED_BACK_FROM, actor=actor
    )
    audit.record(
        actor=actor,
        action="registry.deployment.rolled_back",
        target=rollback,
        after={"from_deployment": deployment.pk, "to_version": target.number, "reason": reason},
    )
    return rollback


@transaction.atomic
def deployment_retire(*, deployment: Deployment, actor: Actor) -> Deployment:
    require_object(actor, Action.DEPLOY, deployment)
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if deployment.status == DeploymentStatus.RETIRED:
        raise InvalidTransition(f"deployment {deployment.pk} is already retired")
    before = {"status": deployment.status}
    deployment.status = DeploymentStatus.RETIRED
    deployment.save(update_fields=["status", "updated_at"])
    audit.record(
        actor=actor,
        action="registry.deployment.retired",
        target=deployment,
        before=before,
        after={"status": deployment.status},
    )
    return deployment


@transaction.atomic
def endpoint_move(*, endpoint: Endpoint, to_model: RegisteredModel, actor: Actor) -> Endpoint:
    """Give an endpoint to another model (administrators only: the global manage-access
    right). Refused while the current model still has active deployments behind it, so one
    endpoint never routes traffic to two models."""
    if not has_global_permission(actor, Action.MANAGE_ACCESS):
        raise PermissionDenied("only administrators may move an endpoint to another model")
    endpoint = Endpoint.objects.select_for_update().select_related("model").get(pk=endpoint.pk)
    if endpoint.model_id == to_model.pk:
        return endpoint
    serving = Deployment.objects.filter(
        environment=endpoint.environment, endpoint=endpoint.name, status=DeploymentStatus.ACTIVE
    ).values_list("pk", flat=True)
    if serving:
        raise InvalidTransition(
            f"{endpoint} still serves {endpoint.model.slug} (active deployments "
            f"{', '.join(map(str, serving))}): retire them first"
        )
    before = {"model": endpoint.model.slug}
    endpoint.model = to_model
    endpoint.full_clean()
    endpoint.save(update_fields=["model", "updated_at"])
    audit.record(
        actor=actor,
        action="registry.endpoint.moved",
        target=endpoint,
        before=before,
        after={"model": to_model.slug, "environment": endpoint.environment, "name": endpoint.name},
    )
    return endpoint
