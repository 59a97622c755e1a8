"""Audit log API routes; included under /api/v1/ (namespace "api") by portal/api_urls.py."""

from __future__ import annotations

from django.urls import path

from governance.api.audit_views import AuditEventViewSet, AuditExportView, AuditVerifyView

urlpatterns = [
    path("audit/verify/", AuditVerifyView.as_view(), name="audit-verify"),
    path("audit/events/", AuditEventViewSet.as_view({"get": "list"}), name="audit-event-list"),
    path("audit/events/export.csv", AuditExportView.as_view(), name="audit-event-export"),
    path(
        "audit/events/<int:seq>/",
        AuditEventViewSet.as_view({"get": "retrieve"}),
        name="audit-event-detail",
    ),
]
