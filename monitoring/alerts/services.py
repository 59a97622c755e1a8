"""Writes of alerting: rules, evaluation (open once, resolve when cleared), acknowledge and
resolve. Delivery runs after the opening transaction commits."""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from governance import audit
from monitoring.alerts.delivery import alert_deliver
from monitoring.engines.status import Level
from monitoring.models import (
    Alert,
    AlertRule,
    AlertSource,
    AlertState,
    DailyPerformance,
    DeploymentStatus,
)
from registry.models import Deployment

COMPARE: dict[str, Callable[[float, float], bool]] = {
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}
LEVEL_RANK = {Level.UNKNOWN: -1, Level.GOOD: 0, Level.AT_RISK: 1, Level.FAILING: 2}


class InvalidTransition(Exception):
    pass


@transaction.atomic
def alert_rule_create(*, actor: Any, **fields: Any) -> AlertRule:
    """A new rule (scope: `model` or `deployment`), validated and audited."""
    rule = AlertRule(created_by=actor, **fields)
    rule.full_clean()
    rule.save()
    audit.record(actor=actor, action="monitoring.alert_rule.created", target=rule)
    return rule


def rules_for(deployment: Deployment) -> list[AlertRule]:
    return list(
        AlertRule.objects.filter(active=True).filter(
            Q(deployment=deployment) | Q(model_id=deployment.version.model_id)
        )
    )


def rule_value(rule: AlertRule, deployment: Deployment) -> float | None:
    """The latest figure the rule looks at, or None when there is none yet."""
    if rule.source == AlertSource.STATUS:
        row = DeploymentStatus.objects.filter(deployment=deployment).first()
        level = getattr(row, f"{rule.name}_level", None) if row else None
        return None if level is None else float(LEVEL_RANK[Level(level)])
    latest = (
        DailyPerformance.objects.filter(deployment=deployment, labelled__gt=0)
        .order_by("-day")
        .first()
    )
    value = latest.metrics.get(rule.name) if latest else None
    return None if value is None else float(value)


def _message(rule: AlertRule, deployment: Deployment, value: float) -> str:
    shown = rule.get_comparator_display()
    return (
        f"{rule.source} {rule.name} of deployment {deployment.pk} is {value:.4g} "
        f"({shown} {rule.threshold:.4g})"
    )


def alerts_evaluate(*, deployment: Deployment, now: dt.datetime | None = None) -> dict[str, int]:
    """Open an alert for every rule whose condition holds and that has no unresolved alert on
    this deployment; resolve the unresolved ones whose condition has cleared. A rule without a
    figure yet neither opens nor resolves. Safe to repeat."""
    now = now or timezone.now()
    opened = resolved = 0
    for rule in rules_for(deployment):
        value = rule_value(rule, deployment)
        if value is None:
            continue
        key = f"{rule.pk}:{deployment.pk}"
        if COMPARE[rule.comparator](value, rule.threshold):
            opened += _open(rule, deployment, key, value, now)
        else:
            resolved += (
                Alert.objects.filter(dedup_key=key)
                .exclude(state=AlertState.RESOLVED)
                .update(state=AlertState.RESOLVED, resolved_at=now)
            )
    return {"opened": opened, "resolved": resolved}


def _open(rule: AlertRule, deployment: Deployment, key: str, value: float, now: Any) -> int:
    """1 if a new alert was opened; the partial unique index makes concurrent runs safe."""
    if Alert.objects.filter(dedup_key=key).exclude(state=AlertState.RESOLVED).exists():
        return 0
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                rule=rule,
                deployment=deployment,
                value=value,
                message=_message(rule, deployment, value),
                dedup_key=key,
                opened_at=now,
            )
    except IntegrityError:  # another run opened it first
        return 0
    transaction.on_commit(lambda: alert_deliver(alert.pk))
    return 1


@transaction.atomic
def alert_acknowledge(*, alert: Alert, actor: Any) -> Alert:
    """open -> acknowledged."""
    return _transition(alert, actor, AlertState.OPEN, AlertState.ACKNOWLEDGED, "acknowledged")


@transaction.atomic
def alert_resolve(*, alert: Alert, actor: Any) -> Alert:
    """open or acknowledged -> resolved (evaluation may reopen it if the condition holds)."""
    return _transition(
        alert, actor, (AlertState.OPEN, AlertState.ACKNOWLEDGED), AlertState.RESOLVED, "resolved"
    )


def _transition(alert: Alert, actor: Any, source: Any, target: str, verb: str) -> Alert:
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    allowed = source if isinstance(source, tuple) else (source,)
    if alert.state not in allowed:
        raise InvalidTransition(f"alert {alert.pk} is {alert.state}, cannot be {verb}")
    before = {"state": alert.state}
    alert.state = target
    setattr(alert, f"{verb}_at", timezone.now())
    setattr(alert, f"{verb}_by", actor)
    alert.save(update_fields=["state", f"{verb}_at", f"{verb}_by"])
    audit.record(
        actor=actor,
        action=f"monitoring.alert.{verb}",
        target=alert,
        before=before,
        after={"state": target},
    )
    return alert
