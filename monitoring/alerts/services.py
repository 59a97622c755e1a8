"""Writes of alerting: rules, evaluation (open once, resolve when cleared), acknowledge and
resolve. Delivery runs after the opening transaction commits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from governance import audit
from monitoring.alerts import canary
from monitoring.alerts.conditions import holds
from monitoring.alerts.delivery import alert_deliver
from monitoring.alerts.quality_source import quality_reading
from monitoring.alerts.rules import require_rule_change, rule_name_problem
from monitoring.engines.status import Level
from monitoring.models import (
    Alert,
    AlertRule,
    AlertSource,
    AlertState,
    DeploymentStatus,
    Severity,
)
from monitoring.performance.selectors import estimated_window, windowed_metric
from registry.actors import Actor
from registry.models import Deployment, RegisteredModel

LEVEL_RANK = {Level.UNKNOWN: -1, Level.GOOD: 0, Level.AT_RISK: 1, Level.FAILING: 2}


class InvalidTransition(Exception):
    pass


@transaction.atomic
def alert_rule_create(*, actor: Actor, **fields: Any) -> AlertRule:
    """A new rule (scope: `model` or `deployment`), validated and audited. Needs "change" on
    its target."""
    require_rule_change(actor, model=fields.get("model"), deployment=fields.get("deployment"))
    rule = AlertRule(created_by=actor, **fields)
    problem = rule_name_problem(rule.source, rule.name)
    if problem:
        raise ValidationError({"name": problem})
    if rule.retraining and not rule.webhook_url:
        raise ValidationError({"webhook_url": "retraining needs a webhook"})
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


@dataclass(frozen=True)
class Reading:
    """What a rule sees on one deployment: the value compared, the alert's message should it
    fire, and what Steward suggests doing then ("" for nothing)."""

    value: float
    message: str
    suggestion: str = ""


def rule_reading(rule: AlertRule, deployment: Deployment) -> Reading | None:
    """The rule's reading on the deployment, or None when it has no figure yet (no status, no
    ground truth, or no baseline for a canary rule)."""
    shown = f"({rule.get_comparator_display()} {rule.threshold:.4g})"
    if rule.source == AlertSource.STATUS:
        row = DeploymentStatus.objects.filter(deployment=deployment).first()
        level = getattr(row, f"{rule.name}_level", None) if row else None
        if level is None:
            return None
        reason = getattr(row, f"{rule.name}_reason", "")
        value = float(LEVEL_RANK[Level(level)])
        return Reading(
            value, f"{rule.name} status of deployment {deployment.pk} is {level}: {reason}"
        )
    if rule.source == AlertSource.CANARY:
        canary_found = canary.canary_gap(deployment, rule.name, rule.window_days)
        if canary_found is None:
            return None
        gap, baseline = canary_found
        message = (
            f"canary deployment {deployment.pk} (v{deployment.version.number}, "
            f"{float(deployment.traffic_share):g}% of traffic) has {rule.name} {gap:+.4g} "
            f"against its baseline, deployment {baseline.pk} (v{baseline.version.number}), "
            f"over the last {rule.window_days} day(s) {shown}: consider rolling the canary back"
        )
        return Reading(gap, message, suggestion="rollback")
    if rule.source == AlertSource.EXTERNAL:  # raised by `alert_raise` only
        return None
    if rule.source == AlertSource.QUALITY:
        quality_found = quality_reading(rule, deployment)
        return None if quality_found is None else Reading(*quality_found)
    estimated = rule.source == AlertSource.ESTIMATED
    read = estimated_window if estimated else windowed_metric
    metric = read(deployment, rule.name, rule.window_days)
    if metric is None:
        return None
    days = "the latest day" if rule.window_days <= 1 else f"the last {rule.window_days} days"
    name = f"estimated {rule.name} (no labels needed)" if estimated else rule.name
    message = f"{name} of deployment {deployment.pk} over {days} is {metric:.4g} {shown}"
    return Reading(metric, message)


def alerts_evaluate(*, deployment: Deployment, now: dt.datetime | None = None) -> dict[str, int]:
    """Open an alert for every rule whose condition holds and that has no unresolved alert on
    this deployment; resolve the unresolved ones whose condition has cleared. A rule without a
    figure yet neither opens nor resolves. Safe to repeat."""
    now = now or timezone.now()
    opened = resolved = 0
    canary.canary_rule_ensure(deployment)
    for rule in rules_for(deployment):
        reading = rule_reading(rule, deployment)
        if reading is None:
            continue
        key = f"{rule.pk}:{deployment.pk}"
        if holds(rule.comparator, reading.value, rule.threshold):
            opened += _open(rule, deployment, key, reading, now)
        else:
            resolved += (
                Alert.objects.filter(dedup_key=key)
                .exclude(state=AlertState.RESOLVED)
                .update(state=AlertState.RESOLVED, resolved_at=now)
            )
    return {"opened": opened, "resolved": resolved}


def _open(rule: AlertRule, deployment: Deployment, key: str, reading: Reading, now: Any) -> int:
    """1 if a new alert was opened; the partial unique index makes concurrent runs safe."""
    if Alert.objects.filter(dedup_key=key).exclude(state=AlertState.RESOLVED).exists():
        return 0
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                rule=rule,
                deployment=deployment,
                value=reading.value,
                message=reading.message,
                suggestion=reading.suggestion,
                dedup_key=key,
                opened_at=now,
            )
            # The audit entry is also the in-app channel: governance's event dispatcher turns
            # it into a notification for the model's owner (monitoring may not write those).
            audit.record(
                actor="monitoring.alerts",
                action="monitoring.alert.opened",
                target=alert,
                after={"rule": rule.pk, "deployment": deployment.pk, "value": reading.value},
            )
    except IntegrityError:  # another run opened it first
        return 0
    transaction.on_commit(lambda: alert_deliver(alert.pk))
    return 1


def external_rule_ensure(*, model: RegisteredModel, name: str) -> AlertRule:
    """The model's built-in rule `name` (source "external"), created (audited, by the system)
    on first use. Its owner may then edit its severity and channels (a webhook among them)
    like any rule's; evaluation never opens or resolves its alerts, `alert_raise` does."""
    existing = AlertRule.objects.filter(source=AlertSource.EXTERNAL, model=model, name=name)
    rule = existing.order_by("pk").first()
    if rule is not None:
        return rule
    rule = AlertRule.objects.create(
        model=model,
        source=AlertSource.EXTERNAL,
        name=name,
        comparator="gt",
        threshold=0,
        severity=Severity.CRITICAL,
        notify_in_app=True,
    )
    audit.record(actor=None, action="monitoring.alert_rule.created", target=rule)
    return rule


def alert_raise(
    *,
    rule: AlertRule,
    deployment: Deployment,
    message: str,
    key: str,
    now: dt.datetime | None = None,
) -> Alert | None:
    """Open an alert of a built-in rule on `deployment` for the event `key` (at most one
    unresolved alert per key); delivered (e-mail, webhook) after commit like any alert, and
    told in the app through its audit entry. None when one is already open for the key."""
    if rule.source != AlertSource.EXTERNAL:
        raise ValueError("only built-in (external) rules are raised directly")
    dedup_key = f"{rule.pk}:{deployment.pk}:{key}"[:100]
    opened = _open(rule, deployment, dedup_key, Reading(1.0, message), now or timezone.now())
    if not opened:
        return None
    return Alert.objects.filter(dedup_key=dedup_key).exclude(state=AlertState.RESOLVED).first()


def alerts_clear(*, rule: AlertRule, now: dt.datetime | None = None) -> int:
    """Resolve every unresolved alert of a built-in rule (its condition has cleared)."""
    return (
        Alert.objects.filter(rule=rule)
        .exclude(state=AlertState.RESOLVED)
        .update(state=AlertState.RESOLVED, resolved_at=now or timezone.now())
    )


@transaction.atomic
def alert_acknowledge(*, alert: Alert, actor: Actor) -> Alert:
    """open -> acknowledged."""
    return _transition(alert, actor, AlertState.OPEN, AlertState.ACKNOWLEDGED, "acknowledged")


@transaction.atomic
def alert_resolve(*, alert: Alert, actor: Actor) -> Alert:
    """open or acknowledged -> resolved (evaluation may reopen it if the condition holds)."""
    return _transition(
        alert, actor, (AlertState.OPEN, AlertState.ACKNOWLEDGED), AlertState.RESOLVED, "resolved"
    )


def _transition(alert: Alert, actor: Actor, source: Any, target: str, verb: str) -> Alert:
    require_rule_change(actor, deployment=alert.deployment)
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
