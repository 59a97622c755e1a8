"""The delivery row the sender claims and records: an abstract model, so each app keeps its
own table (lifecycle deliveries in approvals, alert deliveries in monitoring) while one
module writes their outcome."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting for its attempt at `next_attempt_at`
    SENDING = "sending", "Sending"  # claimed by one worker since `claimed_at`
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"  # given up: out of attempts, or refused


class OutboundDelivery(models.Model):
    """One payload to post to one URL: its state, attempts and their outcome. Only
    `governance.outbound.sender` changes these fields after the row is created."""

    State = DeliveryState

    payload = models.JSONField(null=True, blank=True)
    state = models.CharField(
        max_length=20, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    # One line per failed attempt ("attempt 2: HTTP 503 Service Unavailable"), newest last.
    error = models.TextField(blank=True)
    # When a pending delivery is due; NULL once delivered or given up.
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, default=timezone.now, db_index=True
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
