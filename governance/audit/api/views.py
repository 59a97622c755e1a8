"""Audit log API: the verdict, the entries (read-only, filtered, paginated) and a CSV export.

The entries and the export follow the audit page's rule, `audit_visible`: superusers and
holders of the global view permission (auditor and reviewer roles) read the whole log, everyone
else the entries about the registry objects they may view and about their own account. The
chain's verdict covers the whole log, so it stays with the first group (403 for others).
"""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.audit import production_at
from governance.audit.api.filters import AuditEventFilter
from governance.audit.api.serializers import AuditEventSerializer, AuditReportSerializer
from governance.audit.export import csv_lines, neutralise
from governance.audit.models import AuditEvent
from governance.audit.selectors import audit_visible
from governance.audit.services import events_export
from governance.audit.verification import BATCH, audit_report
from registry.choices import Action
from registry.models import RegisteredModel
from registry.querysets import has_global_permission


class CanReadAuditLog(BasePermission):
    message = "Reading the audit log needs the auditor, reviewer or administrator role."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(
            user.is_authenticated and user.is_active and has_global_permission(user, Action.VIEW)
        )


class CSVRenderer(BaseRenderer):
    """Lets `Accept: text/csv` through content negotiation; the export itself streams, so
    only an error body is ever rendered here."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> str:
        detail = data.get("detail", data) if isinstance(data, dict) else data
        return f"detail\r\n{neutralise(str(detail))}\r\n"


class AuditVerifyView(APIView):
    """Walk the whole chain against its head and the signed checkpoints."""

    permission_classes = [CanReadAuditLog]

    @extend_schema(responses=AuditReportSerializer)
    def get(self, request: Request) -> Response:
        return Response(AuditReportSerializer(audit_report()).data)


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """Audit entries in chain order (`?ordering=-seq` for newest first); `{seq}` names one."""

    queryset = AuditEvent.objects.none()  # for the schema; get_queryset applies the rule
    serializer_class = AuditEventSerializer
    permission_classes = [IsAuthenticated]
    filterset_class = AuditEventFilter
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    lookup_field = "seq"
    lookup_value_regex = r"\d+"
    ordering_fields = ["seq"]
    # Oldest first by default: pages stay put while new entries are appended at the end.
    ordering = ["seq"]

    def get_queryset(self) -> Any:
        return audit_visible(user=self.request.user)


class AuditExportView(generics.GenericAPIView):
    """The filtered entries as CSV (formula-looking cells neutralised). Recorded in the log."""

    queryset = AuditEvent.objects.none()  # for the schema; get_queryset applies the rule
    permission_classes = [IsAuthenticated]
    filterset_class = AuditEventFilter
    filter_backends = [DjangoFilterBackend]
    renderer_classes = [JSONRenderer, CSVRenderer]
    pagination_class = None

    def get_queryset(self) -> Any:
        return audit_visible(user=self.request.user)

    @extend_schema(
        operation_id="v1_audit_events_export_csv",
        filters=True,
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)},
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        events = self.filter_queryset(self.get_queryset())
        filters = {
            k: str(v) for k, v in request.query_params.items() if k in AuditEventFilter.base_filters
        }
        chosen = events_export(actor=request.user, events=events, filters=filters, fmt="csv")
        rows = (event.as_chain_entry() for event in chosen.iterator(chunk_size=BATCH))
        response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="steward-audit.csv"'
        return response


class AsOfQuery(serializers.Serializer):
    at = serializers.DateTimeField()
    model = serializers.SlugField(required=False, max_length=140)


class ProductionAtView(APIView):
    """Which version served each production endpoint at `at`, and who approved it."""

    @extend_schema(parameters=[AsOfQuery], responses=dict)
    def get(self, request: Request) -> Response:
        query = AsOfQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        model = None
        if query.validated_data.get("model"):
            model = get_object_or_404(
                RegisteredModel.objects.restrict(request.user, Action.VIEW),
                slug=query.validated_data["model"],
            )
        rows = production_at.production_at(
            user=request.user, when=query.validated_data["at"], model=model
        )
        return Response(
            {"at": query.validated_data["at"], "serving": [production_at.as_json(r) for r in rows]}
        )
