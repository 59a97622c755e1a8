"""Audit log API routes; included under /api/v1/ (namespace "api") by portal/api_urls.py."""

from __future__ import annotations

from django.urls import path

from governance.audit.api.views import (
    AuditEventViewSet,
    AuditExportView,
    AuditVerifyView,
    ProductionAtView,
)

urlpatterns = [
    path("audit/production-at/", ProductionAtView.as_view(), name="audit-production-at"),
    path("audit/verify/", AuditVerifyView.as_view(), name="audit-verify"),
    path("audit/events/", AuditEventViewSet.as_view({"get": "list"}), name="audit-event-list"),
    path("audit/events/export.csv", AuditExportView.as_view(), name="audit-event-export"),
    path(
        "audit/events/<int:seq>/",
        AuditEventViewSet.as_view({"get": "retrieve"}),
        name="audit-event-detail",
    ),
]
