"""Monitoring settings pages: alert rules (included by monitoring/urls.py)."""

from __future__ import annotations

from django.urls import path

from monitoring import settings_views as views

urlpatterns = [
    path("rules/", views.rule_list, name="rule-list"),
    path("rules/<int:pk>/", views.rule_edit, name="rule-edit"),
    path("rules/<int:pk>/active/", views.rule_active, name="rule-active"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule-delete"),
    path("rules/<int:pk>/test/", views.rule_test, name="rule-test"),
    path("deployments/<int:pk>/rules/", views.deployment_rules, name="deployment-rules"),
    path("deployments/<int:pk>/rules/new/", views.rule_new, name="rule-new"),
]
