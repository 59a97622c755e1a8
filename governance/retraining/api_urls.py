"""Retraining API routes; included under /api/v1/ (namespace "api") by portal/api_urls.py."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from governance.retraining import api

router = SimpleRouter()
router.register("retraining/runs", api.RetrainingRunViewSet, basename="retraining-run")

urlpatterns = [
    path(
        "models/<slug:slug>/retraining/policy/",
        api.PolicyView.as_view(),
        name="retraining-policy",
    ),
    path(
        "models/<slug:slug>/retraining/runs/", api.ModelRunsView.as_view(), name="retraining-runs"
    ),
    *router.urls,
]
