"""Admin pages for reports: read-only. Exports come from `services.report_export` (audited,
signed) and schedules from `scheduling.schedule_create` (permission-checked, audited)."""

from __future__ import annotations

from django.contrib import admin

from governance.reports.models import ReportExport, ReportSchedule
from registry.admin import ReadOnlyAdmin


@admin.register(ReportExport)
class ReportExportAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "version", "deployment", "sha256", "generated_by_name"]
    list_filter = ["kind"]
    search_fields = ["sha256"]


@admin.register(ReportSchedule)
class ReportScheduleAdmin(ReadOnlyAdmin):
    list_display = ["id", "deployment", "recipients", "active", "last_period_end"]
