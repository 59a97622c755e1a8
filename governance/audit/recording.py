"""Append entries to the audit chain."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.forms.models import model_to_dict

from governance.audit.chain import entry_hash
from governance.audit.checkpointing import checkpoint_create, checkpoint_due
from governance.audit.context import current
from governance.audit.models import HEAD_ID, AuditChainHead, AuditEvent


def _jsonable(value: Any) -> Any:
    """Round-trip through JSON so the stored value hashes the same after reading back."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def snapshot(instance: models.Model, *, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The instance's editable field values as JSON-ready data (files as their names)."""
    data = model_to_dict(instance, fields=list(fields) if fields else None)
    for name, value in list(data.items()):
        if hasattr(value, "name") and not isinstance(value, str | int | float):
            data[name] = getattr(value, "name", None) or None
        elif isinstance(value, models.Model):
            data[name] = value.pk
        elif isinstance(value, list) and value and isinstance(value[0], models.Model):
            data[name] = sorted(item.pk for item in value)
    return _jsonable(data)


# Who acted: a user (anonymous for a failed sign-in), a named system process, or None (the
# system itself).
AuditActor = User | AnonymousUser | str | None


def _actor_label(actor: AuditActor) -> str:
    """Who acted when no signed-in user did: a named system process, or anonymous."""
    if isinstance(actor, str):
        return actor
    return "system" if actor is None else "anonymous"


def _target_fields(target: models.Model | None) -> tuple[str, str, str]:
    if target is None:
        return "", "", ""
    meta = target._meta
    return f"{meta.app_label}.{meta.model_name}", str(target.pk), str(target)[:300]


@transaction.atomic
def record(
    *,
    actor: AuditActor,
    action: str,
    target: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one entry, chained to the head. Call inside the writing service's transaction.

    The head row's lock serialises appends, so the chain never forks; every
    STEWARD_AUDIT_CHECKPOINT_EVERY entries the new head is signed as a checkpoint.
    """
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=HEAD_ID)
    ctx = current()
    target_type, target_id, target_repr = _target_fields(target)
    user = actor if isinstance(actor, User) else None
    event = AuditEvent(
        seq=head.seq + 1,
        created_at=dt.datetime.now(dt.UTC),
        actor=user,
        actor_name=user.get_username() if user is not None else _actor_label(actor),
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_repr=target_repr,
        before=_jsonable(before),
        after=_jsonable(after),
        request_id=ctx.request_id,
        remote_addr=ctx.remote_addr,
        prev_hash=head.hash,
    )
    event.hash = entry_hash(event.as_chain_entry())
    event.save()
    head.seq, head.hash = event.seq, event.hash
    head.save(update_fields=["seq", "hash"])
    if checkpoint_due(event.seq):
        checkpoint_create(seq=event.seq, head_hash=event.hash)
    return event
