"""Dashboard pages: the deployment views (included by monitoring/urls.py)."""

from __future__ import annotations

from django.urls import path

from monitoring.dashboards import deployment_views as views
from monitoring.dashboards.quality_views import deployment_quality

urlpatterns = [
    path("deployments/switch/", views.deployment_switch, name="deployment-switch"),
    path("deployments/<int:pk>/health/", views.deployment_health, name="deployment-health"),
    path(
        "deployments/<int:pk>/performance/",
        views.deployment_performance,
        name="deployment-performance",
    ),
    path("deployments/<int:pk>/drift/", views.deployment_drift, name="deployment-drift"),
    path("deployments/<int:pk>/data/", views.deployment_data, name="deployment-data"),
    path(
        "deployments/<int:pk>/reference/",
        views.deployment_reference,
        name="deployment-reference",
    ),
    path("deployments/<int:pk>/quality/", deployment_quality, name="deployment-quality"),
]
