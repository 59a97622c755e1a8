"""Reads for the registry's web pages.

Every queryset here starts from `restrict(user, "view")`, so a page built from these functions
shows only what the user may see; `*_get` functions raise Http404 for anything else. The
audit entries a user may read are those whose target is a registry object they may view,
unless they see every model (superusers and the auditor and reviewer roles), who read all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, IntegerField, Max, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404

from registry.actors import Viewer
from registry.choices import Action, DeploymentStatus, Environment, RiskTier, Stage
from registry.models import Artifact, Dataset, Deployment, ModelVersion, RegisteredModel
from registry.querysets import has_global_permission

RISK_RANK = Case(
    *(When(risk_tier=tier, then=Value(rank)) for rank, tier in enumerate(RiskTier.values)),
    default=Value(-1),
    output_field=IntegerField(),
)

# sort key -> (label, order_by); the first entry is the default.
MODEL_ORDERINGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "name": ("Name (A to Z)", ("name",)),
    "-name": ("Name (Z to A)", ("-name",)),
    "-updated": ("Recently updated", ("-updated_at", "name")),
    "-risk": ("Highest risk first", ("-risk_rank", "name")),
    "team": ("Team", ("team", "name")),
    "-deployments": ("Most deployments", ("-deployment_count", "name")),
}
DEPLOYMENT_ORDERINGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "-deployed": ("Newest first", ("-deployed_at", "-id")),
    "deployed": ("Oldest first", ("deployed_at", "id")),
    "model": ("Model", ("version__model__name", "-version__number", "-deployed_at")),
    "environment": ("Environment", ("environment", "-deployed_at")),
    "status": ("Status", ("status", "-deployed_at")),
    "-traffic": ("Traffic share", ("-traffic_share", "-deployed_at")),
}
# Metrics shown first in a versions table, when a version has them.
KEY_METRICS = ("roc_auc", "auc", "accuracy", "f1", "gini", "logloss", "rmse", "mae", "r2")


def sees_everything(user: Viewer) -> bool:
    """True for superusers and holders of the global view permission (auditors, reviewers)."""
    return bool(user.is_authenticated and user.is_active and has_global_permission(user, "view"))


# Models -------------------------------------------------------------------------------------


def model_list(
    *,
    user: Viewer,
    search: str = "",
    filters: Mapping[str, str] | None = None,
    ordering: str = "name",
) -> QuerySet[RegisteredModel]:
    """Visible models matching `search` (name, description, team) and `filters` (task,
    risk_tier, team, owner username), each with its latest version number and deployment
    counts, in one query."""
    filters = filters or {}
    models = RegisteredModel.objects.restrict(user, Action.VIEW).select_related("owner")
    if search:
        models = models.filter(
            Q(name__icontains=search) | Q(description__icontains=search) | Q(team__icontains=search)
        )
    lookups = {"task": "task", "risk_tier": "risk_tier", "team": "team", "owner": "owner__username"}
    for key, lookup in lookups.items():
        if filters.get(key):
            models = models.filter(**{lookup: filters[key]})
    annotated = models.annotate(
        latest_version=Max("versions__number"),
        deployment_count=Count("versions__deployments", distinct=True),
        active_deployments=Count(
            "versions__deployments",
            filter=Q(versions__deployments__status=DeploymentStatus.ACTIVE),
            distinct=True,
        ),
        risk_rank=RISK_RANK,
    )
    default = next(iter(MODEL_ORDERINGS))
    return annotated.order_by(*MODEL_ORDERINGS.get(ordering, MODEL_ORDERINGS[default])[1])


def model_filter_options(*, user: Viewer) -> dict[str, list[str]]:
    """The teams and owners of the visible models, for the list's filter menus."""
    visible = RegisteredModel.objects.restrict(user, Action.VIEW)
    teams = visible.exclude(team="").order_by("team").values_list("team", flat=True).distinct()
    owners = (
        get_user_model()
        .objects.filter(owned_models__in=visible.values("pk"))
        .order_by("username")
        .values_list("username", flat=True)
        .distinct()
    )
    return {"teams": list(teams), "owners": list(owners)}


def model_get(*, user: Viewer, slug: str) -> RegisteredModel:
    """The model with `slug` if the user may view it, else Http404."""
    return get_object_or_404(
        RegisteredModel.objects.restrict(user, Action.VIEW).select_related("owner"), slug=slug
    )


def key_metrics(metrics: Mapping[str, Any], limit: int = 3) -> list[tuple[str, Any]]:
    """Up to `limit` metrics, well-known ones first, then the rest by name."""
    known = [name for name in KEY_METRICS if name in metrics]
    rest = sorted(name for name in metrics if name not in KEY_METRICS)
    return [(name, metrics[name]) for name in (known + rest)[:limit]]


def model_versions(*, user: Viewer, model: RegisteredModel) -> list[ModelVersion]:
    """The model's versions, newest first, each with `key_metrics` and `deployment_count`."""
    versions = list(
        ModelVersion.objects.restrict(user, Action.VIEW)
        .filter(model=model)
        .select_related("created_by")
        .annotate(deployment_count=Count("deployments"))
        .order_by("-number")
    )
    for version in versions:
        version.key_metrics = key_metrics(version.training_metrics)
    return list(versions)


def model_datasets(*, user: Viewer, model: RegisteredModel) -> QuerySet[Dataset]:
    """The model's datasets, by name, newest number first."""
    return (
        Dataset.objects.restrict(user, Action.VIEW)
        .filter(model=model)
        .select_related("created_by")
        .order_by("name", "-number")
    )


def model_deployments(*, user: Viewer, model: RegisteredModel) -> QuerySet[Deployment]:
    """Every deployment of any version of the model, newest first."""
    return (
        Deployment.objects.restrict(user, Action.VIEW)
        .filter(version__model=model)
        .select_related("version__model", "deployed_by")
    )


# Versions, artifacts, datasets ---------------------------------------------------------------


def version_get(*, user: Viewer, slug: str, number: int) -> ModelVersion:
    """Version `number` of the model `slug` if the user may view it, else Http404."""
    return get_object_or_404(
        ModelVersion.objects.restrict(user, Action.VIEW).select_related("model", "created_by"),
        model__slug=slug,
        number=number,
    )


def version_artifacts(*, user: Viewer, version: ModelVersion) -> list[Artifact]:
    """The version's artifacts; `web_url` is set for external ones a browser can open
    (http and https only: s3://, oci:// and the like are shown, not linked)."""
    artifacts = list(
        Artifact.objects.restrict(user, Action.VIEW)
        .filter(version=version)
        .select_related("created_by")
        .order_by("kind", "name")
    )
    for artifact in artifacts:
        web = artifact.uri.lower().startswith(("http://", "https://"))
        artifact.web_url = artifact.uri if web else ""
    return artifacts


def version_deployments(*, user: Viewer, version: ModelVersion) -> QuerySet[Deployment]:
    """The deployments serving (or that served) `version`, newest first."""
    return (
        Deployment.objects.restrict(user, Action.VIEW)
        .filter(version=version)
        .select_related("version__model", "deployed_by")
    )


def feature_importance_rows(importance: Mapping[str, float]) -> list[dict[str, Any]]:
    """Features by importance, largest first, each with its share of the largest (0-100)."""
    ranked = sorted(importance.items(), key=lambda item: (-abs(item[1]), item[0]))
    top = max((abs(value) for _, value in ranked), default=0) or 1
    return [
        {"name": name, "value": value, "percent": round(100 * abs(value) / top, 1)}
        for name, value in ranked
    ]


def dataset_get(*, user: Viewer, pk: int) -> Dataset:
    """The dataset if the user may view it, else Http404."""
    return get_object_or_404(
        Dataset.objects.restrict(user, Action.VIEW).select_related("model", "created_by"), pk=pk
    )


def dataset_columns(dataset: Dataset) -> list[dict[str, Any]]:
    """One row per schema column with its profile (missing share, range or top categories)."""
    rows = []
    for column in dataset.schema:
        profile = dataset.profile.get(column["name"], {})
        rows.append(
            {"name": column["name"], "type": column.get("type", "")}
            | {
                key: profile.get(key)
                for key in ("missing", "missing_share", "min", "max", "mean", "std", "distinct")
            }
            | {"top": profile.get("top") or []}
        )
    return rows


# Deployments --------------------------------------------------------------------------------


def deployment_list(
    *, user: Viewer, search: str = "", filters: Mapping[str, str] | None = None, ordering: str = ""
) -> QuerySet[Deployment]:
    """Visible deployments matching `search` (endpoint, model name) and `filters`
    (environment, status, model slug)."""
    filters = filters or {}
    deployments = Deployment.objects.restrict(user, Action.VIEW).select_related(
        "version__model", "deployed_by"
    )
    if search:
        deployments = deployments.filter(
            Q(endpoint__icontains=search) | Q(version__model__name__icontains=search)
        )
    lookups = {"environment": "environment", "status": "status", "model": "version__model__slug"}
    for key, lookup in lookups.items():
        if filters.get(key):
            deployments = deployments.filter(**{lookup: filters[key]})
    default = next(iter(DEPLOYMENT_ORDERINGS))
    return deployments.order_by(
        *DEPLOYMENT_ORDERINGS.get(ordering, DEPLOYMENT_ORDERINGS[default])[1]
    )


def deployment_model_options(*, user: Viewer) -> list[tuple[str, str]]:
    """(slug, name) of the visible models that have deployments."""
    return list(
        RegisteredModel.objects.restrict(user, Action.VIEW)
        .filter(versions__deployments__isnull=False)
        .order_by("name")
        .values_list("slug", "name")
        .distinct()
    )


def deployment_get(*, user: Viewer, pk: int) -> Deployment:
    """The deployment if the user may view it, else Http404."""
    return get_object_or_404(
        Deployment.objects.restrict(user, Action.VIEW).select_related(
            "version__model", "version__created_by", "deployed_by"
        ),
        pk=pk,
    )


def deployment_history(*, user: Viewer, deployment: Deployment) -> dict[str, Any]:
    """What `deployment` replaced and what replaced it, and the whole replacement chain
    through it (oldest first), from one query over the deployments at its endpoint."""
    same_endpoint = {
        d.pk: d
        for d in Deployment.objects.restrict(user, Action.VIEW)
        .filter(
            version__model_id=deployment.version.model_id,
            environment=deployment.environment,
            endpoint=deployment.endpoint,
        )
        .select_related("version", "deployed_by")
        .order_by("deployed_at", "id")
    }
    replacers: dict[int, list[Deployment]] = {}
    for other in same_endpoint.values():
        if other.replaces_id:
            replacers.setdefault(other.replaces_id, []).append(other)
    earlier: list[Deployment] = []
    seen = {deployment.pk}
    cursor = same_endpoint.get(deployment.replaces_id or 0)
    while cursor is not None and cursor.pk not in seen:
        seen.add(cursor.pk)
        earlier.insert(0, cursor)
        cursor = same_endpoint.get(cursor.replaces_id or 0)
    later: list[Deployment] = []
    following = replacers.get(deployment.pk, [])
    while following and following[0].pk not in seen:
        seen.add(following[0].pk)
        later.append(following[0])
        following = replacers.get(following[0].pk, [])
    return {
        "replaces": earlier[-1] if earlier else None,
        "replaced_by": replacers.get(deployment.pk, []),
        "chain": [*earlier, same_endpoint.get(deployment.pk, deployment), *later],
    }


# Overview and audit -------------------------------------------------------------------------


def overview(*, user: Viewer) -> dict[str, Any]:
    """Counts for the home page: models by risk tier, versions by stage, active deployments
    by environment, and the latest audit entries the user may read."""
    models = RegisteredModel.objects.restrict(user, Action.VIEW)
    by_risk = _counts(models, "risk_tier")
    by_stage = _counts(ModelVersion.objects.restrict(user, Action.VIEW), "stage")
    active = Deployment.objects.restrict(user, Action.VIEW).filter(status=DeploymentStatus.ACTIVE)
    by_env = _counts(active, "environment")
    return {
        "model_count": sum(by_risk.values()),
        "models_by_risk": _labelled(by_risk, RiskTier.choices),
        "version_count": sum(by_stage.values()),
        "versions_by_stage": _labelled(by_stage, Stage.choices),
        "active_deployment_count": sum(by_env.values()),
        "deployments_by_environment": _labelled(by_env, Environment.choices),
        "recent_models": list(models.select_related("owner").order_by("-updated_at")[:5]),
    }


def _labelled(
    counts: Mapping[str, int], choices: Iterable[tuple[str, str]]
) -> list[tuple[str, str, int]]:
    """(value, label, count) for every choice, zeros included, in the choices' order."""
    return [(value, label, counts.get(value, 0)) for value, label in choices]


def _counts(queryset: QuerySet[Any], field: str) -> dict[str, int]:
    rows = queryset.order_by().values_list(field).annotate(n=Count("pk"))
    return dict(rows)
