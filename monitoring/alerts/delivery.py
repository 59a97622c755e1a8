"""Delivery of an opened alert, run after the opening transaction commits: e-mail to the
model's owner, a signed webhook POST, and the retraining request if asked for.
Each webhook is an AlertDelivery row sent by the one outbound sender (`governance.outbound`);
a failing channel never stops the others. A failed webhook keeps its payload and is sent
again by `deliveries_retry_due` (beat, every minute) after an exponential backoff, until it
gets through or runs out of attempts. The in-app notice is not sent here: governance's event
dispatcher turns the alert's `monitoring.alert.opened` audit entry into a notification."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from governance.outbound import sender
from monitoring.models import Alert, AlertDelivery


def policy() -> sender.Policy:
    """Base, 2 x base, 4 x base ... apart, STEWARD_ALERT_DELIVERY_ATTEMPTS attempts in all."""
    return sender.Policy(
        max_attempts=settings.STEWARD_ALERT_DELIVERY_ATTEMPTS,
        base_s=settings.STEWARD_ALERT_RETRY_BASE_S,
    )


def _webhook(alert: Alert, kind: str, payload: dict[str, Any]) -> AlertDelivery:
    """Record the delivery first, then send it: the row is claimed before anything is posted."""
    rule = alert.rule
    url = rule.webhook_url
    row = AlertDelivery.objects.create(alert=alert, kind=kind, url=url, payload=payload)
    sender.deliver(row, url=row.url, secret=rule.webhook_secret, event=kind, policy=policy())
    return row


def delivery_retry(*, delivery: AlertDelivery, now: dt.datetime | None = None) -> bool:
    """Send one due delivery again; False when another run took it first (the sender's
    compare-and-set claim), so two beat runs never send the same retry."""
    rule = delivery.alert.rule if delivery.alert is not None else delivery.rule
    secret = rule.webhook_secret if rule is not None else ""
    state = sender.deliver(
        delivery, url=delivery.url, secret=secret, event=delivery.kind, policy=policy(), now=now
    )
    return bool(state)


def deliveries_retry_due(*, now: dt.datetime | None = None) -> int:
    """Send again every failed delivery whose next attempt is due; how many were sent."""
    now = now or timezone.now()
    due = AlertDelivery.objects.filter(sender.due(now)).select_related("alert__rule", "rule")
    return sum(delivery_retry(delivery=row, now=now) for row in due.order_by("next_attempt_at"))


def alert_payload(alert: Alert) -> dict[str, Any]:
    return {
        "alert": alert.pk,
        "deployment": alert.deployment_id,
        "rule": alert.rule_id,
        "severity": alert.rule.severity,
        "state": alert.state,
        "value": alert.value,
        "message": alert.message,
        "opened_at": alert.opened_at.isoformat(),
    }


def alert_deliver(alert_id: int) -> None:
    """Send the alert on every channel its rule names."""
    alert = Alert.objects.select_related("rule", "deployment__version__model__owner").get(
        pk=alert_id
    )
    rule, owner = alert.rule, alert.deployment.version.model.owner
    subject = f"[{rule.severity}] {alert.message}"
    if rule.notify_email and owner is not None and owner.email:
        send_mail(subject, alert.message, settings.DEFAULT_FROM_EMAIL, [owner.email])
    if rule.webhook_url:
        _webhook(alert, "alert", alert_payload(alert))
        if rule.retraining:
            window = {"day": alert.opened_at.date().isoformat()}
            reason = alert.message
            _webhook(
                alert,
                "retraining",
                {"deployment": alert.deployment_id, "window": window, "reason": reason},
            )
