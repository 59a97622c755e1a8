"""Lifecycle events from the audit log: notify watchers, queue webhook deliveries, and
notify model owners of opened alerts whose rule asks for in-app notices.

The audit log is the event stream: every lifecycle change is already an entry there, written
in the changing transaction. The dispatcher reads entries past its cursor and advances the
cursor in the same transaction as the notifications and deliveries it creates, so each event
is handled once even when two dispatchers run.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.urls import reverse

from governance.approvals.models import EventCursor, WebhookDelivery, WebhookEndpoint
from governance.approvals.notifications import notify, watchers
from governance.audit.models import AuditEvent
from monitoring.models import Alert
from registry.choices import Action
from registry.models import Deployment, ModelVersion, RegisteredModel

# audit action -> public event name
EVENTS = {
    "registry.version.registered": "version.registered",
    "governance.approval.version.approved": "version.approved",
    "governance.approval.version.rejected": "version.rejected",
    "registry.deployment.created": "deployment.created",
    "registry.deployment.rolled_back": "deployment.rolled_back",
    "governance.approval.version.requested": "approval.requested",
    "governance.approval.production.requested": "approval.requested",
    "governance.approval.production.approved": "production.approved",
}
ALERT_OPENED = "monitoring.alert.opened"
BATCH = 500


def _subject(entry: AuditEvent) -> tuple[int | None, dict[str, Any]]:
    """The model an entry concerns, and the payload's description of the target."""
    if entry.target_type == "registry.modelversion":
        version = ModelVersion.objects.select_related("model").filter(pk=entry.target_id).first()
        if version:
            return version.model_id, {"model": version.model.slug, "version": version.number}
    if entry.target_type == "registry.deployment":
        dep = Deployment.objects.select_related("version__model").filter(pk=entry.target_id).first()
        if dep:
            return dep.version.model_id, {
                "model": dep.version.model.slug,
                "version": dep.version.number,
                "deployment": dep.pk,
                "environment": dep.environment,
                "endpoint": dep.endpoint,
            }
    if entry.target_type == "approvals.approvalrequest":
        from governance.approvals.models import ApprovalRequest

        req = (
            ApprovalRequest.objects.select_related("version__model")
            .filter(pk=entry.target_id)
            .first()
        )
        if req:
            return req.version.model_id, {
                "model": req.version.model.slug,
                "version": req.version.number,
                "request": req.pk,
                "kind": req.kind,
                "state": req.state,
            }
    return None, {}


def _may(users: list[Any], action: str, model_id: int) -> list[Any]:
    """The users who still hold `action` on the model now: rights may have been revoked
    since they started watching, or since they created the webhook."""
    return [
        u
        for u in users
        if u.is_active and RegisteredModel.objects.restrict(u, action).filter(pk=model_id).exists()
    ]


def payload_for(entry: AuditEvent, event: str, subject: dict[str, Any]) -> dict[str, Any]:
    return {
        "event": event,
        "seq": entry.seq,
        "at": entry.created_at.isoformat(),
        "actor": entry.actor_name,
        "audit_hash": entry.hash,
    } | subject


def _alert_notice(entry: AuditEvent) -> None:
    """The in-app notice of an opened alert, for the model's owner if the rule asks for one
    and the owner may still view the model (rights are checked now, not when the rule was
    made). Alerts are not lifecycle events: no watcher notice, no lifecycle webhook."""
    alert = (
        Alert.objects.select_related("rule", "deployment__version__model__owner")
        .filter(pk=entry.target_id)
        .first()
    )
    if alert is None or not alert.rule.notify_in_app:
        return
    model = alert.deployment.version.model
    if model.owner is None:
        return
    notify(
        _may([model.owner], Action.VIEW, model.pk),
        subject=f"[{alert.rule.severity}] {alert.message}",
        url=reverse("monitoring:deployment-health", args=[alert.deployment_id]),
        email=False,
    )


@transaction.atomic
def dispatch_pending() -> list[int]:
    """Handle the next batch of entries; return the ids of the deliveries to send."""
    cursor, _ = EventCursor.objects.select_for_update().get_or_create(name="lifecycle")
    entries = list(AuditEvent.objects.filter(seq__gt=cursor.last_seq).order_by("seq")[:BATCH])
    if not entries:
        return []
    endpoints = list(WebhookEndpoint.objects.filter(active=True).select_related("created_by"))
    deliveries: list[WebhookDelivery] = []
    for entry in entries:
        if entry.action == ALERT_OPENED:
            _alert_notice(entry)
            continue
        event = EVENTS.get(entry.action)
        if event is None:
            continue
        model_id, subject = _subject(entry)
        if model_id is None:
            continue
        detail = ", ".join(f"{k} {v}" for k, v in subject.items())
        notify(
            _may(watchers(model_id), Action.VIEW, model_id),
            subject=f"{event.replace('.', ' ')}: {detail}"[:200],
        )
        deliveries += [
            WebhookDelivery(
                endpoint=ep,
                event_seq=entry.seq,
                event=event,
                payload=payload_for(entry, event, subject),
            )
            for ep in endpoints
            if ep.wants(event, model_id) and _may([ep.created_by], Action.MANAGE_ACCESS, model_id)
        ]
    created = WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    cursor.last_seq = entries[-1].seq
    cursor.save(update_fields=["last_seq"])
    ids = [d.pk for d in created if d.pk]
    if len(ids) != len(deliveries):  # backends that do not return ids on ignore_conflicts
        ids = list(
            WebhookDelivery.objects.filter(
                event_seq__in=[e.seq for e in entries], state=WebhookDelivery.State.PENDING
            ).values_list("pk", flat=True)
        )
    return ids
