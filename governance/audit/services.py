"""Writes about the audit log itself: an export is recorded in the log it exports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from governance.audit.models import HEAD_ID, AuditChainHead, AuditEvent
from governance.audit.recording import record


@transaction.atomic
def events_export(
    *, actor: Any, events: QuerySet[AuditEvent], filters: Mapping[str, str], fmt: str
) -> QuerySet[AuditEvent]:
    """Fix what an export contains (the matching entries up to the current head, in chain
    order) and record who exported what. The export's own entry comes after the head it
    read, so it is never part of the file it describes."""
    through = AuditChainHead.objects.filter(pk=HEAD_ID).values_list("seq", flat=True).first()
    chosen = events.filter(seq__lte=through or 0).order_by("seq")
    record(
        actor=actor,
        action="governance.audit.exported",
        after={
            "format": fmt,
            "filters": dict(filters),
            "count": chosen.count(),
            "through": through,
        },
    )
    return chosen
