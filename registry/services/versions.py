"""Writes on model versions: registration with race-free numbering, stage transitions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from governance import audit, lineage
from governance.lineage.models import Relation
from registry import hooks
from registry.actors import Actor, SystemActor
from registry.choices import Action, DeploymentStatus, Environment, Stage
from registry.errors import InvalidTransition
from registry.models import Dataset, Deployment, ModelVersion, RegisteredModel
from registry.services.common import clean_mapping, clean_schema, require_object

# Which stage may follow which. Approval and rejection come from the governance workflow.
TRANSITIONS: dict[str, set[str]] = {
    Stage.DRAFT: {Stage.PENDING_REVIEW, Stage.ARCHIVED},
    Stage.PENDING_REVIEW: {Stage.APPROVED, Stage.REJECTED, Stage.DRAFT, Stage.ARCHIVED},
    Stage.APPROVED: {Stage.ARCHIVED},
    Stage.REJECTED: {Stage.DRAFT, Stage.ARCHIVED},
    Stage.ARCHIVED: set(),
}


def _datasets_of(model: RegisteredModel, ids: Sequence[int], field: str) -> list[Dataset]:
    found = {d.pk: d for d in Dataset.objects.filter(model=model, pk__in=ids)}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise ValidationError(
            {field: f"no dataset of model {model.slug} with id {', '.join(missing)}"}
        )
    return [found[i] for i in ids]


@transaction.atomic
def version_register(
    *,
    model: RegisteredModel,
    actor: Actor,
    input_schema: list[dict[str, Any]] | None = None,
    hyperparameters: dict[str, Any] | None = None,
    training_metrics: dict[str, float] | None = None,
    feature_importance: dict[str, float] | None = None,
    code_repository: str = "",
    code_commit: str = "",
    framework: str = "",
    description: str = "",
    training_datasets: Sequence[int] = (),
    validation_datasets: Sequence[int] = (),
    client_key: str = "",
) -> ModelVersion:
    """Register the next version of `model` as a draft.

    The model row is locked while the number is chosen, so two registrations at the same
    instant get consecutive numbers; the unique constraint backs this up. With a
    `client_key` already used on this model, the version registered under it is returned
    unchanged (a retried pipeline step makes no second version; nothing is audited twice).
    """
    require_object(actor, Action.CHANGE, model)
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    if client_key:
        existing = model.versions.filter(client_key=client_key).first()
        if existing is not None:
            return existing
    schema = clean_schema(input_schema or [])
    importance = clean_mapping(feature_importance or {}, field="feature_importance", numeric=True)
    unknown = sorted(set(importance) - {f["name"] for f in schema}) if schema else []
    if unknown:
        raise ValidationError(
            {"feature_importance": f"features not in input_schema: {', '.join(unknown)}"}
        )
    trained_on = _datasets_of(model, training_datasets, "training_datasets")
    validated_with = _datasets_of(model, validation_datasets, "validation_datasets")
    last = model.versions.aggregate(last=Max("number"))["last"] or 0
    version = ModelVersion(
        model=model,
        number=last + 1,
        input_schema=schema,
        hyperparameters=clean_mapping(hyperparameters or {}, field="hyperparameters"),
        training_metrics=clean_mapping(
            training_metrics or {}, field="training_metrics", numeric=True
        ),
        feature_importance=importance,
        code_repository=code_repository,
        code_commit=code_commit,
        framework=framework,
        description=description,
        client_key=client_key,
        created_by=actor,
    )
    version.full_clean(validate_unique=False)
    version.save()
    audit.record(
        actor=actor,
        action="registry.version.registered",
        target=version,
        after=audit.snapshot(version),
    )
    for datasets, relation in (
        (trained_on, Relation.TRAINED_ON),
        (validated_with, Relation.VALIDATED_WITH),
    ):
        for dataset in datasets:
            lineage.link(upstream=dataset, downstream=version, relation=relation, actor=actor)
    return version


def _refuse_if_serving_production(version: ModelVersion) -> None:
    """An archived version may not serve: its production deployments go first (retired, or
    replaced by another version). The deployments named are the version's own."""
    serving = list(
        Deployment.objects.select_for_update()
        .filter(
            version=version,
            environment=Environment.PRODUCTION,
            status=DeploymentStatus.ACTIVE,
        )
        .order_by("pk")
    )
    if serving:
        where = ", ".join(f"deployment {d.pk} at {d.endpoint}" for d in serving)
        raise InvalidTransition(
            f"{version} still serves production ({where}): retire or replace those "
            "deployments before archiving it"
        )


@transaction.atomic
def version_transition(
    *, version: ModelVersion, to: str, actor: Actor | SystemActor, reason: str = ""
) -> ModelVersion:
    """Move a version to another stage if the transition table allows it.

    No permission check here: this is the building block of `version_submit`,
    `version_archive` and the governance approval workflow, which check who may act. It is
    not exposed by any view or API endpoint."""
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if to not in TRANSITIONS[version.stage]:
        raise InvalidTransition(
            f"{version} is {version.get_stage_display().lower()}; "
            f"it cannot move to {Stage(to).label.lower()}"
        )
    if to == Stage.ARCHIVED:
        _refuse_if_serving_production(version)
    before = {"stage": version.stage}
    version.stage = to
    version.save(update_fields=["stage", "updated_at"])
    audit.record(
        actor=actor,
        action=f"registry.version.{to}",
        target=version,
        before=before,
        after={"stage": to, "reason": reason} if reason else {"stage": to},
    )
    if to == Stage.ARCHIVED:
        hooks.fire(hooks.VERSION_ARCHIVED, version=version, actor=actor)
    return version


def version_submit(*, version: ModelVersion, actor: Actor) -> ModelVersion:
    """Ask for review: a draft (or a rejected version, reworked) becomes pending review."""
    require_object(actor, Action.CHANGE, version)
    if version.stage == Stage.REJECTED:
        version_transition(version=version, to=Stage.DRAFT, actor=actor)
    return version_transition(version=version, to=Stage.PENDING_REVIEW, actor=actor)


def version_archive(*, version: ModelVersion, actor: Actor) -> ModelVersion:
    require_object(actor, Action.CHANGE, version)
    return version_transition(version=version, to=Stage.ARCHIVED, actor=actor)
