"""Celery tasks of the approval workflow: event dispatch, webhook delivery, expiry."""

from __future__ import annotations

import math
from typing import Any

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone

from governance.approvals import events, services, webhooks


@shared_task(acks_late=True, autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5)
def dispatch_events() -> int:
    """Turn new lifecycle entries of the audit log into notifications and deliveries."""
    ids = events.dispatch_pending()
    for delivery_id in ids:
        deliver_webhook.delay(delivery_id)
    return len(ids)


@shared_task(bind=True, acks_late=True, max_retries=webhooks.MAX_ATTEMPTS)
def deliver_webhook(self: Any, delivery_id: int) -> bool:
    """Send one delivery; a failed attempt comes back when the row says it is due."""
    try:
        return webhooks.send(delivery_id)
    except webhooks.DeliveryFailed as exc:
        # One second late rather than early: an early message finds the row not yet due.
        wait = math.ceil((exc.retry_at - timezone.now()).total_seconds()) + 1
        raise self.retry(exc=exc, countdown=max(wait, 1)) from exc


@shared_task(acks_late=True)
def expire_requests() -> int:
    return services.expire_due_requests()
