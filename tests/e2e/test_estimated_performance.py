"""The label-free estimate on the Performance tab in a real browser: the dashed line with its
shaded band beside the realised values, the assumptions it rests on, and the table's error
column once labels arrived."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from monitoring.models import DailyEstimate
from monitoring.performance import estimation
from monitoring.performance import services as performance
from tests.e2e.test_dashboards_deployment import wait_for_chart
from tests.monitoring.test_estimation import _binary_rows, _deployment, _events

pytestmark = pytest.mark.e2e


@pytest.fixture
def estimated(transactional_db, model_a):
    """Three days of a binary model's scored predictions: the first labelled, the last with
    inputs near the decision boundary (its accuracy is estimated lower before any label)."""
    rng = np.random.default_rng(11)
    deployment = _deployment(model_a, _binary_rows(rng, 3_000))
    today = timezone.now().astimezone(dt.UTC).date()
    days = [today - dt.timedelta(days=2 - k) for k in range(3)]
    frames = [_binary_rows(rng, 800), _binary_rows(rng, 800), _binary_rows(rng, 800, spread=0.4)]
    for k, (day, frame) in enumerate(zip(days, frames, strict=True)):
        _events(deployment, frame, day, labelled=k == 0, prefix=f"d{k}")
    performance.performance_days_list_compute(deployment=deployment, days=days)
    estimation.estimates_compute(deployment=deployment, days=days)
    return deployment, days


def test_the_performance_tab_draws_the_estimate_as_a_dashed_line_with_its_band(
    page, login, screenshot, estimated
):
    deployment, days = estimated
    login(page, "olivia")
    page.goto(
        f"/monitoring/deployments/{deployment.pk}/performance/?start={days[0]}&end={days[-1]}"
    )
    wait_for_chart(page, "chart-performance")
    drawn = page.evaluate(
        """() => Chart.getChart('chart-performance').data.datasets.map(
            d => ({label: d.label, dash: d.borderDash, band: d.band, data: d.data}))"""
    )
    line = next(d for d in drawn if d["label"] == "Estimated Accuracy")
    assert line["dash"] and not line["band"]
    stored = [
        DailyEstimate.objects.get(deployment=deployment, day=day).estimated["accuracy"]["value"]
        for day in days
    ]
    assert line["data"] == pytest.approx(stored)
    assert line["data"][2] < line["data"][0]  # the shifted day, estimated lower
    assert sum(1 for d in drawn if d["band"]) == 2  # the band's two edges
    expect(page.locator("#perf-summary")).to_contain_text("dashed orange line", use_inner_text=True)
    assumptions = page.locator("#estimate-assumptions")
    expect(assumptions).to_contain_text("no concept shift", use_inner_text=True)
    # The labelled day shows how far its estimate was off; the others have no labels yet.
    first = DailyEstimate.objects.get(deployment=deployment, day=days[0])
    cells = page.get_by_role("row", name=str(days[0])).get_by_role("cell")
    off = cells.last.inner_text().replace("\N{MINUS SIGN}", "-")
    assert float(off) == pytest.approx(first.error["accuracy"], abs=1e-4)
    later = page.get_by_role("row", name=str(days[2])).get_by_role("cell")
    expect(later.last).to_have_text("\N{EM DASH}", use_inner_text=True)
    screenshot(page, "deployment-performance-estimate")
