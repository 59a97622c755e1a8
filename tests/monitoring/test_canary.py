"""Canary against baseline: a minority production deployment doing worse than the majority one
at the same endpoint raises a rollback suggestion; metric rules read a window of days."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from governance.models import AuditEvent
from monitoring.alerts import canary, services
from monitoring.models import Alert, AlertRule, DailyPerformance
from monitoring.performance import selectors
from tests import factories

pytestmark = pytest.mark.django_db
ENDPOINT = "https://p.example.org/credit"


def set_day(deployment, days_ago: int, accuracy: float, labelled: int = 100) -> None:
    DailyPerformance.objects.update_or_create(
        deployment=deployment,
        day=timezone.now().date() - dt.timedelta(days=days_ago),
        defaults={
            "task": "binary",
            "predictions": labelled,
            "labelled": labelled,
            "metrics": {"accuracy": accuracy},
        },
    )


@pytest.fixture
def split(model_a):
    """(baseline at 90 %, canary at 10 %) at one production endpoint."""
    baseline = factories.production_deployment(
        version=factories.approved_version(model=model_a), endpoint=ENDPOINT, traffic_share=90
    )
    candidate = factories.production_deployment(
        version=factories.approved_version(model=model_a), endpoint=ENDPOINT, traffic_share=10
    )
    return baseline, candidate


def test_the_minority_deployment_is_the_canary_and_the_majority_its_baseline(split):
    baseline, candidate = split
    assert canary.baseline_of(candidate) == baseline
    assert canary.baseline_of(baseline) is None


def test_windowed_metric_weights_days_by_labelled_predictions(split):
    baseline, _ = split
    set_day(baseline, 0, 0.9, labelled=300)
    set_day(baseline, 1, 0.5, labelled=100)
    set_day(baseline, 5, 0.0, labelled=100)  # outside a two-day window
    assert selectors.windowed_metric(baseline, "accuracy", 2) == pytest.approx(0.8)
    assert selectors.windowed_metric(baseline, "accuracy", 1) == pytest.approx(0.9)
    assert selectors.windowed_metric(baseline, "roc_auc", 2) is None


def test_a_canary_doing_worse_raises_a_rollback_suggestion_once(split):
    baseline, candidate = split
    for day in range(3):
        set_day(baseline, day, 0.92)
        set_day(candidate, day, 0.85)
    assert services.alerts_evaluate(deployment=candidate) == {"opened": 1, "resolved": 0}
    rule = AlertRule.objects.get(source="canary")
    assert (rule.model_id, rule.name, rule.comparator, rule.window_days) == (
        candidate.version.model_id,
        "accuracy",
        "lt",
        3,
    )
    assert AuditEvent.objects.filter(
        action="monitoring.alert_rule.created", target_id=str(rule.pk)
    ).exists()
    alert = Alert.objects.get(rule=rule)
    assert alert.deployment == candidate and alert.suggestion == "rollback"
    assert alert.value == pytest.approx(-0.07)
    assert f"baseline, deployment {baseline.pk}" in alert.message
    assert "rolling the canary back" in alert.message
    # evaluating again opens nothing; the baseline itself never gets a canary alert
    assert services.alerts_evaluate(deployment=candidate)["opened"] == 0
    assert services.alerts_evaluate(deployment=baseline)["opened"] == 0
    assert AlertRule.objects.filter(source="canary").count() == 1


def test_a_canary_doing_as_well_raises_nothing_and_a_recovered_one_resolves(split):
    baseline, candidate = split
    for day in range(3):
        set_day(baseline, day, 0.90)
        set_day(candidate, day, 0.80)
    services.alerts_evaluate(deployment=candidate)
    assert Alert.objects.filter(state="open").count() == 1
    for day in range(3):
        set_day(candidate, day, 0.91)
    assert services.alerts_evaluate(deployment=candidate) == {"opened": 0, "resolved": 1}


def test_a_disabled_canary_rule_is_not_recreated_or_evaluated(split):
    baseline, candidate = split
    for day in range(3):
        set_day(baseline, day, 0.92)
        set_day(candidate, day, 0.70)
    rule = canary.canary_rule_ensure(candidate)
    AlertRule.objects.filter(pk=rule.pk).update(active=False)
    assert services.alerts_evaluate(deployment=candidate)["opened"] == 0
    assert AlertRule.objects.filter(source="canary").count() == 1


def test_staging_deployments_are_never_canaries(model_a):
    version = factories.model_version(model=model_a)
    factories.deployment(version=version, endpoint=ENDPOINT, traffic_share=90)
    small = factories.deployment(version=version, endpoint=ENDPOINT, traffic_share=10)
    assert canary.baseline_of(small) is None
    assert canary.canary_rule_ensure(small) is None
