"""Webhook endpoints: register and remove them (audited), and send one delivery: JSON body,
HMAC signature, recorded outcome."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from governance import audit
from governance.approvals.models import WebhookDelivery, WebhookEndpoint
from governance.approvals.signing import HEADER, sign
from registry.choices import Action
from registry.models import RegisteredModel

MAX_ATTEMPTS = 8


def _require_manage(actor: Any, model: RegisteredModel | None) -> None:
    """A model's webhooks need manage-access on it; webhooks on every model, a superuser."""
    allowed = actor.is_superuser or (
        model is not None
        and RegisteredModel.objects.restrict(actor, Action.MANAGE_ACCESS)
        .filter(pk=model.pk)
        .exists()
    )
    if not allowed:
        raise PermissionDenied("webhooks need manage-access rights on their model")


@transaction.atomic
def webhook_create(
    *,
    actor: Any,
    name: str,
    url: str,
    secret: str,
    events: list[str],
    model: RegisteredModel | None = None,
    active: bool = True,
) -> WebhookEndpoint:
    """Register an endpoint; the secret is stored for signing and never shown again."""
    _require_manage(actor, model)
    hook = WebhookEndpoint.objects.create(
        name=name,
        url=url,
        secret=secret,
        events=events,
        model=model,
        active=active,
        created_by=actor,
    )
    audit.record(
        actor=actor,
        action="governance.webhook.created",
        target=hook,
        after={"name": name, "url": url, "events": events, "model": model.slug if model else None},
    )
    return hook


@transaction.atomic
def webhook_delete(*, webhook: WebhookEndpoint, actor: Any) -> None:
    _require_manage(actor, webhook.model)
    audit.record(
        actor=actor,
        action="governance.webhook.deleted",
        target=webhook,
        before={"name": webhook.name, "url": webhook.url},
    )
    webhook.delete()


class DeliveryFailed(Exception):
    pass


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()


def send(delivery_id: int) -> bool:
    """POST the delivery; True when the receiver answered 2xx. Raises DeliveryFailed (to be
    retried) otherwise, and marks the delivery failed after MAX_ATTEMPTS."""
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    if delivery.state != WebhookDelivery.State.PENDING:
        return delivery.state == WebhookDelivery.State.DELIVERED
    body = body_of(delivery)
    request = urllib.request.Request(  # noqa: S310 (the URL is an http(s) URLField)
        delivery.endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            HEADER: sign(delivery.endpoint.secret, body),
            "X-Steward-Event": delivery.event,
            "X-Steward-Delivery": str(delivery.pk),
        },
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    try:
        with urllib.request.urlopen(request, timeout=settings.STEWARD_WEBHOOK_TIMEOUT_S) as resp:  # noqa: S310
            status, error = resp.status, ""
    except urllib.error.HTTPError as exc:
        status, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        status, error = None, str(getattr(exc, "reason", exc))[:500]
    if status is not None and 200 <= status < 300:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            state=WebhookDelivery.State.DELIVERED,
            response_status=status,
            last_error="",
            delivered_at=timezone.now(),
        )
        return True
    failed = delivery.attempts + 1 >= MAX_ATTEMPTS
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        response_status=status,
        last_error=error,
        state=WebhookDelivery.State.FAILED if failed else WebhookDelivery.State.PENDING,
    )
    if failed:
        return False
    raise DeliveryFailed(error or f"HTTP {status}")
