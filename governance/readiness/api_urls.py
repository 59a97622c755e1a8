"""API routes; included under /api/v1/ by portal/api_urls.py (namespace "api"), before the
router, which also claims "versions/": hence full paths here."""

from django.urls import path

from governance.readiness.api.views import (
    ReadinessTemplateVersionView,
    ReadinessTemplateView,
    VersionReadinessAnswersView,
    VersionReadinessView,
)

urlpatterns = [
    path("readiness/templates/", ReadinessTemplateView.as_view(), name="readiness-template"),
    path(
        "readiness/templates/<int:number>/",
        ReadinessTemplateVersionView.as_view(),
        name="readiness-template-version",
    ),
    path("versions/<int:pk>/readiness/", VersionReadinessView.as_view(), name="version-readiness"),
    path(
        "versions/<int:pk>/readiness/answers/",
        VersionReadinessAnswersView.as_view(),
        name="version-readiness-answers",
    ),
]
