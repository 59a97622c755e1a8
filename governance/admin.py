"""Admin for governance: the audit log and lineage edges, both read-only, and the audited
per-object grant pages of the model admin (`governance.access.admin`).

Audit entries are append-only by design; lineage edges are recorded by services (each with
its own audit entry), so the admin only browses them.
"""

from __future__ import annotations

from django.contrib import admin

from governance.access import admin as access_admin
from governance.models import AuditCheckpoint, AuditEvent, LineageEdge
from registry.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "created_at", "actor_name", "action", "target_type", "target_repr")
    list_filter = ("action", "target_type")
    search_fields = ("action", "actor_name", "target_repr", "target_id", "request_id", "hash")
    date_hierarchy = "created_at"
    ordering = ("-seq",)
    # The admin's bulk delete would fail on the append-only queryset anyway; hide it.
    actions = None


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    list_display = ("seq", "created_at", "head_hash", "key_id")
    ordering = ("-seq",)
    actions = None


@admin.register(LineageEdge)
class LineageEdgeAdmin(ReadOnlyAdmin):
    list_display = (
        "pk",
        "upstream_kind",
        "upstream_id",
        "relation",
        "downstream_kind",
        "downstream_id",
        "created_at",
    )
    list_filter = ("relation", "upstream_kind", "downstream_kind")
    search_fields = ("upstream_id", "downstream_id")
    list_select_related = ("created_by",)


access_admin.register()
