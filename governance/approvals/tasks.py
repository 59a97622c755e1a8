"""Celery tasks of the approval workflow: event dispatch, webhook delivery, expiry."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import DatabaseError

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
    try:
        return webhooks.send(delivery_id)
    except webhooks.DeliveryFailed as exc:
        raise self.retry(exc=exc, countdown=min(2**self.request.retries * 5, 3600)) from exc


@shared_task(acks_late=True)
def expire_requests() -> int:
    return services.expire_due_requests()
