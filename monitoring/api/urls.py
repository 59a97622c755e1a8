"""Monitoring endpoints under /api/v1/, included before the registry's router."""

from __future__ import annotations

from django.urls import path

from monitoring.api.views import (
    DeploymentDriftView,
    DeploymentHealthView,
    GroundTruthBatchView,
    PredictionBatchView,
)

urlpatterns = [
    path(
        "deployments/<int:pk>/predictions/",
        PredictionBatchView.as_view(),
        name="deployment-predictions",
    ),
    path(
        "deployments/<int:pk>/ground-truth/",
        GroundTruthBatchView.as_view(),
        name="deployment-ground-truth",
    ),
    path("deployments/<int:pk>/drift/", DeploymentDriftView.as_view(), name="deployment-drift"),
    path("deployments/<int:pk>/health/", DeploymentHealthView.as_view(), name="deployment-health"),
]
