"""MLflow connections API (administrators only): register, change, sync on demand and watch a
sync's progress. Credentials are write-only: no response carries them."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.mlflow import connections, jobs, selectors
from governance.mlflow.models import MlflowConnection
from monitoring.models import JobRun
from registry import limits
from registry.actors import acting_user


class ManagesConnections(permissions.BasePermission):
    """Signed-in administrators (superusers and the admins role); others get 403 for every
    connection URL, existing or not, so no answer tells whether an id exists."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return connections.may_manage_connections(request.user)


class ConnectionSerializer(serializers.ModelSerializer):
    credentials = serializers.SerializerMethodField()

    class Meta:
        model = MlflowConnection
        # Every editable field but the write-only credentials (connections.EDITABLE).
        fields = [
            "id",
            *(f for f in connections.EDITABLE if f not in connections.SECRET_FIELDS),
            "credentials",
            "last_synced_at",
            "last_error",
            "created_at",
            "updated_at",
        ]

    def get_credentials(self, connection: MlflowConnection) -> list[str]:
        """Which credentials are set (their names, never their values)."""
        return [f for f in connections.SECRET_FIELDS if getattr(connection, f)]


class ConnectionInput(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    tracking_uri = serializers.CharField(max_length=500)
    model_names = serializers.ListField(
        child=serializers.CharField(max_length=250), max_length=limits.ITEMS, required=False
    )
    protected_alias = serializers.RegexField(
        r"^[A-Za-z0-9_\-]{1,100}$", max_length=100, required=False
    )
    revert_unapproved = serializers.BooleanField(required=False)
    default_team = serializers.CharField(max_length=120, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)
    username = serializers.CharField(
        max_length=200, required=False, allow_blank=True, write_only=True
    )
    password = serializers.CharField(
        max_length=500, required=False, allow_blank=True, write_only=True
    )
    token = serializers.CharField(max_length=500, required=False, allow_blank=True, write_only=True)


class ConnectionUpdate(ConnectionInput):
    tracking_uri = serializers.CharField(max_length=500, required=False)


class SyncRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobRun
        fields = [
            "id",
            "state",
            "attempts",
            "progress",
            "result",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]


class ConnectionViewSet(viewsets.ReadOnlyModelViewSet):
    """MLflow tracking servers Steward mirrors. POST registers one, PATCH changes one (both
    audited, without the credentials); `sync` queues a sync, `syncs` shows its progress."""

    serializer_class = ConnectionSerializer
    permission_classes = [permissions.IsAuthenticated, ManagesConnections]
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self) -> Any:
        return selectors.connection_list(user=self.request.user)

    @extend_schema(request=ConnectionInput, responses={201: ConnectionSerializer})
    def create(self, request: Request) -> Response:
        data = ConnectionInput(data=request.data)
        data.is_valid(raise_exception=True)
        connection = connections.connection_create(
            actor=acting_user(request), **data.validated_data
        )
        return Response(ConnectionSerializer(connection).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ConnectionUpdate, responses=ConnectionSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        data = ConnectionUpdate(data=request.data)
        data.is_valid(raise_exception=True)
        connection = connections.connection_update(
            connection=self.get_object(), actor=acting_user(request), **data.validated_data
        )
        return Response(ConnectionSerializer(connection).data)

    @extend_schema(request=None, responses={202: SyncRunSerializer})
    @action(detail=True, methods=["post"])
    def sync(self, request: Request, pk: str) -> Response:
        """Queue a sync now; follow it at `syncs`."""
        run = jobs.sync_start(connection_id=self.get_object().pk, actor=acting_user(request))
        return Response(SyncRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=SyncRunSerializer(many=True))
    @action(detail=True, methods=["get"])
    def syncs(self, request: Request, pk: str) -> Response:
        """The connection's latest sync runs, newest first: state, progress, result, error."""
        runs = selectors.sync_runs(connection=self.get_object())
        return Response(SyncRunSerializer(runs, many=True).data)
