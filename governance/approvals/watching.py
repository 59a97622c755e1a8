"""Writes of a user's own subscriptions and notices: watching a model's lifecycle events and
marking a notification read. Each is one audited service, called by the API and the pages."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from governance import audit
from governance.approvals.models import ModelWatch, Notification
from registry.actors import Actor
from registry.choices import Action
from registry.models import RegisteredModel


def _visible(model: RegisteredModel, actor: Actor) -> None:
    # Watching needs only the view right; a model the actor cannot see is a 404.
    if not RegisteredModel.objects.restrict(actor, Action.VIEW).filter(pk=model.pk).exists():
        raise Http404("no such model")


@transaction.atomic
def model_watch(*, model: RegisteredModel, actor: Actor) -> bool:
    """Subscribe `actor` to the model's lifecycle notifications; audited when it changes
    anything. Returns True when a subscription was added."""
    _visible(model, actor)
    _, created = ModelWatch.objects.get_or_create(model=model, user=actor)
    if created:
        audit.record(
            actor=actor,
            action="approvals.model.watched",
            target=model,
            after={"watcher": actor.username},
        )
    return created


@transaction.atomic
def model_unwatch(*, model: RegisteredModel, actor: Actor) -> bool:
    """Leave the model's notifications; audited when there was a subscription to end."""
    _visible(model, actor)
    deleted, _ = ModelWatch.objects.filter(model=model, user=actor).delete()
    if deleted:
        audit.record(
            actor=actor,
            action="approvals.model.unwatched",
            target=model,
            before={"watcher": actor.username},
        )
    return bool(deleted)


@transaction.atomic
def notification_mark_read(*, notification: Notification, actor: Actor) -> Notification:
    """Mark one of the actor's own notifications read (once; later calls change nothing and
    record nothing). Another user's notification is a 404."""
    note = Notification.objects.select_for_update().filter(pk=notification.pk).first()
    if note is None or note.recipient_id != actor.pk:
        raise Http404("no such notification")
    if note.read_at is None:
        note.read_at = timezone.now()
        note.save(update_fields=["read_at"])
        audit.record(
            actor=actor,
            action="approvals.notification.read",
            target=note,
            after={"read_at": note.read_at.isoformat()},
        )
    return note
