"""Reports API routes; included under /api/v1/ by portal/api_urls.py."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from governance.reports import api

router = SimpleRouter()
router.register("reports/exports", api.ReportExportViewSet, basename="report-export")

urlpatterns = [
    path("reports/jobs/<int:pk>/", api.ReportJobView.as_view(), name="report-job-detail"),
    path(
        "reports/technical-documentation/<int:pk>/",
        api.TechnicalDocumentationView.as_view(),
        name="report-technical-documentation",
    ),
    path("reports/verify/", api.ReportVerifyView.as_view(), name="report-verify"),
    path("reports/schedules/", api.ReportScheduleView.as_view(), name="report-schedules"),
    path(
        "reports/schedules/<int:pk>/",
        api.ReportScheduleDetailView.as_view(),
        name="report-schedule-detail",
    ),
    path(
        "reports/schedules/<int:pk>/pause/",
        api.ReportSchedulePauseView.as_view(),
        name="report-schedule-pause",
    ),
    path(
        "reports/schedules/<int:pk>/resume/",
        api.ReportScheduleResumeView.as_view(),
        name="report-schedule-resume",
    ),
    *router.urls,
]
