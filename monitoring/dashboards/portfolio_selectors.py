"""Reads of the portfolio pages: the status overview (figure 1.1), the deployment inventory
(figure 1.2) and the alert list.

Everything starts from `Deployment.objects.restrict(user, "view")` and reads the rollups kept
per deployment (`DeploymentStatus`, `DeploymentActivity`), never the events. Levels, ranks and
prediction totals are database annotations, so filtering and sorting stay in SQL and a page
costs the same number of queries for ten deployments as for a thousand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import OrderBy
from django.db.models.functions import Coalesce

from monitoring.alerts.selectors import alert_list
from monitoring.engines.status import Level
from monitoring.models import Alert, AlertState
from registry.actors import Viewer
from registry.choices import Action
from registry.choices import DeploymentStatus as Lifecycle
from registry.models import Deployment, RegisteredModel

# The inventory keeps its three status columns; data quality is on each deployment's pages.
AXES: tuple[str, ...] = ("accuracy", "drift", "service_health")
# The portfolio shows them in the order of the seed document's figure 1.1.
PORTFOLIO_AXES: tuple[str, ...] = ("accuracy", "service_health", "drift")
# The query parameter and label of each status axis.
AXIS_PARAM = {"accuracy": "accuracy", "drift": "drift", "service_health": "health"}
AXIS_LABEL = {"accuracy": "Accuracy", "drift": "Drift", "service_health": "Service health"}
LEVELS: tuple[tuple[str, str], ...] = (
    (Level.GOOD, "Good"),
    (Level.AT_RISK, "At risk"),
    (Level.FAILING, "Failing"),
    (Level.UNKNOWN, "Unknown"),
)
# Worse is higher; a deployment without a status row ranks with "unknown".
SEVERITY = {Level.UNKNOWN: -1, Level.GOOD: 0, Level.AT_RISK: 1, Level.FAILING: 2}
NOT_COMPUTED = "status not computed yet"
LIFECYCLE_CHOICES = (("", "Active only"), ("inactive", "Inactive only"), ("all", "All"))


@dataclass(frozen=True)
class Column:
    """A sortable inventory column: its label, the annotation or field it sorts on, and
    whether sorting the column upwards means sorting the field downwards (ages and "time
    since": a later timestamp is a shorter time)."""

    label: str
    field: str
    inverted: bool = False


COLUMNS: dict[str, Column] = {
    "model": Column("Model", "version__model__name"),
    "environment": Column("Environment", "environment"),
    "endpoint": Column("Endpoint", "endpoint"),
    "share": Column("Share of predictions", "predictions"),
    "accuracy": Column("Accuracy", "accuracy_rank"),
    "drift": Column("Drift", "drift_rank"),
    "health": Column("Health", "service_health_rank"),
    "age": Column("Age", "deployed_at", inverted=True),
    "last_prediction": Column("Last prediction", "last_prediction_at", inverted=True),
}
DEFAULT_SORT = "-share"


def _rank(axis: str) -> Case:
    field = f"monitoring_status__{axis}_level"
    return Case(
        *(When(**{field: level}, then=Value(rank)) for level, rank in SEVERITY.items()),
        default=Value(SEVERITY[Level.UNKNOWN]),
        output_field=IntegerField(),
    )


def with_monitoring(deployments: QuerySet[Deployment]) -> QuerySet[Deployment]:
    """Annotate each deployment with its stored predictions, last prediction time, and per
    axis its level, reason and severity rank (LEFT JOINs on the two one-row-per-deployment
    rollups; a missing row reads as 0 predictions and "unknown")."""
    annotations: dict[str, Any] = {
        "predictions": Coalesce(F("monitoring_activity__predictions"), Value(0)),
        "last_prediction_at": F("monitoring_activity__last_prediction_at"),
        "status_computed_at": F("monitoring_status__computed_at"),
    }
    for axis in AXES:
        annotations[f"{axis}_level"] = Coalesce(
            F(f"monitoring_status__{axis}_level"),
            Value(str(Level.UNKNOWN)),
            output_field=CharField(),
        )
        annotations[f"{axis}_reason"] = Coalesce(
            F(f"monitoring_status__{axis}_reason"), Value(NOT_COMPUTED), output_field=TextField()
        )
        annotations[f"{axis}_rank"] = _rank(axis)
    return deployments.annotate(**annotations)


def visible_deployments(*, user: Viewer, lifecycle: str = "") -> QuerySet[Deployment]:
    """Deployments `user` may view: active ones by default, "inactive", or "all"."""
    deployments = Deployment.objects.restrict(user, Action.VIEW)
    if lifecycle == "all":
        return deployments
    wanted = Lifecycle.INACTIVE if lifecycle == "inactive" else Lifecycle.ACTIVE
    return deployments.filter(status=wanted)


# Portfolio (figure 1.1) ---------------------------------------------------------------------


def portfolio_summary(*, user: Viewer) -> dict[str, Any]:
    """How many active deployments `user` may view, and per axis how many are at each level,
    in one aggregate query. Shares are percentages of the total (0 when there is none)."""
    aggregates: dict[str, Any] = {"total": Count("pk")}
    for axis in AXES:
        for level, _ in LEVELS:
            aggregates[f"{axis}:{level}"] = Count("pk", filter=Q(**{f"{axis}_level": level}))
    counts = with_monitoring(visible_deployments(user=user)).aggregate(**aggregates)
    total = counts["total"]
    axes = []
    for axis in PORTFOLIO_AXES:
        levels = [
            {
                "level": str(level),
                "label": label,
                "count": counts[f"{axis}:{level}"],
                "share": round(100 * counts[f"{axis}:{level}"] / total, 1) if total else 0.0,
            }
            for level, label in LEVELS
        ]
        axes.append(
            {"axis": axis, "param": AXIS_PARAM[axis], "label": AXIS_LABEL[axis], "levels": levels}
        )
    return {"total": total, "axes": axes}


# Inventory (figure 1.2) ---------------------------------------------------------------------


def ordering_for(sort: str) -> list[OrderBy]:
    """ORDER BY for a sort key such as "share" or "-age" (unknown keys give the default). A
    deployment that never predicted has the longest time since its last prediction."""
    if sort.lstrip("-") not in COLUMNS:
        sort = DEFAULT_SORT
    descending = sort.startswith("-")
    column = COLUMNS[sort.lstrip("-")]
    field_descending = descending != column.inverted
    expression = F(column.field)
    if field_descending:
        primary = expression.desc(nulls_last=True)
    elif column.inverted:
        primary = expression.asc(nulls_first=True)
    else:
        primary = expression.asc(nulls_last=True)
    tiebreak = F("pk").desc() if field_descending else F("pk").asc()
    return [primary, tiebreak]


def inventory_list(
    *,
    user: Viewer,
    search: str = "",
    filters: Mapping[str, str] | None = None,
    sort: str = DEFAULT_SORT,
) -> QuerySet[Deployment]:
    """The deployments `user` may view, annotated by `with_monitoring`, matching `search`
    (model name or endpoint) and `filters` (lifecycle: "" active, "inactive", "all";
    environment; owner username; model slug; accuracy / drift / health level), sorted by
    `sort` (a key of COLUMNS, "-" for descending)."""
    filters = filters or {}
    deployments = with_monitoring(
        visible_deployments(user=user, lifecycle=filters.get("lifecycle", ""))
    ).select_related("version__model__owner")
    if search:
        deployments = deployments.filter(
            Q(endpoint__icontains=search) | Q(version__model__name__icontains=search)
        )
    lookups = {
        "environment": "environment",
        "owner": "version__model__owner__username",
        "model": "version__model__slug",
    } | {param: f"{axis}_level" for axis, param in AXIS_PARAM.items()}
    for key, lookup in lookups.items():
        if filters.get(key):
            deployments = deployments.filter(**{lookup: filters[key]})
    return deployments.order_by(*ordering_for(sort))


def prediction_total(*, user: Viewer) -> int:
    """Predictions stored for every deployment `user` may view, active or not: the
    denominator of each row's share."""
    visible = Deployment.objects.restrict(user, Action.VIEW)
    total = visible.aggregate(n=Sum("monitoring_activity__predictions"))["n"]
    return int(total or 0)


def share_of(predictions: int, total: int) -> float:
    """Percentage of `total`, 0 when nothing was predicted anywhere."""
    return 100 * predictions / total if total else 0.0


def inventory_filter_options(*, user: Viewer) -> dict[str, list[tuple[str, str]]]:
    """The owners and models of the deployments `user` may view, for the filter menus."""
    models = RegisteredModel.objects.restrict(user, Action.VIEW).filter(
        versions__deployments__isnull=False
    )
    owners = (
        get_user_model()
        .objects.filter(owned_models__in=models.values("pk"))
        .order_by("username")
        .values_list("username", flat=True)
        .distinct()
    )
    return {
        "owners": [(name, name) for name in owners],
        "models": list(models.order_by("name").values_list("slug", "name").distinct()),
    }


# Alerts ---------------------------------------------------------------------------------------

ALERT_TABS: tuple[tuple[str, str], ...] = (
    (AlertState.OPEN, "Open"),
    (AlertState.ACKNOWLEDGED, "Acknowledged"),
    (AlertState.RESOLVED, "Resolved"),
    ("all", "All"),
)


def alert_page_list(*, user: Viewer, state: str) -> QuerySet[Alert]:
    """Alerts on deployments `user` may view in `state` ("all" for every state), newest
    first, with what the page shows joined in."""
    alerts = alert_list(user=user, state=None if state == "all" else state)
    return alerts.select_related(
        "deployment__version__model", "acknowledged_by", "resolved_by"
    ).order_by("-opened_at", "-id")


def alert_state_counts(*, user: Viewer) -> dict[str, int]:
    """How many visible alerts are in each state, plus "all", in one query."""
    aggregates: dict[str, Any] = {"all": Count("pk")}
    for state in AlertState.values:
        aggregates[state] = Count("pk", filter=Q(state=state))
    return alert_list(user=user).order_by().aggregate(**aggregates)


def alerts_changeable(*, user: Viewer, ids: list[int]) -> set[int]:
    """Which of `ids` `user` may acknowledge or resolve: the API's rule, change rights on
    the alert's model."""
    changeable = alert_list(user=user, action=Action.CHANGE).filter(pk__in=ids)
    return set(changeable.values_list("pk", flat=True))


def open_alert_count(*, user: Viewer) -> int:
    """Open alerts on deployments `user` may view (one query, for the navigation)."""
    return alert_list(user=user, state=AlertState.OPEN).count()
