"""The Data quality tab in a real browser: two days of the demo's diabetes production traffic
(whose bmi the demo sends empty in a share of recent events), posted through ingestion and
checked by the monitoring job; the owner finds bmi flagged on the tab."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from monitoring.rollups import jobs
from portal.demo import catalog, training
from portal.demo import traffic_generator as traffic
from portal.demo.traffic import _post
from tests import factories

pytestmark = pytest.mark.e2e
DAYS = 2


@pytest.fixture
def gapped(transactional_db, model_a):
    """model_a deployed with the diabetes model's inputs, fed the demo's diabetes production
    traffic for two days, and the monitoring job run over them."""
    problem = training.load_problem("diabetes")
    split = training.split_problem(problem)
    trained = training.train(problem, split, algorithm="ridge")
    schema = [{"name": name, "type": "numeric"} for name in problem.features]
    version = factories.model_version(model=model_a, input_schema=schema, feature_importance={})
    deployment = factories.deployment(version=version)
    plan = traffic.plan_for(catalog.DIABETES, environment="production", version=1)
    plan = dataclasses.replace(plan, days=DAYS)
    end = jobs.floor_hour(timezone.now())
    generated = traffic.generate(problem, split.valid, trained.estimator, plan, end=end)
    _post(deployment, generated, model_a.owner)
    jobs.deployment_monitor(deployment=deployment, start=end - dt.timedelta(days=DAYS), end=end)
    missing = int(generated.features[traffic.GAP_FEATURE].isna().sum())
    assert missing > 0
    return deployment, missing


def test_owner_sees_the_feature_the_demo_sends_empty_on_the_data_quality_tab(
    page, login, screenshot, gapped
):
    deployment, missing = gapped
    login(page, "olivia")
    page.goto(f"/registry/deployments/{deployment.pk}/")
    status = page.locator("[data-axis='data_quality']")
    expect(status).to_contain_text("missing share of bmi", use_inner_text=True)
    tabs = page.get_by_role("navigation", name=f"Deployment #{deployment.pk} pages")
    tabs.get_by_role("link", name="Data quality").click()
    page.wait_for_url(f"**/monitoring/deployments/{deployment.pk}/quality/")
    page.wait_for_function("() => window.Chart && Chart.getChart('quality-chart')")
    expect(page.locator(".notice")).to_contain_text(
        "Features with problems: bmi.", use_inner_text=True
    )
    flagged = page.locator("#quality-table tbody tr.is-drifted")
    assert flagged.count() == 1
    expect(flagged.get_by_role("rowheader")).to_have_text("bmi", use_inner_text=True)
    expect(flagged.locator("[data-figure='missing']")).to_have_text(
        re.compile(rf"^{missing} "), use_inner_text=True
    )
    screenshot(page, "deployment-quality")


def test_the_data_quality_tab_of_a_deployment_without_traffic_says_so(
    page, login, transactional_db, model_a
):
    deployment = factories.deployment(version=factories.model_version(model=model_a))
    login(page, "olivia")
    page.goto(f"/monitoring/deployments/{deployment.pk}/quality/")
    expect(page.get_by_role("heading", name="No traffic yet")).to_be_visible()
