"""Serializers of the ingestion API: the query options, the outcome, and stored events."""

from __future__ import annotations

from rest_framework import serializers

from monitoring.ingestion.services import ON_ERROR_CHOICES
from monitoring.models import GroundTruth, PredictionEvent


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
