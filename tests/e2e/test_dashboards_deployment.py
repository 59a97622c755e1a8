"""The deployment dashboards in a real browser: the detail page's tabs, the drift chart with
its threshold and the drifted feature, service health, performance and the distributions."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from monitoring.models import AlertRule, DeploymentStatus, DriftResult
from monitoring.rollups.profiles import PREDICTION_FEATURE
from tests.monitoring import deployment_rollups as rollups

pytestmark = pytest.mark.e2e


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


@pytest.fixture
def monitored(transactional_db, model_a):
    """model_a deployed with five features, a week of health and performance, the current
    window's summaries and drift results in which num_0 (the most important) drifted."""
    deployment, profile, _ = rollups.monitored_deployment(model=model_a, n_features=5, target=True)
    today = timezone.now().astimezone(dt.UTC).date()
    end = midnight(today)
    start = end - dt.timedelta(days=7)
    rollups.add_health(deployment, start, hours=7 * 24 + 6)
    rollups.add_performance(deployment, [today - dt.timedelta(days=i) for i in range(7)])
    AlertRule.objects.create(
        model=model_a, source="metric", name="accuracy", comparator="lt", threshold=0.8
    )
    current = rollups.with_outcome(
        rollups.frame_for(deployment.version.input_schema, 300, seed=9, shift=6.0),
        seed=6,
        positive_share=0.5,
    ).rename(columns={"outcome": PREDICTION_FEATURE})
    rollups.add_summaries(deployment, profile, current, start + dt.timedelta(hours=3))
    rows = [
        ("num_0", "wasserstein", 0.42, None, 0.1),
        ("num_1", "ks", 0.04, 0.31, 0.05),
        ("cat_2", "chisquare", 3.1, 0.21, 0.05),
        ("num_3", "jensenshannon", 0.03, None, 0.1),
        ("num_4", "psi", 0.06, None, 0.1),
    ]
    DriftResult.objects.bulk_create(
        rollups.drift_row(
            deployment, start, end, name, method=m, statistic=st, p_value=p, threshold=t
        )
        for name, m, st, p, t in rows
    )
    DeploymentStatus.objects.create(
        deployment=deployment,
        accuracy_level="good",
        accuracy_reason="accuracy 0.88 at or above 0.85",
        drift_level="at_risk",
        drift_reason="1 of 5 features drifted (0.2)",
        service_health_level="good",
        service_health_reason="error rate and latency within limits",
        computed_at=timezone.now(),
    )
    return deployment


def wait_for_chart(page, canvas_id: str) -> None:
    page.wait_for_function(f"() => window.Chart && Chart.getChart('{canvas_id}')")
    expect(page.locator(f"canvas#{canvas_id}")).to_be_visible()


def test_owner_follows_the_tabs_of_a_drifting_deployment(page, login, screenshot, monitored):
    pk = monitored.pk
    login(page, "olivia")
    page.goto(f"/registry/deployments/{pk}/")
    status = page.locator("[data-axis='drift']")
    expect(status).to_contain_text("At risk", use_inner_text=True)
    expect(status).to_contain_text("1 of 5 features drifted", use_inner_text=True)
    screenshot(page, "deployment-detail-monitoring")

    tabs = page.get_by_role("navigation", name=f"Deployment #{pk} pages")
    tabs.get_by_role("link", name="Feature drift").click()
    page.wait_for_url(f"**/monitoring/deployments/{pk}/drift/")
    wait_for_chart(page, "drift-chart")
    expect(page.locator("#drift-summary")).to_contain_text("over it: num_0", use_inner_text=True)
    drifted = page.locator("#drift-table tbody tr.is-drifted")
    assert drifted.count() == 1
    expect(drifted.get_by_role("rowheader")).to_have_text("num_0", use_inner_text=True)
    expect(drifted).to_contain_text("Drifted", use_inner_text=True)
    screenshot(page, "deployment-drift")

    tabs.get_by_role("link", name="Service health").click()
    page.wait_for_url(f"**/monitoring/deployments/{pk}/health/")
    for canvas in ("chart-requests", "chart-latency", "chart-rates", "chart-resources"):
        wait_for_chart(page, canvas)
    screenshot(page, "deployment-health")

    tabs.get_by_role("link", name="Performance").click()
    page.wait_for_url(f"**/monitoring/deployments/{pk}/performance/")
    wait_for_chart(page, "chart-performance")
    expect(page.locator("#perf-summary")).to_contain_text(
        "the red line is the threshold (0.8000)", use_inner_text=True
    )
    screenshot(page, "deployment-performance")

    tabs.get_by_role("link", name="Training vs production").click()
    page.wait_for_url(f"**/monitoring/deployments/{pk}/data/")
    expect(page.get_by_role("region", name="Feature cat_2 (categorical)")).to_be_visible()
    page.get_by_label("Feature", exact=True).select_option("num_0")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**feature=num_0**")
    expect(page.get_by_role("region", name="Feature num_0 (numeric)")).to_be_visible()
    wait_for_chart(page, "feature-chart")
    wait_for_chart(page, "prediction-chart")
    screenshot(page, "deployment-data")


def test_bad_dates_show_a_form_error_in_the_browser(page, login, monitored):
    login(page, "olivia")
    page.goto(f"/monitoring/deployments/{monitored.pk}/health/?start=2026-05-10&end=2026-05-01")
    expect(page.get_by_role("alert").first).to_have_text(
        re.compile(r"^The start date must not be after the end date\."), use_inner_text=True
    )
    wait_for_chart(page, "chart-requests")  # the default range is still shown
