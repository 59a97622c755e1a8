"""Read API of the rollups: drift per window and daily health, behind restrict(user, "view");
and the drift method overrides of the monitoring settings."""

from __future__ import annotations

import datetime as dt

import pytest

from governance.models import AuditEvent
from monitoring.models import MonitoringSettings
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
    assert {name for name, row in by_feature.items() if row["kind"] == "feature"} == {
        "age",
        "income",
        "region",
    }
    assert {row["kind"] for row in by_feature.values()} == {"feature", "multivariate"}
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


# --- drift method overrides in the monitoring settings ----------------------------------------


def settings_url(deployment) -> str:
    return f"/api/v1/deployments/{deployment.pk}/monitoring-settings/"


def test_owner_sets_drift_methods_and_the_change_is_audited(api_as, owner, deployment):
    methods = {
        "income": "psi",
        "numerical": {"method": "ks", "threshold": 0.01},
        "region": {"method": "chisquare", "mode": "homogeneity"},
    }
    answer = api_as(owner).patch(settings_url(deployment), {"drift_methods": methods}, "json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["drift_methods"] == methods
    assert api_as(owner).get(settings_url(deployment)).json()["drift_methods"] == methods
    event = AuditEvent.objects.get(action="monitoring.settings.updated")
    assert (event.before["drift_methods"], event.after["drift_methods"]) == ({}, methods)
    cleared = api_as(owner).patch(settings_url(deployment), {"drift_methods": {}}, "json")
    assert cleared.json()["drift_methods"] == {}


@pytest.mark.parametrize(
    ("methods", "key", "says"),
    [
        ({"salary": "ks"}, "salary", "not a feature"),
        ({"region": "ks"}, "region", "does not apply to categorical"),
        ({"categorical": "wasserstein"}, "categorical", "does not apply"),
        ({"age": "magic"}, "age", "unknown method"),
        ({"age": {"method": "ks", "threshold": "low"}}, "age", "threshold must be a number"),
        ({"income": {"method": "ks", "bins": 3}}, "income", "takes no option"),
        ({"income": 3}, "income", "a method name"),
    ],
)
def test_unusable_drift_methods_are_refused_naming_the_key(
    api_as, owner, deployment, methods, key, says
):
    answer = api_as(owner).patch(settings_url(deployment), {"drift_methods": methods}, "json")
    assert answer.status_code == 400
    assert says in answer.json()["drift_methods"][key][0]
    stored = MonitoringSettings.objects.filter(deployment=deployment).first()
    assert stored is None or stored.drift_methods == {}


def test_drift_methods_need_change_rights(api_as, reviewer, outsider, deployment):
    body = {"drift_methods": {"income": "psi"}}
    assert api_as(reviewer).patch(settings_url(deployment), body, "json").status_code == 403
    assert api_as(outsider).patch(settings_url(deployment), body, "json").status_code == 404


def test_a_feature_override_set_through_the_api_is_used_by_the_drift_job(api_as, owner, deployment):
    body = {"drift_methods": {"income": {"method": "psi", "threshold": 0.2}}}
    assert api_as(owner).patch(settings_url(deployment), body, "json").status_code == 200
    start = recent_start(6)
    add_events(deployment, start, hours=2, per_hour=200)
    hourly.summaries_build(deployment, start, start + 6 * HOUR)
    drift_compute(deployment, start, start + 6 * HOUR)
    rows = {row["feature"]: row for row in api_as(owner).get(drift_url(deployment)).json()}
    assert (rows["income"]["method"], rows["income"]["threshold"]) == ("psi", 0.2)
    assert rows["age"]["method"] != "psi"
