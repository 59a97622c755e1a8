"""Serializers of the ingestion API: the query options, the outcome, and stored events."""

from __future__ import annotations

from rest_framework import serializers

from monitoring.ingestion.services import ON_ERROR_CHOICES
from monitoring.models import DriftResult, GroundTruth, PredictionEvent


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


class PredictionEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = PredictionEvent
        fields = [
            "id",
            "deployment",
            "request_id",
            "timestamp",
            "features",
            "prediction_label",
            "prediction_score",
            "latency_ms",
            "status",
            "error",
            "cache_hit",
            "cpu",
            "memory",
            "received_at",
        ]
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
