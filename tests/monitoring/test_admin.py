"""The monitoring admin: every table can be browsed by a superuser, none can be edited."""

from __future__ import annotations

import pytest
from django.contrib.admin import site
from django.urls import reverse

from monitoring import models as m
from monitoring.alerts import services as alerting

pytestmark = pytest.mark.django_db

REGISTERED = [
    m.JobRun,
    m.PredictionEvent,
    m.GroundTruth,
    m.DeploymentActivity,
    m.ReferenceProfile,
    m.HourlySummary,
    m.HourlyHealth,
    m.DriftResult,
    m.DailyPerformance,
    m.DeploymentStatus,
    m.MonitoringSettings,
    m.AlertRule,
    m.Alert,
    m.AlertDelivery,
]


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model.__name__)
def test_each_table_is_listed_and_cannot_be_added_to(client, admin, model):
    client.force_login(admin)
    assert model in site._registry
    assert client.get(admin_url(model, "changelist")).status_code == 200
    assert client.get(admin_url(model, "add")).status_code == 403


def test_a_rule_is_shown_read_only_without_its_secret(client, admin, model_a):
    rule = alerting.alert_rule_create(
        actor=model_a.owner,
        model=model_a,
        source="metric",
        name="accuracy",
        comparator="lt",
        threshold=0.8,
        webhook_url="https://hooks.example.org/x",
        webhook_secret="do-not-show-me",
    )
    client.force_login(admin)
    page = client.get(admin_url(m.AlertRule, "change", rule.pk))
    assert page.status_code == 200
    assert b"do-not-show-me" not in page.content
    assert b'name="_save"' not in page.content  # no save button: read-only
    answer = client.post(admin_url(m.AlertRule, "change", rule.pk), {"threshold": 0.1})
    assert answer.status_code == 403
    rule.refresh_from_db()
    assert rule.threshold == 0.8
