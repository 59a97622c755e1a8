"""Serializers of the ingestion API: the query options, the outcome, and stored events."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from governance.outbound.addresses import validate_outbound_url
from monitoring.alerts import rules
from monitoring.alerts.quality_source import quality_rule_name_problem
from monitoring.alerts.rules import ESTIMATED_METRICS
from monitoring.engines.status import Thresholds
from monitoring.ingestion.services import ON_ERROR_CHOICES
from monitoring.ingestion.validation import PREDICTION_COLUMNS
from monitoring.models import (
    Alert,
    AlertRule,
    AlertSource,
    AlertState,
    Comparator,
    DailyEstimate,
    DailyPerformance,
    DeploymentStatus,
    DriftResult,
    GroundTruth,
    MonitoringSettings,
    PredictionEvent,
    Severity,
)
from monitoring.performance.drift_methods import drift_methods_problems, input_features
from registry import limits
from registry.api.fields import ObjectIdField


class IngestQuery(serializers.Serializer):
    on_error = serializers.ChoiceField(choices=ON_ERROR_CHOICES, default="reject")


class RowError(serializers.Serializer):
    row = serializers.IntegerField(help_text="Counted from 1 as the client counts its rows.")
    field = serializers.CharField()
    reason = serializers.CharField()


class IngestOutcome(serializers.Serializer):
    received = serializers.IntegerField()
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected_rows = serializers.IntegerField()
    rejected = RowError(many=True)
    errors_truncated = serializers.BooleanField()


class IngestRejection(serializers.Serializer):
    """A batch refused whole (400): why, and, when its rows were read, the per-row report."""

    detail = serializers.CharField()
    received = serializers.IntegerField(required=False)
    accepted = serializers.IntegerField(required=False)
    duplicates = serializers.IntegerField(required=False)
    rejected_rows = serializers.IntegerField(required=False)
    rejected = RowError(many=True, required=False)
    errors_truncated = serializers.BooleanField(required=False)


class PredictionEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = PredictionEvent
        fields = ["id", "deployment", *PREDICTION_COLUMNS, "received_at"]
        read_only_fields = fields


class GroundTruthSerializer(serializers.ModelSerializer):
    class Meta:
        model = GroundTruth
        fields = ["id", "deployment", "request_id", "label", "value", "timestamp", "received_at"]
        read_only_fields = fields


class DriftQuery(serializers.Serializer):
    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)


class DriftResultSerializer(serializers.ModelSerializer):
    class Meta:
        model = DriftResult
        fields = [
            "feature",
            "kind",
            "window_start",
            "window_end",
            "method",
            "statistic",
            "p_value",
            "threshold",
            "drifted",
            "parameters",
            "engine_version",
            "reference_digest",
            "current_digest",
            "profile_digest",
            "reference_dataset",
            "reference_sha256",
            "computed_at",
        ]


class HealthQuery(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=366, default=7)


class HealthDay(serializers.Serializer):
    day = serializers.DateField()
    count = serializers.IntegerField()
    requests_per_second = serializers.FloatField()
    error_rate = serializers.FloatField(allow_null=True)
    cache_hit_rate = serializers.FloatField(allow_null=True)
    cpu_mean = serializers.FloatField(allow_null=True)
    memory_mean = serializers.FloatField(allow_null=True)
    latency_mean_ms = serializers.FloatField(allow_null=True)
    latency_p50_ms = serializers.FloatField(allow_null=True)
    latency_p95_ms = serializers.FloatField(allow_null=True)
    latency_p99_ms = serializers.FloatField(allow_null=True)


# --- model quality ----------------------------------------------------------------------------


class PerformanceQuery(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=366, default=30)


class EstimateQuery(serializers.Serializer):
    metric = serializers.ChoiceField(choices=list(ESTIMATED_METRICS), required=False)
    since = serializers.DateField(required=False, help_text="first UTC day (inclusive)")
    until = serializers.DateField(required=False, help_text="last UTC day (inclusive)")

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise serializers.ValidationError({"until": "must not be before since"})
        return data


class DailyEstimateSerializer(serializers.ModelSerializer):
    """One day's label-free estimate: {metric: {value, lower, upper}}, the realised figures
    once labels arrived and the estimate's error (estimate minus realised) per metric."""

    class Meta:
        model = DailyEstimate
        fields = [
            "day",
            "method",
            "task",
            "predictions",
            "estimated",
            "labelled",
            "realised",
            "error",
            "reference",
            "computed_at",
        ]
        read_only_fields = fields


class DailyPerformanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = DailyPerformance
        fields = [
            "day",
            "task",
            "predictions",
            "labelled",
            "metrics",
            "fairness",
            "decision_threshold",
            "positive_label",
            "input_digest",
            "computed_at",
        ]
        read_only_fields = fields


class VerdictSerializer(serializers.Serializer):
    level = serializers.CharField()
    reason = serializers.CharField()


class DeploymentStatusSerializer(serializers.Serializer):
    deployment = serializers.IntegerField(source="deployment_id")
    computed_at = serializers.DateTimeField(
        allow_null=True, help_text="Null until the status is first computed."
    )
    accuracy = VerdictSerializer()
    drift = VerdictSerializer()
    service_health = VerdictSerializer()
    data_quality = VerdictSerializer()

    def to_representation(self, instance: DeploymentStatus) -> dict[str, Any]:
        out: dict[str, Any] = {
            "deployment": instance.deployment_id,
            "computed_at": serializers.DateTimeField().to_representation(instance.computed_at),
        }
        for axis in DeploymentStatus.AXES:
            out[axis] = {
                "level": getattr(instance, f"{axis}_level"),
                "reason": getattr(instance, f"{axis}_reason"),
            }
        return out


class MonitoringSettingsSerializer(serializers.ModelSerializer):
    effective_thresholds = serializers.SerializerMethodField()

    class Meta:
        model = MonitoringSettings
        fields = [
            "deployment",
            "thresholds",
            "effective_thresholds",
            "positive_label",
            "drift_methods",
            "sensitive_attribute",
            "updated_at",
        ]
        read_only_fields = fields

    def get_effective_thresholds(self, row: MonitoringSettings) -> dict[str, float]:
        task = row.deployment.version.model.task
        return Thresholds.from_dict(row.thresholds, task=task).to_dict()


class MonitoringSettingsInput(serializers.Serializer):
    """Needs the deployment in its context (`{"deployment": …}`) to check drift methods."""

    thresholds = serializers.DictField(
        child=serializers.FloatField(), required=False, validators=[limits.JsonCap()]
    )
    positive_label = serializers.CharField(max_length=200, required=False)
    drift_methods = serializers.DictField(
        required=False,
        validators=[limits.JsonCap()],
        help_text='{feature, "numerical" or "categorical": method name, or {"method": name, '
        '"threshold": number}}; replaces the stored overrides ({} clears them).',
    )

    sensitive_attribute = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="An input feature whose groups are compared for fairness (binary models); "
        '"" turns fairness off.',
    )

    def validate_sensitive_attribute(self, value: str) -> str:
        if value and value not in input_features(self.context["deployment"].version):
            raise serializers.ValidationError("not an input feature of the deployed version")
        return value

    def validate_drift_methods(self, value: dict[str, Any]) -> dict[str, Any]:
        features = input_features(self.context["deployment"].version)
        problems = drift_methods_problems(value, features)
        if problems:
            raise serializers.ValidationError({key: [text] for key, text in problems.items()})
        return value

    def validate_thresholds(self, value: dict[str, float]) -> dict[str, float]:
        unknown = set(value) - set(Thresholds.__dataclass_fields__)
        if unknown:
            raise serializers.ValidationError(f"unknown thresholds: {sorted(unknown)}")
        return value


class PortfolioSerializer(serializers.Serializer):
    accuracy = serializers.DictField(child=serializers.IntegerField())
    drift = serializers.DictField(child=serializers.IntegerField())
    service_health = serializers.DictField(child=serializers.IntegerField())


# --- alerts -----------------------------------------------------------------------------------


class AlertRuleSerializer(serializers.ModelSerializer):
    # Blank when the rule calls no webhook: a URL or the empty string, not always a URI.
    webhook_url = serializers.CharField(read_only=True, help_text="Empty: no webhook.")

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "model",
            "deployment",
            "source",
            "name",
            # What an owner may change, less the write-only secret (never shown).
            *(name for name in rules.EDITABLE if name != "webhook_secret"),
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class AlertRuleInput(serializers.Serializer):
    model = ObjectIdField(required=False)
    deployment = ObjectIdField(required=False)
    # A field named "source" shadows Field.source for the type checker only: DRF's metaclass
    # moves declared fields into _declared_fields.
    source = serializers.ChoiceField(choices=AlertSource.choices)  # type: ignore[assignment]
    name = serializers.CharField(max_length=80)
    comparator = serializers.ChoiceField(choices=Comparator.choices)
    threshold = serializers.FloatField()
    window_days = serializers.IntegerField(min_value=1, max_value=90, default=1)
    severity = serializers.ChoiceField(choices=Severity.choices, default=Severity.WARNING)
    notify_in_app = serializers.BooleanField(default=True)
    notify_email = serializers.BooleanField(default=False)
    webhook_url = serializers.URLField(
        required=False,
        allow_blank=True,
        default="",
        max_length=200,
        validators=[validate_outbound_url],
    )
    webhook_secret = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200
    )
    retraining = serializers.BooleanField(default=False)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if ("model" in data) == ("deployment" in data):
            raise serializers.ValidationError("give exactly one of model and deployment")
        if data["source"] == AlertSource.EXTERNAL:
            raise serializers.ValidationError({"source": "built-in rules are made by Steward"})
        if data["source"] == AlertSource.STATUS and data["name"] not in DeploymentStatus.AXES:
            raise serializers.ValidationError({"name": f"one of {list(DeploymentStatus.AXES)}"})
        if data["source"] == AlertSource.QUALITY:
            problem = quality_rule_name_problem(data["name"])
            if problem:
                raise serializers.ValidationError({"name": problem})
        if data["source"] == AlertSource.ESTIMATED and data["name"] not in ESTIMATED_METRICS:
            raise serializers.ValidationError({"name": f"one of {list(ESTIMATED_METRICS)}"})
        if data["retraining"] and not data["webhook_url"]:
            raise serializers.ValidationError({"webhook_url": "retraining needs a webhook"})
        return data


class AlertRuleUpdate(serializers.Serializer):
    """A PATCH of a rule: any of its condition, severity, channels and `active`."""

    comparator = serializers.ChoiceField(choices=Comparator.choices, required=False)
    threshold = serializers.FloatField(required=False)
    window_days = serializers.IntegerField(min_value=1, max_value=90, required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    notify_in_app = serializers.BooleanField(required=False)
    notify_email = serializers.BooleanField(required=False)
    webhook_url = serializers.URLField(
        required=False, allow_blank=True, max_length=200, validators=[validate_outbound_url]
    )
    webhook_secret = serializers.CharField(required=False, allow_blank=True, max_length=200)
    retraining = serializers.BooleanField(required=False)
    active = serializers.BooleanField(required=False)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError(f"not editable: {sorted(unknown)}")
        if not data:
            raise serializers.ValidationError("nothing to change")
        return data


class AlertQuery(serializers.Serializer):
    state = serializers.ChoiceField(choices=AlertState.choices, required=False)
    deployment = ObjectIdField(required=False)


class AlertSerializer(serializers.ModelSerializer):
    severity = serializers.CharField(source="rule.severity", read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "rule",
            "deployment",
            "severity",
            "state",
            "value",
            "message",
            "suggestion",
            "opened_at",
            "acknowledged_at",
            "acknowledged_by",
            "resolved_at",
            "resolved_by",
        ]
        read_only_fields = fields


class RebuildInput(serializers.Serializer):
    since = serializers.DateField(help_text="first UTC day to rebuild (YYYY-MM-DD)")


class RebuildAccepted(serializers.Serializer):
    job = serializers.IntegerField()
    hours_marked_stale = serializers.IntegerField()


class ReferenceDataset(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    rows = serializers.IntegerField()
    sha256 = serializers.CharField()


class ReferenceSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    dataset = ReferenceDataset(allow_null=True)
    origin = serializers.CharField(help_text='"chosen", "trained on", "linked reference" or ""')
    chosen = serializers.BooleanField()
    profile_digest = serializers.CharField()
    missing = serializers.CharField(help_text="why there is no reference data, if there is none")


class ReferenceInput(serializers.Serializer):
    """The dataset's id; the service checks the caller's rights first, then that the dataset
    is one of the version's model's."""

    dataset = ObjectIdField()


class LayoutsSerializer(serializers.Serializer):
    """The layouts summaries are built on (`GET /versions/{id}/layouts/`)."""

    format = serializers.IntegerField()
    version = serializers.IntegerField()
    digest = serializers.CharField()
    features = serializers.DictField(child=serializers.DictField())
    prediction = serializers.DictField(allow_null=True)


class SummariesAccepted(serializers.Serializer):
    """What a posted body of hourly summaries stored."""

    deployment = serializers.IntegerField()
    source = serializers.CharField()  # type: ignore[assignment]
    hours = serializers.IntegerField()
    replaced = serializers.IntegerField()
    events = serializers.IntegerField()
    feature_hours = serializers.IntegerField()
    layout_digest = serializers.CharField()
