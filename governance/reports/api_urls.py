"""Reports API routes; included under /api/v1/ by portal/api_urls.py."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from governance.reports import api

router = SimpleRouter()
router.register("reports/exports", api.ReportExportViewSet, basename="report-export")

urlpatterns = [
    path("reports/jobs/<int:pk>/", api.ReportJobView.as_view(), name="report-job-detail"),
    path("reports/verify/", api.ReportVerifyView.as_view(), name="report-verify"),
    path("reports/schedules/", api.ReportScheduleView.as_view(), name="report-schedules"),
    *router.urls,
]
