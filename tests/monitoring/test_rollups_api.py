"""Read API of the rollups: drift per window and daily health, behind restrict(user, "view")."""

from __future__ import annotations

import datetime as dt

import pytest

from monitoring.rollups import hourly
from monitoring.rollups.drift import drift_compute
from tests.monitoring.test_rollups import HOUR, add_events, dataset, deployment, recent_start

pytestmark = pytest.mark.django_db
__all__ = ["dataset", "deployment"]  # fixtures shared with test_rollups


@pytest.fixture
def monitored(deployment):
    start = recent_start(6)
    add_events(deployment, start, hours=3, per_hour=300, income_shift=8_000.0)
    hourly.summaries_build(deployment, start, start + 6 * HOUR)
    drift_compute(deployment, start, start + 6 * HOUR)
    return deployment


def drift_url(deployment, query: str = "") -> str:
    return f"/api/v1/deployments/{deployment.pk}/drift/{query}"


def health_url(deployment, query: str = "") -> str:
    return f"/api/v1/deployments/{deployment.pk}/health/{query}"


def test_owner_reads_the_latest_drift_per_feature(api_as, owner, monitored):
    response = api_as(owner).get(drift_url(monitored))
    assert response.status_code == 200, response.content
    by_feature = {row["feature"]: row for row in response.json()}
    assert set(by_feature) == {"age", "income", "region"}
    assert by_feature["income"]["drifted"] and not by_feature["age"]["drifted"]
    assert by_feature["income"]["method"] == "wasserstein"


def test_drift_outside_the_requested_window_is_not_returned(api_as, owner, monitored):
    before = (recent_start(6) - 2 * HOUR).isoformat().replace("+00:00", "Z")
    response = api_as(owner).get(drift_url(monitored, f"?end={before}"))
    assert response.status_code == 200 and response.json() == []


def test_a_bad_window_bound_is_a_400(api_as, owner, monitored):
    assert api_as(owner).get(drift_url(monitored, "?start=yesterday")).status_code == 400


def test_owner_reads_daily_health_rolled_up_from_hours(api_as, owner, monitored):
    response = api_as(owner).get(health_url(monitored, "?days=2"))
    assert response.status_code == 200, response.content
    days = response.json()
    assert sum(day["count"] for day in days) == 900
    assert all(day["error_rate"] == pytest.approx(0.1, abs=0.01) for day in days)
    assert all(day["cache_hit_rate"] == pytest.approx(0.5, abs=0.01) for day in days)
    assert all(10.0 <= day["latency_p50_ms"] <= 16.0 for day in days)
    assert dt.date.fromisoformat(days[-1]["day"]) <= dt.datetime.now(dt.UTC).date()


@pytest.mark.parametrize("url", [drift_url, health_url])
def test_outsider_gets_404_for_the_rollups_of_a_deployment(api_as, outsider, monitored, url):
    assert api_as(outsider).get(url(monitored)).status_code == 404


@pytest.mark.parametrize("url", [drift_url, health_url])
def test_anonymous_caller_is_refused(api, monitored, url):
    assert api.get(url(monitored)).status_code in (401, 403)
