"""django-filter FilterSets for the registry's list endpoints."""

from __future__ import annotations

import django_filters as filters

from registry.api.fields import ObjectIdFilter
from registry.models import Artifact, Dataset, Deployment, ModelVersion, RegisteredModel


class RegisteredModelFilter(filters.FilterSet):
    owner = filters.CharFilter(field_name="owner__username")
    tag = filters.CharFilter(method="filter_tag")

    class Meta:
        model = RegisteredModel
        fields = ["task", "risk_tier", "team", "owner", "tag"]

    def filter_tag(self, queryset, name, value):
        # JSON containment is not on SQLite; tags are few per model, so match the encoded text.
        return queryset.filter(tags__icontains=f'"{value}"')


class ModelVersionFilter(filters.FilterSet):
    model = filters.CharFilter(field_name="model__slug")

    class Meta:
        model = ModelVersion
        fields = ["model", "stage", "number", "client_key"]


class ArtifactFilter(filters.FilterSet):
    model = filters.CharFilter(field_name="version__model__slug")
    # A number, not a choice: a choice filter would tell "exists elsewhere" from "no such id".
    version = ObjectIdFilter(field_name="version_id")

    class Meta:
        model = Artifact
        fields = ["model", "version", "kind", "sha256"]


class DatasetFilter(filters.FilterSet):
    model = filters.CharFilter(field_name="model__slug")

    class Meta:
        model = Dataset
        fields = ["model", "name", "kind", "sha256"]


class DeploymentFilter(filters.FilterSet):
    model = filters.CharFilter(field_name="version__model__slug")
    version = ObjectIdFilter(field_name="version_id")

    class Meta:
        model = Deployment
        fields = ["model", "version", "environment", "status", "endpoint"]
