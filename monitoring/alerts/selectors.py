"""Reads of alerting, restricted to what the user may view."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from monitoring.models import Alert, AlertRule
from registry.models import Deployment, RegisteredModel


def alert_rule_list(*, user: Any, action: str = "view") -> QuerySet[AlertRule]:
    """Rules on a deployment or a model the user may `action` (view by default)."""
    models = RegisteredModel.objects.restrict(user, action).values("pk")
    deployments = Deployment.objects.restrict(user, action).values("pk")
    return AlertRule.objects.filter(Q(model__in=models) | Q(deployment__in=deployments))


def alert_list(*, user: Any, action: str = "view", state: str | None = None) -> QuerySet[Alert]:
    """Alerts on deployments the user may `action`, optionally in one state."""
    alerts = Alert.objects.filter(
        deployment__in=Deployment.objects.restrict(user, action).values("pk")
    ).select_related("rule")
    return alerts.filter(state=state) if state else alerts
