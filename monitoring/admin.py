"""Admin for monitoring: job runs, read-only (workers own their state changes)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from monitoring.models import JobRun


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ("pk", "kind", "state", "attempts", "created_at", "started_at", "finished_at")
    list_filter = ("state", "kind")
    search_fields = ("kind", "worker", "error")
    list_select_related = ("requested_by",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
