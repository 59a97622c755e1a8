"""Output serializers (what the API shows) and input serializers (what a write accepts)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from registry import limits
from registry.api.fields import (
    MAX_OBJECT_ID,
    JSONField,
    ObjectIdField,
    decision_threshold_field,
    traffic_share_field,
)
from registry.choices import ArtifactKind, DatasetKind, Environment, RiskTier, Task
from registry.models import Artifact, Dataset, Deployment, ModelVersion, RegisteredModel

# --- output ---------------------------------------------------------------------------------


class RegisteredModelSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    latest_version = serializers.SerializerMethodField()

    class Meta:
        model = RegisteredModel
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "owner",
            "team",
            "task",
            "target_column",
            "risk_tier",
            "intended_use",
            "tags",
            "latest_version",
            "created_at",
            "updated_at",
        ]

    def get_latest_version(self, obj: RegisteredModel) -> int | None:
        return getattr(obj, "latest_version", None)


class ModelVersionSerializer(serializers.ModelSerializer):
    model: serializers.SlugRelatedField[RegisteredModel] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    created_by = serializers.CharField(source="created_by.username", read_only=True)

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "model",
            "number",
            "stage",
            "description",
            "input_schema",
            "hyperparameters",
            "training_metrics",
            "feature_importance",
            "code_repository",
            "code_commit",
            "framework",
            "client_key",
            "created_by",
            "created_at",
            "updated_at",
        ]


class ArtifactSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="version.model.slug", read_only=True)
    version_number = serializers.IntegerField(source="version.number", read_only=True)
    download_url = serializers.SerializerMethodField()
    frozen = serializers.BooleanField(source="version.is_frozen", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)

    class Meta:
        model = Artifact
        fields = [
            "id",
            "version",
            "model",
            "version_number",
            "name",
            "kind",
            "uri",
            "sha256",
            "size",
            "content_type",
            "description",
            "frozen",
            "download_url",
            "created_by",
            "created_at",
        ]

    def get_download_url(self, obj: Artifact) -> str | None:
        if not obj.file:
            return None
        url = reverse("api:artifact-download", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class DatasetSerializer(serializers.ModelSerializer):
    model: serializers.SlugRelatedField[RegisteredModel] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    created_by = serializers.CharField(source="created_by.username", read_only=True)

    class Meta:
        model = Dataset
        fields = [
            "id",
            "model",
            "name",
            "number",
            "kind",
            "description",
            "file_format",
            "sha256",
            "size",
            "row_count",
            "schema",
            "profile",
            "external",
            "external_system",
            "external_digest",
            "source_type",
            "source_uri",
            "created_by",
            "created_at",
        ]


class DeploymentSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="version.model.slug", read_only=True)
    version_number = serializers.IntegerField(source="version.number", read_only=True)
    deployed_by = serializers.CharField(source="deployed_by.username", read_only=True)

    class Meta:
        model = Deployment
        fields = [
            "id",
            "version",
            "model",
            "version_number",
            "environment",
            "endpoint",
            "status",
            "decision_threshold",
            "traffic_share",
            "description",
            "replaces",
            "is_rollback",
            "deployed_by",
            "deployed_at",
            "updated_at",
        ]


# --- input ----------------------------------------------------------------------------------


class ModelCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    task = serializers.ChoiceField(choices=Task.choices)
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=limits.TEXT
    )
    team = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)
    target_column = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=120
    )
    risk_tier = serializers.ChoiceField(choices=RiskTier.choices, default=RiskTier.MEDIUM)
    intended_use = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=limits.TEXT
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=limits.TAG),
        required=False,
        default=list,
        max_length=limits.TAGS,
    )


class ModelUpdateInput(serializers.Serializer):
    description = serializers.CharField(required=False, allow_blank=True, max_length=limits.TEXT)
    team = serializers.CharField(required=False, allow_blank=True, max_length=120)
    target_column = serializers.CharField(required=False, allow_blank=True, max_length=120)
    risk_tier = serializers.ChoiceField(choices=RiskTier.choices, required=False)
    intended_use = serializers.CharField(required=False, allow_blank=True, max_length=limits.TEXT)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=limits.TAG), required=False, max_length=limits.TAGS
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Why the risk tier changes (required to lower it; admins and risk officers).",
    )


class FeatureInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    type = serializers.CharField(max_length=20)
    categories = serializers.ListField(
        child=serializers.CharField(max_length=limits.SHORT_TEXT),
        required=False,
        max_length=limits.ITEMS,
    )
    optional = serializers.BooleanField(
        required=False, help_text="The feature may be absent from a prediction row."
    )


class VersionRegisterInput(serializers.Serializer):
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=limits.TEXT
    )
    # many=True makes a ListSerializer, which takes max_length (the stubs do not know it).
    input_schema = FeatureInput(  # type: ignore[call-arg]
        many=True, required=False, default=list, max_length=limits.ITEMS
    )
    hyperparameters = serializers.DictField(
        required=False, default=dict, validators=[limits.JsonCap()]
    )
    training_metrics = serializers.DictField(
        child=serializers.FloatField(), required=False, default=dict, validators=[limits.JsonCap()]
    )
    feature_importance = serializers.DictField(
        child=serializers.FloatField(), required=False, default=dict, validators=[limits.JsonCap()]
    )
    code_repository = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=300
    )
    code_commit = serializers.RegexField(
        r"^[0-9a-fA-F]{7,64}$",
        required=False,
        allow_blank=True,
        default="",
        max_length=64,
        error_messages={"invalid": "must be a commit hash (7 to 64 hexadecimal characters)"},
    )
    framework = serializers.CharField(required=False, allow_blank=True, default="", max_length=80)
    training_datasets = serializers.ListField(
        child=ObjectIdField(), required=False, default=list, max_length=limits.ITEMS
    )
    validation_datasets = serializers.ListField(
        child=ObjectIdField(), required=False, default=list, max_length=limits.ITEMS
    )
    client_key = serializers.RegexField(
        r"^[A-Za-z0-9._:/@+=-]{1,200}$",
        required=False,
        allow_blank=True,
        default="",
        max_length=200,
        help_text="Idempotency key: registering again with it returns the same version.",
        error_messages={"invalid": "letters, digits and ._:/@+=- only, at most 200"},
    )

    def validate_input_schema(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [dict(item) for item in value]


class ArtifactCreateInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ArtifactKind.choices)
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=limits.TEXT
    )
    file = serializers.FileField(required=False, allow_empty_file=True)
    uri = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    sha256 = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    size = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=MAX_OBJECT_ID, default=None
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("file")) == bool(attrs.get("uri")):
            raise serializers.ValidationError(
                {"file": "send either a file (multipart) or a uri, not both and not neither"}
            )
        return attrs


class ArtifactUpdateInput(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=200)
    kind = serializers.ChoiceField(choices=ArtifactKind.choices, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=limits.TEXT)


class DatasetCreateInput(serializers.Serializer):
    model = serializers.SlugField(max_length=140)
    name = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=DatasetKind.choices)
    file = serializers.FileField(allow_empty_file=True)
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=limits.TEXT
    )
    schema = JSONField(
        required=False,
        default=None,
        help_text='Declared columns: [{"name": ..., "type": ...}]',
        validators=[limits.JsonCap()],
    )
    derived_from = ObjectIdField(required=False, allow_null=True, default=None)


class DeploymentCreateInput(serializers.Serializer):
    version = ObjectIdField()
    environment = serializers.ChoiceField(choices=Environment.choices)
    endpoint = serializers.CharField(max_length=300)
    decision_threshold = decision_threshold_field()
    traffic_share = traffic_share_field()
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=limits.TEXT
    )
    replaces = ObjectIdField(required=False, allow_null=True, default=None)


class RollbackInput(serializers.Serializer):
    to_version = ObjectIdField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=limits.TEXT
    )
