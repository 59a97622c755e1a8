"""Webhook endpoints: register and remove them (audited), and send one lifecycle delivery
through the one outbound sender (`governance.outbound`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from governance import audit
from governance.approvals.models import WebhookDelivery, WebhookEndpoint
from governance.outbound import sender
from registry.actors import Actor, Viewer
from registry.choices import Action
from registry.models import RegisteredModel

MAX_ATTEMPTS = 8
# 5 s, 10 s, 20 s ... at most an hour apart.
POLICY = sender.Policy(max_attempts=MAX_ATTEMPTS, base_s=5, cap_s=3600)
# A test delivery is tried once, while the user waits: its result is the answer.
TEST_EVENT = "steward.test"
TEST_POLICY = sender.Policy(max_attempts=1, base_s=0)
EDITABLE = ("name", "url", "secret", "events", "active")


def webhooks_visible(user: Viewer) -> QuerySet[WebhookEndpoint]:
    """The webhooks `user` manages: every one for a superuser, else those on models the user
    may manage access to (a webhook on every model belongs to the superusers)."""
    if user.is_superuser:
        return WebhookEndpoint.objects.all()
    mine = RegisteredModel.objects.restrict(user, Action.MANAGE_ACCESS)
    return WebhookEndpoint.objects.filter(model__in=mine)


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


def _shown(hook: WebhookEndpoint) -> dict[str, Any]:
    """What the audit log keeps of a webhook: never the secret, only whether it changed."""
    return {"name": hook.name, "url": hook.url, "events": hook.events, "active": hook.active}


@transaction.atomic
def webhook_update(*, webhook: WebhookEndpoint, actor: Actor, **changes: Any) -> WebhookEndpoint:
    """Change a webhook's name, URL, secret, events or whether it is active (a subset of
    EDITABLE), validated and audited with what it was; the model it listens to stays."""
    _require_manage(actor, webhook.model)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError(f"not editable: {sorted(unknown)}")
    hook = WebhookEndpoint.objects.select_for_update().get(pk=webhook.pk)
    before = _shown(hook)
    for name, value in changes.items():
        setattr(hook, name, value)
    hook.full_clean()
    hook.save(update_fields=list(changes))
    after = _shown(hook) | {"secret_changed": "secret" in changes}
    audit.record(
        actor=actor, action="governance.webhook.updated", target=hook, before=before, after=after
    )
    return hook


def webhook_send_test(*, webhook: WebhookEndpoint, actor: Actor) -> WebhookDelivery:
    """Send a signed test event to the webhook now, once, through the outbound sender, and
    return its delivery row (state, status code, error). The request is audited, and the row
    keyed on that audit entry, in one transaction; the post happens after it commits, so no
    transaction waits on the network. Needs the rights that manage the webhook."""
    with transaction.atomic():
        _require_manage(actor, webhook.model)
        entry = audit.record(
            actor=actor,
            action="governance.webhook.tested",
            target=webhook,
            after={"url": webhook.url},
        )
        payload = {
            "event": TEST_EVENT,
            "seq": entry.seq,
            "at": entry.created_at.isoformat(),
            "actor": entry.actor_name,
            "webhook": webhook.pk,
            "test": True,
        }
        row = WebhookDelivery.objects.create(
            endpoint=webhook, event_seq=entry.seq, event=TEST_EVENT, payload=payload
        )
    sender.deliver(
        row, url=webhook.url, secret=webhook.secret, event=TEST_EVENT, policy=TEST_POLICY
    )
    row.refresh_from_db()
    return row


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
