"""Canaries and their baselines: a production deployment that takes a minority of an
endpoint's traffic is compared with the deployment taking the most, and a canary doing worse
raises a rollback suggestion.

Every model with a canary gets a model-wide "canary" rule the first time one is evaluated
(the headline metric, 2 points worse over 3 days); users may edit or disable it like any
other rule.
"""

from __future__ import annotations

from django.db.models import Q

from governance import audit
from monitoring.models import AlertRule, AlertSource, Severity
from monitoring.performance.selectors import headline_metric, windowed_metric
from registry.choices import DeploymentStatus, Environment
from registry.models import Deployment

DEFAULT_GAP = -0.02
DEFAULT_WINDOW_DAYS = 3


def baseline_of(deployment: Deployment) -> Deployment | None:
    """The active production deployment at the same endpoint with a larger traffic share
    than this one (the largest), or None when this one is not a canary."""
    if deployment.environment != Environment.PRODUCTION:
        return None
    if deployment.status != DeploymentStatus.ACTIVE:
        return None
    return (
        Deployment.objects.filter(
            environment=Environment.PRODUCTION,
            endpoint=deployment.endpoint,
            status=DeploymentStatus.ACTIVE,
            traffic_share__gt=deployment.traffic_share,
        )
        .exclude(pk=deployment.pk)
        .select_related("version")
        .order_by("-traffic_share", "-deployed_at")
        .first()
    )


def canary_gap(deployment: Deployment, name: str, days: int) -> tuple[float, Deployment] | None:
    """(canary's metric minus its baseline's, the baseline) over `days`, or None when the
    deployment is no canary or either side has no figure yet."""
    baseline = baseline_of(deployment)
    if baseline is None:
        return None
    mine = windowed_metric(deployment, name, days)
    theirs = windowed_metric(baseline, name, days)
    if mine is None or theirs is None:
        return None
    return mine - theirs, baseline


def canary_rule_ensure(deployment: Deployment) -> AlertRule | None:
    """The model's canary rule, created (audited, by the system) when the deployment is a
    canary and the model has none yet; None for a deployment that is no canary."""
    if baseline_of(deployment) is None:
        return None
    model = deployment.version.model
    existing = AlertRule.objects.filter(source=AlertSource.CANARY).filter(
        Q(model=model) | Q(deployment=deployment)
    )
    if existing.exists():
        return existing.first()
    rule = AlertRule.objects.create(
        model=model,
        source=AlertSource.CANARY,
        name=headline_metric(model.task),
        comparator="lt",
        threshold=DEFAULT_GAP,
        window_days=DEFAULT_WINDOW_DAYS,
        severity=Severity.WARNING,
        notify_in_app=True,
    )
    audit.record(actor=None, action="monitoring.alert_rule.created", target=rule)
    return rule
