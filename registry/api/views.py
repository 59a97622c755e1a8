"""Registry API. Reads are restricted list/retrieve; every write validates an input
serializer and calls a service."""

from __future__ import annotations

from typing import Any

from django.db.models import Max
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from registry import services
from registry.actors import acting_user
from registry.api import filters
from registry.api import serializers as s
from registry.api.base import RestrictedViewSet
from registry.api.parsers import JSONParser
from registry.choices import Action
from registry.models import Artifact, Dataset, Deployment, ModelVersion, RegisteredModel


class RegisteredModelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RestrictedViewSet):
    """Registered models. `{slug}` identifies a model."""

    queryset = RegisteredModel.objects.select_related("owner").annotate(
        latest_version=Max("versions__number")
    )
    serializer_class = s.RegisteredModelSerializer
    lookup_field = "slug"
    # Only a slug reaches the database: PostgreSQL refuses a NUL in text (a 500, not a 404).
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    filterset_class = filters.RegisteredModelFilter
    search_fields = ["name", "description", "team"]
    ordering_fields = ["name", "created_at", "updated_at", "risk_tier", "team"]
    ordering = ["name"]

    @extend_schema(request=s.ModelCreateInput, responses={201: s.RegisteredModelSerializer})
    def create(self, request: Request) -> Response:
        data = self.valid_input(s.ModelCreateInput, request)
        model = services.model_create(actor=acting_user(request), **data)
        return self.respond(s.RegisteredModelSerializer, model, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ModelUpdateInput, responses=s.RegisteredModelSerializer)
    def partial_update(self, request: Request, slug: str) -> Response:
        data = self.valid_input(s.ModelUpdateInput, request)
        model = services.model_update(model=self.get_object(), actor=acting_user(request), **data)
        return self.respond(s.RegisteredModelSerializer, model)

    @extend_schema(
        methods=["POST"], request=s.VersionRegisterInput, responses={201: s.ModelVersionSerializer}
    )
    @extend_schema(methods=["GET"], responses=s.ModelVersionSerializer(many=True))
    @action(detail=True, methods=["get", "post"])
    def versions(self, request: Request, slug: str) -> Response:
        """List the model's versions, or register the next one (numbered by the server)."""
        model = self.get_object()
        if request.method == "GET":
            versions = model.versions.select_related("model", "created_by")
            page = self.paginate_queryset(versions)
            return self.get_paginated_response(s.ModelVersionSerializer(page, many=True).data)
        data = self.valid_input(s.VersionRegisterInput, request)
        version = services.version_register(model=model, actor=acting_user(request), **data)
        return self.respond(s.ModelVersionSerializer, version, status=status.HTTP_201_CREATED)


class ModelVersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RestrictedViewSet):
    queryset = ModelVersion.objects.select_related("model", "created_by")
    serializer_class = s.ModelVersionSerializer
    filterset_class = filters.ModelVersionFilter
    search_fields = ["model__name", "description"]
    ordering_fields = ["number", "created_at", "stage"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(request=None, responses=s.ModelVersionSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str) -> Response:
        """Ask for review: the version becomes pending review."""
        version = services.version_submit(version=self.get_object(), actor=acting_user(request))
        return self.respond(s.ModelVersionSerializer, version)

    @extend_schema(request=None, responses=s.ModelVersionSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, pk: str) -> Response:
        version = services.version_archive(version=self.get_object(), actor=acting_user(request))
        return self.respond(s.ModelVersionSerializer, version)

    @extend_schema(
        methods=["POST"], request=s.ArtifactCreateInput, responses={201: s.ArtifactSerializer}
    )
    @extend_schema(methods=["GET"], responses=s.ArtifactSerializer(many=True))
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def artifacts(self, request: Request, pk: str) -> Response:
        """List the version's artifacts, or add one: a multipart `file` or a JSON `uri`."""
        version = self.get_object()
        if request.method == "GET":
            items = version.artifacts.select_related("version__model", "created_by")
            listing = s.ArtifactSerializer(items, many=True, context=self.get_serializer_context())
            return Response(listing.data)
        data = self.valid_input(s.ArtifactCreateInput, request)
        common = {
            "version": version,
            "actor": acting_user(request),
            "kind": data["kind"],
            "name": data["name"],
            "description": data["description"],
        }
        if data.get("file"):
            artifact = services.artifact_upload(upload=data["file"], **common)
        else:
            artifact = services.artifact_link(
                uri=data["uri"], sha256=data["sha256"], size=data["size"], **common
            )
        return self.respond(s.ArtifactSerializer, artifact, status=status.HTTP_201_CREATED)


class ArtifactViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RestrictedViewSet):
    queryset = Artifact.objects.select_related("version__model", "created_by")
    serializer_class = s.ArtifactSerializer
    filterset_class = filters.ArtifactFilter
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at", "size"]

    @extend_schema(request=s.ArtifactUpdateInput, responses=s.ArtifactSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        data = self.valid_input(s.ArtifactUpdateInput, request)
        artifact = services.artifact_update(
            artifact=self.get_object(), actor=acting_user(request), **data
        )
        return self.respond(s.ArtifactSerializer, artifact)

    def destroy(self, request: Request, pk: str) -> Response:
        services.artifact_delete(artifact=self.get_object(), actor=acting_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str) -> FileResponse | Response:
        artifact = self.get_object()
        if not artifact.file:
            return Response(
                {"detail": f"artifact {artifact.pk} is stored elsewhere: {artifact.uri}"},
                status=status.HTTP_404_NOT_FOUND,
            )
        return _file_response(artifact.file, artifact.name, artifact.sha256)


class DatasetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RestrictedViewSet):
    queryset = Dataset.objects.select_related("model", "created_by")
    serializer_class = s.DatasetSerializer
    filterset_class = filters.DatasetFilter
    search_fields = ["name", "description"]
    ordering_fields = ["name", "number", "created_at", "row_count"]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(request=s.DatasetCreateInput, responses={201: s.DatasetSerializer})
    def create(self, request: Request) -> Response:
        """Upload a CSV or Parquet table; it is read, profiled and checked before storing."""
        data = self.valid_input(s.DatasetCreateInput, request)
        model = get_object_or_404(
            RegisteredModel.objects.restrict(request.user, Action.VIEW), slug=data["model"]
        )
        derived = None
        if data["derived_from"]:
            derived = get_object_or_404(self.get_queryset(), pk=data["derived_from"])
        dataset = services.dataset_upload(
            model=model,
            actor=acting_user(request),
            upload=data["file"],
            name=data["name"],
            kind=data["kind"],
            description=data["description"],
            declared_schema=data["schema"],
            derived_from=derived,
        )
        return self.respond(s.DatasetSerializer, dataset, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str) -> FileResponse:
        dataset = self.get_object()
        if dataset.external:
            raise NotFound("a metadata-only dataset: its rows are not stored in Steward")
        return _file_response(dataset.file, dataset.file.name.rsplit("/", 1)[-1], dataset.sha256)


class DeploymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RestrictedViewSet):
    queryset = Deployment.objects.select_related("version__model", "deployed_by")
    serializer_class = s.DeploymentSerializer
    filterset_class = filters.DeploymentFilter
    search_fields = ["endpoint", "description", "version__model__name"]
    ordering_fields = ["deployed_at", "environment", "status", "traffic_share"]

    @extend_schema(request=s.DeploymentCreateInput, responses={201: s.DeploymentSerializer})
    def create(self, request: Request) -> Response:
        data = self.valid_input(s.DeploymentCreateInput, request)
        version = get_object_or_404(
            ModelVersion.objects.restrict(request.user, Action.VIEW), pk=data.pop("version")
        )
        replaces_id = data.pop("replaces")
        replaces = get_object_or_404(self.get_queryset(), pk=replaces_id) if replaces_id else None
        deployment = services.deployment_create(
            version=version, actor=acting_user(request), replaces=replaces, **data
        )
        return self.respond(s.DeploymentSerializer, deployment, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.RollbackInput, responses={201: s.DeploymentSerializer})
    @action(detail=True, methods=["post"])
    def rollback(self, request: Request, pk: str) -> Response:
        """Deploy an earlier version as a new record that replaces this one."""
        deployment = self.get_object()
        data = self.valid_input(s.RollbackInput, request)
        to_version = None
        if data["to_version"]:
            to_version = get_object_or_404(
                ModelVersion.objects.restrict(request.user, Action.VIEW),
                model_id=deployment.version.model_id,
                number=data["to_version"],
            )
        new = services.deployment_rollback(
            deployment=deployment,
            actor=acting_user(request),
            to_version=to_version,
            reason=data["reason"],
        )
        return self.respond(s.DeploymentSerializer, new, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.DeploymentSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request: Request, pk: str) -> Response:
        deployment = services.deployment_retire(
            deployment=self.get_object(), actor=acting_user(request)
        )
        return self.respond(s.DeploymentSerializer, deployment)


def _file_response(field_file: Any, filename: str, sha256: str) -> FileResponse:
    # Always octet-stream, as the schema says: a guessed text/csv or application/json would
    # vary with the stored name.
    response = FileResponse(
        field_file.open("rb"),
        as_attachment=True,
        filename=filename,
        content_type="application/octet-stream",
    )
    if sha256:
        response["X-Checksum-SHA256"] = sha256
    return response
