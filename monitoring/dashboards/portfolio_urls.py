"""Dashboard pages: the portfolio views (included by monitoring/urls.py)."""

from __future__ import annotations

from django.urls import path

from monitoring.dashboards import portfolio_views as views

urlpatterns = [
    path("", views.portfolio, name="portfolio"),
    path("deployments/", views.inventory, name="inventory"),
    path("alerts/", views.alert_list_page, name="alert-list"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge, name="alert-acknowledge"),
    path("alerts/<int:pk>/resolve/", views.alert_resolve, name="alert-resolve"),
]
