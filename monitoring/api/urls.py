"""Monitoring endpoints under /api/v1/, included before the registry's router."""

from __future__ import annotations

from django.urls import path

from monitoring.api.quality_views import DeploymentQualityView
from monitoring.api.views import (
    AlertAcknowledgeView,
    AlertListView,
    AlertResolveView,
    AlertRuleDetailView,
    AlertRuleListView,
    DeploymentDriftView,
    DeploymentEstimatedPerformanceView,
    DeploymentHealthView,
    DeploymentPerformanceView,
    DeploymentStatusView,
    DeploymentSummariesView,
    GroundTruthBatchView,
    MonitoringRebuildView,
    MonitoringSettingsView,
    PortfolioView,
    PredictionBatchView,
    VersionLayoutsView,
    VersionReferenceView,
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
    path(
        "deployments/<int:pk>/summaries/",
        DeploymentSummariesView.as_view(),
        name="deployment-summaries",
    ),
    path("versions/<int:pk>/layouts/", VersionLayoutsView.as_view(), name="version-layouts"),
    path("deployments/<int:pk>/drift/", DeploymentDriftView.as_view(), name="deployment-drift"),
    path("deployments/<int:pk>/health/", DeploymentHealthView.as_view(), name="deployment-health"),
    path(
        "deployments/<int:pk>/performance/",
        DeploymentPerformanceView.as_view(),
        name="deployment-performance",
    ),
    path(
        "deployments/<int:pk>/estimated-performance/",
        DeploymentEstimatedPerformanceView.as_view(),
        name="deployment-estimated-performance",
    ),
    path(
        "deployments/<int:pk>/quality/", DeploymentQualityView.as_view(), name="deployment-quality"
    ),
    path("deployments/<int:pk>/status/", DeploymentStatusView.as_view(), name="deployment-status"),
    path(
        "deployments/<int:pk>/monitoring-settings/",
        MonitoringSettingsView.as_view(),
        name="deployment-monitoring-settings",
    ),
    path(
        "deployments/<int:pk>/monitoring-rebuild/",
        MonitoringRebuildView.as_view(),
        name="deployment-monitoring-rebuild",
    ),
    path(
        "versions/<int:pk>/monitoring-reference/",
        VersionReferenceView.as_view(),
        name="version-monitoring-reference",
    ),
    path("monitoring/portfolio/", PortfolioView.as_view(), name="monitoring-portfolio"),
    path("alert-rules/", AlertRuleListView.as_view(), name="alert-rule-list"),
    path("alert-rules/<int:pk>/", AlertRuleDetailView.as_view(), name="alert-rule-detail"),
    path("alerts/", AlertListView.as_view(), name="alert-list"),
    path("alerts/<int:pk>/acknowledge/", AlertAcknowledgeView.as_view(), name="alert-acknowledge"),
    path("alerts/<int:pk>/resolve/", AlertResolveView.as_view(), name="alert-resolve"),
]
