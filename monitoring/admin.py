"""Admin for monitoring: every table browsable, none editable.

Job runs belong to the workers, events and ground truth to ingestion, rollups to the jobs
that rebuild them, and settings, rules and alerts to audited services and the API. The admin
is for looking things up, never a way around those. Deployment ids are shown as ids (no join
into the registry per row) and the event tables skip the full count, which is slow on
millions of rows.
"""

from __future__ import annotations

from django.contrib import admin

from monitoring.models import (
    Alert,
    AlertDelivery,
    AlertRule,
    DailyPerformance,
    DeploymentActivity,
    DeploymentStatus,
    DriftResult,
    GroundTruth,
    HourlyHealth,
    HourlySummary,
    JobRun,
    MonitoringSettings,
    PredictionEvent,
    ReferenceProfile,
)
from registry.admin import ReadOnlyAdmin


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    list_display = ("pk", "kind", "state", "attempts", "created_at", "started_at", "finished_at")
    list_filter = ("state", "kind")
    search_fields = ("kind", "worker", "error")
    list_select_related = ("requested_by",)
    date_hierarchy = "created_at"


@admin.register(PredictionEvent)
class PredictionEventAdmin(ReadOnlyAdmin):
    list_display = ("request_id", "deployment_id", "timestamp", "prediction_label", "status")
    list_filter = ("status",)
    search_fields = ("=request_id",)
    show_full_result_count = False


@admin.register(GroundTruth)
class GroundTruthAdmin(ReadOnlyAdmin):
    list_display = ("request_id", "deployment_id", "label", "value", "timestamp")
    search_fields = ("=request_id",)
    show_full_result_count = False


@admin.register(DeploymentActivity)
class DeploymentActivityAdmin(ReadOnlyAdmin):
    list_display = ("deployment_id", "predictions", "first_prediction_at", "last_prediction_at")


@admin.register(ReferenceProfile)
class ReferenceProfileAdmin(ReadOnlyAdmin):
    list_display = ("version_id", "dataset_id", "digest", "created_at")
    search_fields = ("digest",)


@admin.register(HourlySummary)
class HourlySummaryAdmin(ReadOnlyAdmin):
    list_display = ("deployment_id", "feature", "hour", "profile_digest", "built_at")
    search_fields = ("feature",)
    show_full_result_count = False


@admin.register(HourlyHealth)
class HourlyHealthAdmin(ReadOnlyAdmin):
    list_display = ("deployment_id", "hour", "count", "errors", "latency_p95_ms", "built_at")
    show_full_result_count = False


@admin.register(DriftResult)
class DriftResultAdmin(ReadOnlyAdmin):
    list_display = (
        "deployment_id",
        "feature",
        "kind",
        "window_start",
        "window_end",
        "method",
        "drifted",
    )
    list_filter = ("kind", "method", "drifted")
    search_fields = ("feature",)


@admin.register(DailyPerformance)
class DailyPerformanceAdmin(ReadOnlyAdmin):
    list_display = ("deployment_id", "day", "task", "predictions", "labelled")
    list_filter = ("task",)


@admin.register(DeploymentStatus)
class DeploymentStatusAdmin(ReadOnlyAdmin):
    list_display = (
        "deployment_id",
        "accuracy_level",
        "drift_level",
        "service_health_level",
        "computed_at",
    )
    list_filter = ("accuracy_level", "drift_level", "service_health_level")


@admin.register(MonitoringSettings)
class MonitoringSettingsAdmin(ReadOnlyAdmin):
    list_display = ("deployment_id", "positive_label", "updated_at")


@admin.register(AlertRule)
class AlertRuleAdmin(ReadOnlyAdmin):
    list_display = ("pk", "model_id", "deployment_id", "source", "name", "severity", "active")
    list_filter = ("source", "severity", "active")
    search_fields = ("name",)
    exclude = ("webhook_secret",)  # a credential: never shown


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("pk", "rule_id", "deployment_id", "state", "value", "opened_at")
    list_filter = ("state",)
    search_fields = ("message", "dedup_key")
    date_hierarchy = "opened_at"


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("pk", "alert_id", "kind", "state", "status_code", "attempts", "next_attempt_at")
    list_filter = ("kind", "state")
