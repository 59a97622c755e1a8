"""Dashboard pages: the portfolio views (included by monitoring/urls.py)."""

from __future__ import annotations

from django.urls import path, re_path

from monitoring.dashboards import model_inventory_views
from monitoring.dashboards import portfolio_views as views

urlpatterns = [
    path("", views.portfolio, name="portfolio"),
    path("deployments/", views.inventory, name="inventory"),
    path("models/", model_inventory_views.model_inventory, name="model-inventory"),
    re_path(
        r"^models/export\.(?P<fmt>csv|json)$",
        model_inventory_views.model_inventory_export,
        name="model-inventory-export",
    ),
    path("alerts/", views.alert_list_page, name="alert-list"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge, name="alert-acknowledge"),
    path("alerts/<int:pk>/resolve/", views.alert_resolve, name="alert-resolve"),
]
