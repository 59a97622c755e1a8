"""Delivery of an opened alert, run after the opening transaction commits: in-app notices and
e-mail to the model's owner, a signed webhook POST, and the retraining request if asked for.
Each webhook outcome is recorded as an AlertDelivery row; a failing channel never stops the
others."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.mail import send_mail

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


def _webhook(alert: Alert, kind: str, payload: dict[str, Any]) -> AlertDelivery:
    rule = alert.rule
    code, error = post_signed(url=rule.webhook_url, secret=rule.webhook_secret, payload=payload)
    return AlertDelivery.objects.create(
        alert=alert,
        kind=kind,
        url=rule.webhook_url,
        status_code=code,
        ok=code is not None and 200 <= code < 300,
        error=error[:2000],
    )


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
