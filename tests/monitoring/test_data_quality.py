"""Data quality in production: mergeable hourly counts, the job step, the API, the status axis,
alert rules and the dashboard tab; window figures checked against plain pandas on the events."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from django.urls import reverse

from monitoring.alerts.services import alerts_evaluate
from monitoring.engines.quality_counts import (
    FeatureReference,
    QualityCounts,
    count_quality,
    merge_all_counts,
)
from monitoring.models import Alert, AlertRule, DeploymentStatus, HourlyQuality, PredictionEvent
from monitoring.performance.services import deployment_status_compute
from monitoring.rollups import jobs
from monitoring.rollups.quality import data_quality_compute, quality_hours_update
from tests import factories
from tests.monitoring.test_rollups import HOUR, dataset, deployment, recent_start, reference_frame

pytestmark = pytest.mark.django_db
__all__ = ["dataset", "deployment"]  # fixtures shared with test_rollups


def messy_events(deployment, start: dt.datetime, hours: int, per_hour: int) -> pd.DataFrame:
    """Events whose age is missing in every 7th row, whose income is far outside the
    reference in every 11th, and whose region is an unseen "west" in every 13th; returns the
    features as sent (None for missing)."""
    frame = reference_frame(hours * per_hour, seed=9).astype(object)
    index = np.arange(len(frame))
    frame.loc[index % 7 == 0, "age"] = None
    frame.loc[index % 11 == 0, "income"] = 1e7
    frame.loc[index % 13 == 0, "region"] = "west"
    frame.loc[index % 17 == 0, "region"] = None
    offsets = np.repeat(np.arange(hours), per_hour) * 3600 + np.tile(
        np.linspace(0, 3590, per_hour).astype(int), hours
    )
    PredictionEvent.objects.bulk_create(
        PredictionEvent(
            deployment=deployment,
            request_id=f"q-{start:%d%H}-{i}",
            timestamp=start + dt.timedelta(seconds=int(offsets[i])),
            features={"age": row.age, "income": row.income, "region": row.region},
            status="ok",
        )
        for i, row in enumerate(frame.itertuples())
    )
    return frame


def pandas_figures(events: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The expected window figures, computed directly on the raw events with pandas."""
    reference = reference_frame()
    age = pd.to_numeric(events["age"])
    income = pd.to_numeric(events["income"])
    region = events["region"]
    outside = (income < reference["income"].min()) | (income > reference["income"].max())
    seen = set(reference["region"])
    unseen = region.notna() & ~region.isin(seen)
    return {
        "age": {"missing": int(age.isna().sum()), "missing_share": float(age.isna().mean())},
        "income": {
            "out_of_range": int(outside.sum()),
            "out_of_range_share": float(outside.sum() / income.notna().sum()),
        },
        "region": {
            "missing": int(region.isna().sum()),
            "unseen": int(unseen.sum()),
            "unseen_share": float(unseen.sum() / region.notna().sum()),
        },
    }


def quality_url(deployment, query: str = "") -> str:
    return f"/api/v1/deployments/{deployment.pk}/quality/{query}"


def tab_url(pk: int) -> str:
    return reverse("monitoring:deployment-quality", kwargs={"pk": pk})


def iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def checked(deployment):
    start = recent_start(6)
    events = messy_events(deployment, start, hours=4, per_hour=150)
    data_quality_compute(deployment=deployment, start=start, end=start + 6 * HOUR)
    return deployment, start, events


# --- the engine ------------------------------------------------------------------------------


def test_hourly_counts_add_up_to_the_counts_of_all_rows_at_once():
    rng = np.random.default_rng(3)
    values = rng.normal(0, 1, 1000).astype(object)
    values[rng.random(1000) < 0.1] = None
    reference = FeatureReference("numeric", minimum=-1.5, maximum=1.5)
    parts = [count_quality(values[i : i + 100], reference) for i in range(0, 1000, 100)]
    merged = merge_all_counts(parts)
    whole = count_quality(values, reference)
    series = pd.to_numeric(pd.Series(values))
    assert merged == whole
    assert whole.missing == int(series.isna().sum())
    assert whole.out_of_range == int(((series < -1.5) | (series > 1.5)).sum())
    assert whole.values == int(series.notna().sum())
    assert QualityCounts.from_dict(whole.to_dict()) == whole


def test_unseen_categories_are_counted_with_their_most_frequent_examples():
    values = ["a"] * 5 + ["x"] * 3 + ["y"] * 2 + [None] * 4 + ["z"]
    counts = count_quality(values, FeatureReference("categorical", categories=("a", "b")))
    assert (counts.rows, counts.missing, counts.values, counts.unseen) == (15, 4, 11, 6)
    assert counts.unseen_examples == {"x": 3, "y": 2, "z": 1}
    unknown = count_quality(values, FeatureReference("categorical"))
    assert unknown.unseen is None and unknown.unseen_examples == {}


# --- rollup and API --------------------------------------------------------------------------


def test_window_figures_from_stored_hours_equal_pandas_on_the_raw_events(api_as, owner, checked):
    deployment, start, events = checked
    assert HourlyQuality.objects.filter(deployment=deployment).count() == 4
    response = api_as(owner).get(
        quality_url(deployment, f"?start={iso(start)}&end={iso(start + 6 * HOUR)}")
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["events"] == len(events) and body["hours"] == 4 and len(body["hourly"]) == 4
    features = {row["feature"]: row for row in body["features"]}
    assert list(features) == ["age", "income", "region"]
    for name, expected in pandas_figures(events).items():
        for key, value in expected.items():
            assert features[name][key] == pytest.approx(value, rel=1e-12), (name, key)
    assert features["income"]["missing"] == 0 and features["age"]["out_of_range"] == 0
    assert features["region"]["unseen_examples"] == [
        {"value": "west", "count": pandas_figures(events)["region"]["unseen"]}
    ]
    assert features["region"]["out_of_range"] is None
    assert sum(hour["features"]["age"]["missing"] for hour in body["hourly"]) == int(
        events["age"].isna().sum()
    )


def test_the_default_window_covers_the_last_seven_days(api_as, owner, checked):
    deployment, _, events = checked
    body = api_as(owner).get(quality_url(deployment)).json()
    assert body["events"] == len(events)


def test_a_deployment_without_traffic_has_no_features(api_as, owner, deployment):
    body = api_as(owner).get(quality_url(deployment)).json()
    assert body["features"] == [] and body["hours"] == 0


def test_a_reversed_window_is_a_400_naming_start(api_as, owner, checked):
    deployment, start, _ = checked
    query = f"?start={iso(start + HOUR)}&end={iso(start)}"
    response = api_as(owner).get(quality_url(deployment, query))
    assert response.status_code == 400 and "start" in response.json()


def test_outsider_gets_404_for_the_quality_of_a_deployment(api_as, outsider, checked):
    assert api_as(outsider).get(quality_url(checked[0])).status_code == 404


def test_anonymous_caller_is_refused_the_quality(api, checked):
    assert api.get(quality_url(checked[0])).status_code in (401, 403)


def test_repeating_the_step_builds_nothing_and_a_late_event_rebuilds_its_hour(checked):
    deployment, start, _ = checked
    end = start + 6 * HOUR
    assert quality_hours_update(deployment=deployment, start=start, end=end) == 0
    PredictionEvent.objects.create(
        deployment=deployment,
        request_id="late",
        timestamp=start + 30 * dt.timedelta(minutes=1),
        features={"age": None, "income": 1.0, "region": "north"},
    )
    assert quality_hours_update(deployment=deployment, start=start, end=end) == 1
    first = HourlyQuality.objects.get(deployment=deployment, hour=start)
    assert first.count == 151 and first.features["age"]["missing"] == 22 + 1


def test_a_version_without_reference_data_checks_missing_values_and_declared_categories(model_b):
    deployment = factories.deployment(version=factories.model_version(model=model_b))
    start = recent_start(3)
    messy_events(deployment, start, hours=1, per_hour=50)
    data_quality_compute(deployment=deployment, start=start, end=start + 3 * HOUR)
    row = HourlyQuality.objects.get(deployment=deployment)
    assert row.features["age"]["missing"] == 8
    assert row.features["income"]["out_of_range"] is None  # no range without reference data
    assert row.features["region"]["unseen"] == 3  # "west" is not a declared category


# --- status, alerts, job ---------------------------------------------------------------------


def test_status_weighs_in_data_quality_with_the_feature_named(checked):
    deployment, _, _ = checked
    row = deployment_status_compute(deployment=deployment)
    # A seventh of the ages is missing (0.14): at risk from 0.05, failing from 0.2.
    assert row.data_quality_level == "at_risk"
    assert "missing share of age" in row.data_quality_reason


def test_status_api_reports_the_data_quality_axis(api_as, owner, checked):
    deployment, _, _ = checked
    deployment_status_compute(deployment=deployment)
    body = api_as(owner).get(f"/api/v1/deployments/{deployment.pk}/status/").json()
    assert body["data_quality"]["level"] == "at_risk"


def test_a_quality_alert_rule_fires_on_one_feature_missing_share(api_as, owner, checked):
    deployment, _, events = checked
    response = api_as(owner).post(
        "/api/v1/alert-rules/",
        {
            "deployment": deployment.pk,
            "source": "quality",
            "name": "missing_share:age",
            "comparator": "gt",
            "threshold": 0.1,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert alerts_evaluate(deployment=deployment)["opened"] == 1
    alert = Alert.objects.get(rule_id=response.json()["id"])
    assert alert.value == pytest.approx(float(pd.isna(events["age"]).mean()))
    assert "feature age" in alert.message


def test_a_quality_rule_with_an_unknown_figure_is_a_400_naming_name(api_as, owner, checked):
    deployment, _, _ = checked
    response = api_as(owner).post(
        "/api/v1/alert-rules/",
        {
            "deployment": deployment.pk,
            "source": "quality",
            "name": "nulls",
            "comparator": "gt",
            "threshold": 0.1,
        },
        format="json",
    )
    assert response.status_code == 400 and "name" in response.json()
    assert not AlertRule.objects.exists()


def test_the_monitoring_job_stores_quality_hours_and_the_status_axis(deployment):
    start = recent_start(4)
    messy_events(deployment, start, hours=2, per_hour=30)
    result = jobs.deployment_monitor(deployment=deployment, start=start, end=start + 4 * HOUR)
    assert result["quality_hours"] == 2
    assert result["status"]["data_quality"] in ("at_risk", "failing")
    assert HourlyQuality.objects.filter(deployment=deployment).count() == 2
    assert DeploymentStatus.objects.get(deployment=deployment).data_quality_reason


# --- the dashboard tab -----------------------------------------------------------------------


def test_owner_sees_the_feature_with_missing_values_on_the_data_quality_tab(client, owner, checked):
    deployment, _, events = checked
    client.force_login(owner)
    response = client.get(tab_url(deployment.pk))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-feature="age"' in page and "Features with problems" in page
    assert f"{int(events['age'].isna().sum())} <span" in page


def test_the_data_quality_tab_without_traffic_says_so(client, owner, deployment):
    client.force_login(owner)
    page = client.get(tab_url(deployment.pk)).content.decode()
    assert "No traffic yet" in page


def test_outsider_gets_404_for_the_data_quality_tab(client, outsider, checked):
    client.force_login(outsider)
    response = client.get(tab_url(checked[0].pk))
    assert response.status_code == 404
