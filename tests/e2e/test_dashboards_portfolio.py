"""The portfolio dashboards in a real browser: a data scientist goes from the status overview
to the deployments whose drift is at risk, sorts them, opens one, and watches a job's progress
move without reloading."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from monitoring.models import (
    Alert,
    AlertRule,
    DeploymentActivity,
    DeploymentStatus,
    DriftResult,
    JobRun,
)
from tests import factories

pytestmark = pytest.mark.e2e


def nav(page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


@pytest.fixture
def fleet(transactional_db, model_a, model_b):
    """Model A's four deployments (two with drift at risk, one never used) and an open alert;
    model B's deployment, at risk as well, belongs to someone else."""
    now = timezone.now()
    version = factories.model_version(model=model_a)
    made = []
    for i, (drift, hours) in enumerate(
        [("at_risk", 30), ("good", 2), ("at_risk", 1), ("failing", None)]
    ):
        deployment = factories.deployment(
            version=version, endpoint=f"https://serving.example.org/credit-{i}"
        )
        DeploymentStatus.objects.create(
            deployment=deployment,
            accuracy_level="good",
            accuracy_reason="ROC AUC 0.91 over 7 days",
            drift_level=drift,
            drift_reason=f"income drift {drift}",
            service_health_level="good",
            service_health_reason="p95 latency 80 ms",
            computed_at=now,
        )
        if hours is not None:
            DeploymentActivity.objects.create(
                deployment=deployment,
                predictions=1000 * (i + 1),
                first_prediction_at=now - dt.timedelta(days=10),
                last_prediction_at=now - dt.timedelta(hours=hours),
            )
        made.append(deployment)
    other = factories.deployment(
        version=factories.model_version(model=model_b), endpoint="https://zebra.example.org/churn"
    )
    DeploymentStatus.objects.create(
        deployment=other,
        accuracy_level="failing",
        accuracy_reason="-",
        drift_level="at_risk",
        drift_reason="-",
        service_health_level="good",
        service_health_reason="-",
        computed_at=now,
    )
    rule = AlertRule.objects.create(
        deployment=made[0], source="status", name="drift", comparator="ge", threshold=1
    )
    alert = Alert.objects.create(
        rule=rule,
        deployment=made[0],
        value=1,
        message="status drift of the credit deployment is at risk",
        dedup_key=f"{rule.pk}:{made[0].pk}",
        suggestion="rollback",
        opened_at=now,
    )
    # The recent at-risk deployment's latest drift window: the demo's story, where
    # "worst concave points" drifts and its neighbour does not.
    window_end = now.replace(minute=0, second=0, microsecond=0)
    for feature, statistic, p_value in (
        ("worst concave points", 0.57, 1e-80),
        ("mean radius", 0.03, 0.91),
    ):
        DriftResult.objects.create(
            deployment=made[2],
            window_start=window_end - dt.timedelta(days=7),
            window_end=window_end,
            feature=feature,
            method="ks",
            statistic=statistic,
            p_value=p_value,
            threshold=0.05,
            drifted=p_value < 0.05,
            parameters={"source": "raw", "n_reference": 426, "n_current": 1222},
            engine_version="test",
            reference_digest="0" * 64,
            current_digest="1" * 64,
        )
    job = JobRun.objects.create(
        kind="deployment_monitoring",
        requested_by=model_a.owner,
        state="running",
        progress=0.25,
        started_at=now - dt.timedelta(seconds=40),
    )
    return SimpleNamespace(deployments=made, other=other, alert=alert, job=job)


def test_scientist_follows_drift_at_risk_to_a_deployment(page, login, screenshot, fleet):
    login(page, "olivia")
    nav(page, "Portfolio")
    page.wait_for_url("**/monitoring/")
    expect(page.get_by_role("heading", name="Monitoring portfolio")).to_be_visible()
    for axis in ("accuracy", "drift", "service_health"):
        page.wait_for_function(f"() => window.Chart && Chart.getChart('chart-{axis}')")
    drift = page.locator("section", has=page.get_by_role("heading", name="Drift", exact=True))
    expect(drift.get_by_role("row", name="At risk").get_by_role("cell").first).to_have_text(
        "2", use_inner_text=True
    )
    screenshot(page, "portfolio-overview")

    drift.get_by_role("link", name="At risk drift: list these deployments").click()
    page.wait_for_url("**/monitoring/deployments/?drift=at_risk")
    rows = page.locator("table.inventory tbody tr")
    assert rows.count() == 2
    assert page.get_by_text("zebra.example.org").count() == 0

    page.get_by_role("link", name="Last prediction").click()
    page.wait_for_url("**sort=last_prediction**")
    assert "drift=at_risk" in page.url
    header = page.get_by_role("columnheader", name="Last prediction")
    assert header.get_attribute("aria-sort") == "ascending"
    recent, older = fleet.deployments[2], fleet.deployments[0]
    links = page.locator("table.inventory tbody a[data-deployment-link]")
    assert links.nth(0).get_attribute("href") == f"/registry/deployments/{recent.pk}/"
    assert links.nth(1).get_attribute("href") == f"/registry/deployments/{older.pk}/"
    screenshot(page, "portfolio-inventory")

    links.nth(0).click()
    page.wait_for_url(f"**/registry/deployments/{recent.pk}/")
    expect(page.get_by_text(recent.endpoint).first).to_be_visible()
    tabs = page.get_by_role("navigation", name=f"Deployment #{recent.pk} pages")
    tabs.get_by_role("link", name="Feature drift").click()
    page.wait_for_url(f"**/monitoring/deployments/{recent.pk}/drift/")
    page.wait_for_function("() => window.Chart && Chart.getChart('drift-chart')")
    # the chart's text alternative names what stands over the red threshold line
    expect(page.locator("#drift-summary")).to_contain_text(
        "over it: worst concave points", use_inner_text=True
    )
    drifted = page.locator("#drift-table tbody tr.is-drifted")
    assert drifted.count() == 1
    expect(drifted.get_by_role("rowheader")).to_have_text(
        "worst concave points", use_inner_text=True
    )
    screenshot(page, "scientist-drift")


def test_alerts_and_live_job_progress(page, login, screenshot, fleet):
    login(page, "olivia")
    nav(page, "Alerts")
    page.wait_for_url("**/monitoring/alerts/")
    expect(page.get_by_text(fleet.alert.message)).to_be_visible()
    expect(page.get_by_text("Rollback")).to_be_visible()
    screenshot(page, "portfolio-alerts")
    page.get_by_role("button", name=f"Acknowledge alert {fleet.alert.pk}").click()
    page.wait_for_url("**/monitoring/alerts/?state=open")
    expect(page.get_by_text(f"Alert {fleet.alert.pk} is acknowledged.")).to_be_visible()
    nav(page, "Jobs")
    page.wait_for_url("**/monitoring/jobs/")
    bar = page.locator(f'tr[data-job-run="{fleet.job.pk}"] progress')
    assert bar.get_attribute("value") == "25"
    JobRun.objects.filter(pk=fleet.job.pk).update(progress=0.8)
    page.wait_for_function(
        f"() => document.querySelector('tr[data-job-run=\"{fleet.job.pk}\"] progress').value == 80"
    )
    screenshot(page, "portfolio-jobs")
    JobRun.objects.filter(pk=fleet.job.pk).update(state="succeeded", finished_at=timezone.now())
    row = page.locator(f'tr[data-job-run="{fleet.job.pk}"]')
    row.get_by_text("Succeeded").wait_for()
    assert row.locator("progress").count() == 0


def test_inventory_scrolls_inside_its_wrapper_on_a_tablet(page, login, screenshot, fleet):
    page.set_viewport_size({"width": 800, "height": 1100})
    login(page, "olivia")
    page.goto("/monitoring/deployments/")
    wrapper = page.locator(".table-wrap").first
    widths = wrapper.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert widths[0] > widths[1]  # the table scrolls, not the page
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "portfolio-inventory-tablet")
