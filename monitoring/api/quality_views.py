"""GET /api/v1/deployments/{id}/quality/: data quality per feature over a window, summed from
the hourly quality rows, plus each hour's counts. 404 for a deployment the caller may not
view."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from monitoring.api.views import _RollupView
from monitoring.rollups import quality_selectors


class QualityQuery(serializers.Serializer):
    start = serializers.DateTimeField(required=False, help_text="Default: 7 days before end.")
    end = serializers.DateTimeField(required=False, help_text="Default: end of this hour.")

    def validate(self, data: dict) -> dict:
        if "start" in data and "end" in data and data["start"] >= data["end"]:
            raise serializers.ValidationError({"start": "must be before end"})
        return data


class UnseenExample(serializers.Serializer):
    value = serializers.CharField()
    count = serializers.IntegerField()


class FeatureQuality(serializers.Serializer):
    feature = serializers.CharField()
    type = serializers.CharField()
    rows = serializers.IntegerField()
    missing = serializers.IntegerField()
    missing_share = serializers.FloatField()
    type_errors = serializers.IntegerField()
    type_error_share = serializers.FloatField()
    values = serializers.IntegerField(help_text="Finite numbers or non-missing categories.")
    out_of_range = serializers.IntegerField(allow_null=True)
    out_of_range_share = serializers.FloatField(allow_null=True)
    unseen = serializers.IntegerField(allow_null=True)
    unseen_share = serializers.FloatField(allow_null=True)
    unseen_examples = UnseenExample(many=True)


class HourQuality(serializers.Serializer):
    hour = serializers.DateTimeField()
    events = serializers.IntegerField()
    features = serializers.DictField(child=serializers.DictField())


class DeploymentQuality(serializers.Serializer):
    deployment = serializers.IntegerField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    hours = serializers.IntegerField(help_text="Hours in the window with stored figures.")
    events = serializers.IntegerField()
    features = FeatureQuality(many=True)
    hourly = HourQuality(many=True)


class DeploymentQualityView(_RollupView):
    """GET data quality per feature (missing, type errors, out of range, unseen categories)
    over [start, end), and per hour."""

    serializer_class = DeploymentQuality

    @extend_schema(parameters=[QualityQuery], responses={200: DeploymentQuality})
    def get(self, request: Request, pk: int) -> Response:
        deployment = self.deployment()
        bounds = self.query(QualityQuery)
        window = quality_selectors.quality_window(
            deployment=deployment, start=bounds.get("start"), end=bounds.get("end")
        )
        return Response(DeploymentQuality(window).data)
