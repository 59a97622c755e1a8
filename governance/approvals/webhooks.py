"""Webhook endpoints: register and remove them (audited), and send one lifecycle delivery
through the one outbound sender (`governance.outbound`)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from governance import audit
from governance.approvals.models import WebhookDelivery, WebhookEndpoint
from governance.outbound import sender
from registry.actors import Actor
from registry.choices import Action
from registry.models import RegisteredModel

MAX_ATTEMPTS = 8
# 5 s, 10 s, 20 s ... at most an hour apart.
POLICY = sender.Policy(max_attempts=MAX_ATTEMPTS, base_s=5, cap_s=3600)


def _require_manage(actor: Actor, model: RegisteredModel | None) -> None:
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
    actor: Actor,
    name: str,
    url: str,
    secret: str,
    events: list[str],
    model: RegisteredModel | None = None,
    active: bool = True,
) -> WebhookEndpoint:
    """Register an endpoint; the secret is stored for signing and never shown again. The URL
    must pass the outbound rules (ValidationError naming `url` otherwise)."""
    _require_manage(actor, model)
    hook = WebhookEndpoint(
        name=name,
        url=url,
        secret=secret,
        events=events,
        model=model,
        active=active,
        created_by=actor,
    )
    hook.full_clean()
    hook.save()
    audit.record(
        actor=actor,
        action="governance.webhook.created",
        target=hook,
        after={"name": name, "url": url, "events": events, "model": model.slug if model else None},
    )
    return hook


@transaction.atomic
def webhook_delete(*, webhook: WebhookEndpoint, actor: Actor) -> None:
    _require_manage(actor, webhook.model)
    audit.record(
        actor=actor,
        action="governance.webhook.deleted",
        target=webhook,
        before={"name": webhook.name, "url": webhook.url},
    )
    webhook.delete()


class DeliveryFailed(Exception):
    """The attempt failed and another is due at `retry_at`."""

    def __init__(self, message: str, *, retry_at: dt.datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at


def send(delivery_id: int) -> bool:
    """Claim and post the delivery through the one outbound sender; True when it is delivered.
    Raises DeliveryFailed when a retry is due; False when given up, refused, or held by
    another run (a redelivered task message finds the claim taken and posts nothing)."""
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    state = sender.deliver(
        delivery, url=endpoint.url, secret=endpoint.secret, event=delivery.event, policy=POLICY
    )
    if state == WebhookDelivery.State.PENDING:
        last = delivery.error.splitlines()[-1]
        raise DeliveryFailed(last, retry_at=delivery.next_attempt_at or timezone.now())
    if not state:  # nothing claimed: say what another run made of it
        delivery.refresh_from_db(fields=["state"])
        state = delivery.state
    return state == WebhookDelivery.State.DELIVERED
