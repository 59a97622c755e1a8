"""Reads of alerting, restricted to what the user may view."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from monitoring.models import Alert, AlertRule
from registry.actors import Viewer
from registry.models import Deployment, RegisteredModel


def alert_rule_list(*, user: Viewer, action: str = "view") -> QuerySet[AlertRule]:
    """Rules on a deployment or a model the user may `action` (view by default)."""
    models = RegisteredModel.objects.restrict(user, action).values("pk")
    deployments = Deployment.objects.restrict(user, action).values("pk")
    return AlertRule.objects.filter(Q(model__in=models) | Q(deployment__in=deployments))


def alert_list(
    *, user: Viewer, action: str = "view", state: str | None = None, deployment: int | None = None
) -> QuerySet[Alert]:
    """Alerts on deployments the user may `action`, optionally in one state and on one
    deployment (one the user may not see gives an empty list, as if it had none)."""
    alerts = Alert.objects.filter(
        deployment__in=Deployment.objects.restrict(user, action).values("pk")
    ).select_related("rule")
    if deployment is not None:
        alerts = alerts.filter(deployment_id=deployment)
    return alerts.filter(state=state) if state else alerts
