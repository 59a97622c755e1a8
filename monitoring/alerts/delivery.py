"""Delivery of an opened alert, run after the opening transaction commits: in-app notices and
e-mail to the model's owner, a signed webhook POST, and the retraining request if asked for.
Each webhook outcome is recorded as an AlertDelivery row; a failing channel never stops the
others. A failed webhook keeps its payload and is sent again by `deliveries_retry_due` (beat,
every minute) after an exponential backoff, until it gets through or runs out of attempts."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from monitoring.alerts.signing import HEADER, sign
from monitoring.models import Alert, AlertDelivery, AlertNotice

TIMEOUT_SECONDS = 5.0


def post_signed(*, url: str, secret: str, payload: dict[str, Any]) -> tuple[int | None, str]:
    """POST `payload` as JSON with the signature header; (status code or None, error text)."""
    if not url.startswith(("http://", "https://")):
        return None, f"not an http(s) URL: {url}"
    body = json.dumps(payload, sort_keys=True, default=str).encode()
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 (checked above)
    request.add_header("Content-Type", "application/json")
    if secret:
        request.add_header(HEADER, sign(secret, body))
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
            return answer.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, str(exc)
    except (urllib.error.URLError, OSError) as exc:
        return None, str(exc)


def _is_ok(code: int | None) -> bool:
    return code is not None and 200 <= code < 300


def _attempt_note(attempt: int, code: int | None, error: str) -> str:
    return f"attempt {attempt}: " + (error or f"HTTP {code}")


def next_attempt_at(*, attempts: int, now: dt.datetime) -> dt.datetime | None:
    """When a delivery that failed `attempts` times is due again (base, 2 x base, 4 x base
    ...), or None once STEWARD_ALERT_DELIVERY_ATTEMPTS attempts were made."""
    if attempts >= settings.STEWARD_ALERT_DELIVERY_ATTEMPTS:
        return None
    return now + dt.timedelta(seconds=settings.STEWARD_ALERT_RETRY_BASE_S * 2 ** (attempts - 1))


def _webhook(alert: Alert, kind: str, payload: dict[str, Any]) -> AlertDelivery:
    rule = alert.rule
    code, error = post_signed(url=rule.webhook_url, secret=rule.webhook_secret, payload=payload)
    ok = _is_ok(code)
    return AlertDelivery.objects.create(
        alert=alert,
        kind=kind,
        url=rule.webhook_url,
        status_code=code,
        ok=ok,
        error="" if ok else _attempt_note(1, code, error)[:2000],
        payload=payload,
        attempts=1,
        next_attempt_at=None if ok else next_attempt_at(attempts=1, now=timezone.now()),
    )


def delivery_retry(*, delivery: AlertDelivery, now: dt.datetime | None = None) -> bool:
    """Send one due delivery again; False when another run took it first. The claim clears
    `next_attempt_at` with a compare-and-set, so two beat runs never send the same retry."""
    now = now or timezone.now()
    claimed = AlertDelivery.objects.filter(
        pk=delivery.pk, ok=False, next_attempt_at=delivery.next_attempt_at
    ).update(next_attempt_at=None)
    if claimed != 1 or delivery.payload is None:
        return False
    secret = delivery.alert.rule.webhook_secret
    code, error = post_signed(url=delivery.url, secret=secret, payload=delivery.payload)
    attempt = delivery.attempts + 1
    ok = _is_ok(code)
    history = delivery.error if ok else f"{delivery.error}\n{_attempt_note(attempt, code, error)}"
    AlertDelivery.objects.filter(pk=delivery.pk).update(
        status_code=code,
        ok=ok,
        error=history.strip()[-2000:],
        attempts=attempt,
        next_attempt_at=None if ok else next_attempt_at(attempts=attempt, now=now),
    )
    return True


def deliveries_retry_due(*, now: dt.datetime | None = None) -> int:
    """Send again every failed delivery whose next attempt is due; how many were sent."""
    now = now or timezone.now()
    due = AlertDelivery.objects.filter(ok=False, next_attempt_at__lte=now).select_related(
        "alert__rule"
    )
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
    if rule.notify_in_app and owner is not None:
        AlertNotice.objects.create(alert=alert, user=owner, subject=subject[:300])
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
