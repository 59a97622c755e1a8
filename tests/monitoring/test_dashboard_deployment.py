"""The deployment dashboards: detail, service health, performance, drift against importance,
training vs production data. Figures are checked against the rollup rows built here (and, for
health, against the rollups' own daily selector); permissions against a user without them."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import re
from types import SimpleNamespace

import numpy as np
import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from monitoring.dashboards import deployment_shaping as shaping
from monitoring.models import (
    Alert,
    AlertRule,
    DeploymentStatus,
    DriftResult,
    HourlyHealth,
    MonitoringSettings,
    ReferenceChoice,
    ReferenceProfile,
)
from monitoring.rollups import selectors as rollup_selectors
from monitoring.rollups.profiles import PREDICTION_FEATURE
from registry import services as registry
from registry.models import Deployment, RegisteredModel
from tests import factories
from tests.monitoring import deployment_rollups as rollups

pytestmark = pytest.mark.django_db
PAGES = ("health", "performance", "drift", "data")


def today() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def page_url(name: str, pk: int) -> str:
    if name == "detail":
        return reverse("registry:deployment-detail", kwargs={"pk": pk})
    return reverse(f"monitoring:deployment-{name}", kwargs={"pk": pk})


def chart_json(response, element_id: str) -> dict:
    """The JSON a page hands to charts.js through json_script."""
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, f"no json_script {element_id}"
    return json.loads(match.group(1))


@pytest.fixture
def monitored(model_a):
    deployment, profile, reference = rollups.monitored_deployment(model=model_a, n_features=5)
    return SimpleNamespace(deployment=deployment, profile=profile, reference=reference)


@pytest.fixture
def as_owner(client, owner):
    client.force_login(owner)
    return client


# --- service health -------------------------------------------------------------------------------


def test_health_figures_equal_the_hourly_rollups(as_owner, monitored):
    deployment = monitored.deployment
    rollups.add_health(deployment, midnight(today() - dt.timedelta(days=2)), hours=60)
    response = as_owner.get(page_url("health", deployment.pk))
    assert response.status_code == 200
    totals = response.context["totals"]
    stored = HourlyHealth.objects.filter(deployment=deployment).aggregate(
        count=Sum("count"), errors=Sum("errors")
    )
    assert totals["requests"] == stored["count"]
    assert totals["predictions"] == stored["count"] - stored["errors"]
    assert totals["error_rate"] == pytest.approx(stored["errors"] / stored["count"])
    assert totals["requests_per_second"] == pytest.approx(stored["count"] / (14 * 86_400))

    expected = {
        row["day"]: row for row in rollup_selectors.health_daily(deployment=deployment, days=14)
    }
    shown = {d["day"]: d for d in response.context["days"] if d["requests"]}
    assert set(shown) == set(expected) and len(shown) == 3
    for day, row in expected.items():
        assert shown[day]["requests"] == row["count"]
        assert shown[day]["error_rate"] == pytest.approx(row["error_rate"])
        assert shown[day]["cache_hit_rate"] == pytest.approx(row["cache_hit_rate"])
        assert shown[day]["latency_p95_ms"] == pytest.approx(row["latency_p95_ms"])
        assert shown[day]["cpu_mean"] == pytest.approx(row["cpu_mean"])
        assert f'data-error-rate="{shown[day]["error_rate"]}"' in response.content.decode()

    chart = chart_json(response, "data-requests")
    assert len(chart["labels"]) == 14
    by_label = dict(zip(chart["labels"], chart["datasets"][1]["data"], strict=True))
    for day in expected:
        errors = HourlyHealth.objects.filter(
            deployment=deployment,
            hour__gte=midnight(day),
            hour__lt=midnight(day) + dt.timedelta(days=1),
        ).aggregate(e=Sum("errors"))["e"]
        assert by_label[day.isoformat()] == errors


def test_health_date_range_limits_the_days(as_owner, monitored):
    deployment = monitored.deployment
    rollups.add_health(deployment, midnight(today() - dt.timedelta(days=3)), hours=72)
    day = today() - dt.timedelta(days=2)
    response = as_owner.get(page_url("health", deployment.pk), {"start": day, "end": day})
    assert not response.context["form"].errors
    assert [d["day"] for d in response.context["days"]] == [day]
    one_day = HourlyHealth.objects.filter(
        deployment=deployment,
        hour__gte=midnight(day),
        hour__lt=midnight(day) + dt.timedelta(days=1),
    ).aggregate(n=Sum("count"))["n"]
    assert response.context["totals"]["requests"] == one_day


@pytest.mark.parametrize(
    "params, field",
    [
        ({"start": "2026-02-30"}, "start"),
        ({"end": "not a date"}, "end"),
        ({"start": "2026-05-10", "end": "2026-05-01"}, "__all__"),
        ({"start": "2024-01-01", "end": "2026-01-01"}, "__all__"),
    ],
)
def test_bad_date_ranges_are_form_errors_with_the_default_range(as_owner, monitored, params, field):
    for name in ("health", "performance", "data"):
        response = as_owner.get(page_url(name, monitored.deployment.pk), params)
        assert response.status_code == 200
        assert field in response.context["form"].errors
        assert response.context["last"] == today()
        assert response.context["first"] == today() - dt.timedelta(days=13)


def test_health_without_traffic_says_how_to_send_predictions(as_owner, monitored):
    response = as_owner.get(page_url("health", monitored.deployment.pk))
    body = response.content.decode()
    assert "No predictions recorded" in body
    assert f"/api/v1/deployments/{monitored.deployment.pk}/predictions/" in body
    assert "docs/monitoring.md" in body


# --- performance ----------------------------------------------------------------------------------


def test_performance_draws_the_alert_rule_and_training_value(as_owner, owner, monitored, model_a):
    deployment = monitored.deployment
    days = [today() - dt.timedelta(days=i) for i in range(6, -1, -1)]
    rollups.add_performance(deployment, days)
    AlertRule.objects.create(
        model=model_a, source="metric", name="roc_auc", comparator="lt", threshold=0.8
    )
    AlertRule.objects.create(
        model=model_a, source="metric", name="ks", comparator="lt", threshold=0.45
    )
    response = as_owner.get(page_url("performance", deployment.pk), {"metric": "roc_auc"})
    chart = chart_json(response, "data-performance")
    lines = {line["label"]: line["value"] for line in chart["lines"]}
    assert lines["Alert threshold"] == 0.8
    assert lines["At training"] == deployment.version.training_metrics["roc_auc"]
    stored = {row.day.isoformat(): row.metrics["roc_auc"] for row in deployment_rows(deployment)}
    shown = dict(zip(chart["labels"], chart["datasets"][0]["data"], strict=True))
    assert {k: v for k, v in shown.items() if v is not None} == stored
    assert len(chart["labels"]) == 14


def deployment_rows(deployment):
    from monitoring.models import DailyPerformance

    return DailyPerformance.objects.filter(deployment=deployment)


def test_a_deployment_rule_wins_over_the_model_rule(as_owner, monitored, model_a):
    deployment = monitored.deployment
    rollups.add_performance(deployment, [today()])
    AlertRule.objects.create(
        model=model_a, source="metric", name="roc_auc", comparator="lt", threshold=0.8
    )
    AlertRule.objects.create(
        deployment=deployment, source="metric", name="roc_auc", comparator="lt", threshold=0.7
    )
    response = as_owner.get(page_url("performance", deployment.pk), {"metric": "roc_auc"})
    assert response.context["view"]["threshold"]["value"] == 0.7


def test_headline_metric_falls_back_to_the_status_threshold(as_owner, monitored):
    deployment = monitored.deployment
    rollups.add_performance(deployment, [today()])
    MonitoringSettings.objects.create(deployment=deployment, thresholds={"accuracy_at_risk": 0.81})
    response = as_owner.get(page_url("performance", deployment.pk))
    assert response.context["metric"] == "accuracy"
    lines = {
        line["label"]: line["value"] for line in chart_json(response, "data-performance")["lines"]
    }
    assert lines == {"At-risk threshold": 0.81, "At training": 0.9}
    # Another metric with neither a rule nor a training value gets no line at all.
    response = as_owner.get(page_url("performance", deployment.pk), {"metric": "precision"})
    assert chart_json(response, "data-performance")["lines"] == []


def test_performance_without_ground_truth_says_what_to_send(as_owner, monitored):
    body = as_owner.get(page_url("performance", monitored.deployment.pk)).content.decode()
    assert "No ground truth yet" in body
    assert f"/api/v1/deployments/{monitored.deployment.pk}/ground-truth/" in body


# --- drift ----------------------------------------------------------------------------------------


@pytest.fixture
def drifted(monitored):
    deployment = monitored.deployment
    end = midnight(today())
    start = end - dt.timedelta(days=7)
    current = rollups.frame_for(deployment.version.input_schema, 300, seed=9, shift=4.0)
    rollups.add_summaries(deployment, monitored.profile, current, start + dt.timedelta(hours=5))
    older = rollups.drift_row(
        deployment,
        start - dt.timedelta(days=1),
        end - dt.timedelta(days=1),
        "num_0",
        method="wasserstein",
        statistic=0.01,
        p_value=None,
        threshold=0.1,
    )
    rows = [
        rollups.drift_row(
            deployment,
            start,
            end,
            "num_0",
            method="wasserstein",
            statistic=0.35,
            p_value=None,
            threshold=0.1,
        ),
        rollups.drift_row(
            deployment,
            start,
            end,
            "num_1",
            method="ks",
            statistic=0.05,
            p_value=0.4,
            threshold=0.05,
        ),
        rollups.drift_row(
            deployment,
            start,
            end,
            "cat_2",
            method="chisquare",
            statistic=30.0,
            p_value=1e-6,
            threshold=0.05,
        ),
        rollups.drift_row(
            deployment,
            start,
            end,
            "num_3",
            method="jensenshannon",
            statistic=0.02,
            p_value=None,
            threshold=0.1,
        ),
        rollups.drift_row(
            deployment,
            start,
            end,
            "num_4",
            method="psi",
            statistic=0.05,
            p_value=None,
            threshold=0.1,
        ),
        rollups.drift_row(
            deployment,
            start,
            end,
            "__prediction__",
            method="chisquare",
            statistic=2.0,
            p_value=0.3,
            threshold=0.05,
            kind="prediction",
        ),
        rollups.drift_row(
            deployment,
            start,
            end,
            "domain_classifier",
            method="domain_classifier",
            statistic=0.5,
            p_value=None,
            threshold=0.55,
            kind="multivariate",
        ),
    ]
    DriftResult.objects.bulk_create([older, *rows])
    return SimpleNamespace(**vars(monitored), current=current, start=start, end=end)


def test_drift_table_rows_equal_the_latest_results(as_owner, drifted):
    deployment = drifted.deployment
    response = as_owner.get(page_url("drift", deployment.pk))
    view = response.context["view"]
    stored = {
        r.feature: r
        for r in DriftResult.objects.filter(deployment=deployment, window_end=drifted.end)
    }
    shown = {row["feature"]: row for row in view["features"]}
    assert set(shown) == {"num_0", "num_1", "cat_2", "num_3", "num_4"}
    for name, row in shown.items():
        result = stored[name]
        assert (
            row["method"],
            row["statistic"],
            row["p_value"],
            row["threshold"],
            row["drifted"],
        ) == (result.method, result.statistic, result.p_value, result.threshold, result.drifted)
        assert row["type"] == {"cat_2": "categorical"}.get(name, "numeric")
        assert row["importance"] == deployment.version.feature_importance[name]
    assert {row["feature"] for row in view["others"]} == {"__prediction__", "domain_classifier"}
    assert view["window"] == (drifted.start, drifted.end)
    assert [r["feature"] for r in response.context["over"]] == ["num_0", "cat_2"]

    body = response.content.decode()
    drifted_rows = re.findall(r'<tr class="is-drifted" data-feature="([^"]+)"', body)
    assert sorted(drifted_rows) == ["cat_2", "num_0"]


def test_drift_scores_put_every_method_on_one_threshold(as_owner, drifted):
    response = as_owner.get(page_url("drift", drifted.deployment.pk))
    chart = chart_json(response, "drift-data")
    assert chart["threshold"] == 1.0
    assert chart["labels"] == ["num_0", "num_1", "cat_2", "num_3", "num_4"]  # by importance
    scores = dict(zip(chart["labels"], chart["scores"], strict=True))
    assert scores["num_0"] == pytest.approx(3.5)
    assert scores["num_1"] == pytest.approx(math.log(0.4) / math.log(0.05))
    assert scores["cat_2"] == pytest.approx(math.log(1e-6) / math.log(0.05))
    assert scores["num_3"] == pytest.approx(0.2)
    # Over the line exactly when the stored verdict says drifted.
    assert [s > 1 for s in chart["scores"]] == chart["drifted"]


def test_drift_tooltips_compare_reference_and_production(as_owner, drifted):
    chart = chart_json(as_owner.get(page_url("drift", drifted.deployment.pk)), "drift-data")
    details = dict(zip(chart["labels"], chart["details"], strict=True))
    reference_mean = drifted.reference["num_0"].mean()
    current_mean = drifted.current["num_0"].mean()
    assert details["num_0"]["reference"].startswith(f"mean {reference_mean:.4g}")
    assert details["num_0"]["current"].startswith(f"mean {current_mean:.4g}")
    top = drifted.current["cat_2"].value_counts(normalize=True)
    assert details["cat_2"]["current"].startswith(f"{top.index[0]} {top.iloc[0]:.0%}")
    assert details["num_1"] | {"reference": "", "current": ""} == {
        "method": "ks",
        "statistic": 0.05,
        "p_value": 0.4,
        "threshold": 0.05,
        "verdict": "no drift",
        "reference": "",
        "current": "",
    }


def test_drift_table_sorts_by_a_column(as_owner, drifted):
    url = page_url("drift", drifted.deployment.pk)
    response = as_owner.get(url, {"sort": "statistic", "dir": "desc"})
    order = [row["feature"] for row in response.context["table"]]
    assert order == ["cat_2", "num_0", "num_1", "num_4", "num_3"]
    response = as_owner.get(url, {"sort": "feature", "dir": "asc"})
    assert [row["feature"] for row in response.context["table"]] == sorted(order)
    assert (
        'aria-sort="ascending"><a href="?sort=feature&amp;dir=desc">' in response.content.decode()
    )


def test_drift_not_computed_says_when_it_will_be(as_owner, monitored):
    body = as_owner.get(page_url("drift", monitored.deployment.pk)).content.decode()
    assert "Drift not computed yet" in body
    assert "every hour" in body


# --- training vs production ---------------------------------------------------------------------


def reference_values(edges, values):
    """Shares of raw values in: below edges[0], [e_i, e_i+1) (the last bin closed), above."""
    values = np.asarray(values, dtype=float)
    counts = [np.count_nonzero(values < edges[0])]
    for i, (lo, hi) in enumerate(itertools.pairwise(edges)):
        last = i == len(edges) - 2
        counts.append(
            np.count_nonzero((values >= lo) & ((values <= hi) if last else (values < hi)))
        )
    counts.append(np.count_nonzero(values > edges[-1]))
    return list(np.asarray(counts) / values.size)


def test_numeric_shares_match_the_raw_values(as_owner, drifted):
    url = page_url("data", drifted.deployment.pk)
    response = as_owner.get(
        url, {"feature": "num_1", "start": drifted.start.date(), "end": today()}
    )
    dist = response.context["view"]["distribution"]
    assert dist["kind"] == "numeric" and not dist["discrete"]
    assert sum(dist["reference"]) == pytest.approx(1.0)
    assert sum(dist["current"]) == pytest.approx(1.0)
    assert len(dist["labels"]) <= shaping.HISTOGRAM_BINS + 2
    assert dist["reference"] == pytest.approx(
        reference_values(dist["edges"], drifted.reference["num_1"])
    )
    assert dist["current"] == pytest.approx(
        reference_values(dist["edges"], drifted.current["num_1"])
    )
    chart = chart_json(response, "feature-chart-data")
    assert chart["datasets"][0]["data"] == dist["reference"]
    assert chart["datasets"][1]["data"] == dist["current"]


def test_categorical_shares_match_the_raw_values(as_owner, drifted):
    url = page_url("data", drifted.deployment.pk)
    response = as_owner.get(
        url, {"feature": "cat_2", "start": drifted.start.date(), "end": today()}
    )
    dist = response.context["view"]["distribution"]
    assert dist["kind"] == "categorical"
    for side, frame in (("reference", drifted.reference), ("current", drifted.current)):
        shares = frame["cat_2"].value_counts(normalize=True)
        shown = dict(zip(dist["labels"], dist[side], strict=True))
        assert {k: v for k, v in shown.items() if v} == pytest.approx(shares.to_dict())


def test_data_page_outside_the_range_and_without_prediction_tracking(as_owner, drifted):
    url = page_url("data", drifted.deployment.pk)
    before = drifted.start.date() - dt.timedelta(days=3)
    response = as_owner.get(url, {"feature": "num_0", "start": before, "end": before})
    assert response.context["view"]["distribution"]["counts"]["current"] == 0
    body = response.content.decode()
    assert "No production values of <code>num_0</code>" in body
    assert "The prediction distribution is not tracked" in body


def test_prediction_distribution_beside_the_reference_target(as_owner, model_a):
    deployment, _, reference = rollups.monitored_deployment(
        model=model_a, n_features=3, target=True
    )
    profile = ReferenceProfile.objects.get(version=deployment.version)
    assert PREDICTION_FEATURE in profile.summaries
    current = rollups.with_outcome(
        rollups.frame_for(deployment.version.input_schema, 200, seed=8), seed=6, positive_share=0.6
    ).rename(columns={"outcome": PREDICTION_FEATURE})
    rollups.add_summaries(deployment, profile, current, midnight(today()))
    response = as_owner.get(page_url("data", deployment.pk))
    view = response.context["view"]
    assert PREDICTION_FEATURE not in view["options"]
    dist = view["prediction"]
    for side, values in (
        ("reference", reference["outcome"]),
        ("current", current[PREDICTION_FEATURE]),
    ):
        shown = {k: v for k, v in zip(dist["labels"], dist[side], strict=True) if v}
        assert shown == pytest.approx(values.value_counts(normalize=True).to_dict())
    chart = chart_json(response, "prediction-chart-data")
    assert chart["datasets"][1]["data"] == dist["current"]


def test_data_page_without_reference_data_says_what_to_upload(as_owner, model_a):
    deployment = factories.deployment(version=factories.model_version(model=model_a))
    body = as_owner.get(page_url("data", deployment.pk)).content.decode()
    assert "No reference data yet" in body


# --- detail page ----------------------------------------------------------------------------------


def test_detail_shows_status_target_links_and_alerts(as_owner, monitored):
    deployment = monitored.deployment
    DeploymentStatus.objects.create(
        deployment=deployment,
        accuracy_level="at_risk",
        accuracy_reason="accuracy 0.8 below 0.85",
        drift_level="good",
        drift_reason="no feature drifted",
        service_health_level="failing",
        service_health_reason="error rate 0.09 above 0.05",
        computed_at=timezone.now(),
    )
    rule = AlertRule.objects.create(
        deployment=deployment, source="metric", name="accuracy", comparator="lt", threshold=0.9
    )
    Alert.objects.create(
        rule=rule,
        deployment=deployment,
        value=0.8,
        message="accuracy fell to 0.8",
        dedup_key=f"{rule.pk}:{deployment.pk}",
        opened_at=timezone.now(),
    )
    response = as_owner.get(page_url("detail", deployment.pk))
    body = response.content.decode()
    levels = {s["axis"]: (s["level"], s["reason"]) for s in response.context["status_levels"]}
    assert levels == {
        "accuracy": ("at_risk", "accuracy 0.8 below 0.85"),
        "drift": ("good", "no feature drifted"),
        "service_health": ("failing", "error rate 0.09 above 0.05"),
        "data_quality": ("unknown", ""),  # a row stored before the axis existed
    }
    assert "error rate 0.09 above 0.05" in body
    assert "Target column</dt><dd>not declared" in body
    assert f"?version={deployment.version_id}" in body
    assert f"target_type=registry.deployment&amp;target_id={deployment.pk}" in body
    assert "accuracy fell to 0.8" in body
    assert response.context["reference_dataset"].name == "train-5"
    for name in PAGES:
        assert f'href="{page_url(name, deployment.pk)}"' in body
    assert deployment.deployed_by.get_username() in body


def test_detail_shows_the_declared_target_column(as_owner, monitored, model_a):
    RegisteredModel.objects.filter(pk=model_a.pk).update(target_column="defaulted")
    body = as_owner.get(page_url("detail", monitored.deployment.pk)).content.decode()
    assert "<code>defaulted</code>" in body
    assert "unknown" in body.lower()  # no status yet: every axis unknown


# --- permissions ----------------------------------------------------------------------------------


def test_outsider_gets_404_on_every_page_and_its_chart_data(client, outsider, drifted):
    deployment = drifted.deployment
    rollups.add_health(deployment, midnight(today() - dt.timedelta(days=1)), hours=10)
    rollups.add_performance(deployment, [today()])
    client.force_login(outsider)
    for name in ("detail", *PAGES):
        response = client.get(page_url(name, deployment.pk), {"feature": "num_1"})
        assert response.status_code == 404, name
        body = response.content.decode()
        assert "num_1" not in body and "Credit risk" not in body
        assert 'type="application/json"' not in body
    switch = client.get(
        reverse("monitoring:deployment-switch"), {"deployment": deployment.pk, "tab": "drift"}
    )
    assert client.get(switch["Location"]).status_code == 404


def test_selector_lists_only_visible_deployments(client, owner, reviewer, monitored, model_b):
    theirs = factories.deployment(version=factories.model_version(model=model_b))
    client.force_login(owner)
    response = client.get(page_url("health", monitored.deployment.pk))
    listed = {pk for pk, _ in response.context["deployment_options"]}
    visible = set(Deployment.objects.restrict(owner, "view").values_list("pk", flat=True))
    assert listed == visible and monitored.deployment.pk in listed and theirs.pk not in listed
    assert f'<option value="{theirs.pk}"' not in response.content.decode()
    client.force_login(reviewer)
    response = client.get(page_url("health", monitored.deployment.pk))
    assert theirs.pk in {pk for pk, _ in response.context["deployment_options"]}


def test_selector_switches_to_the_same_tab_of_another_deployment(as_owner, monitored, model_a):
    other = factories.deployment(
        version=monitored.deployment.version, endpoint="https://x.example.org/p"
    )
    response = as_owner.get(
        reverse("monitoring:deployment-switch"),
        {"deployment": other.pk, "tab": "performance", "start": "2026-01-01", "end": "2026-01-05"},
    )
    assert response.status_code == 302
    assert (
        response["Location"]
        == page_url("performance", other.pk) + "?start=2026-01-01&end=2026-01-05"
    )
    assert (
        as_owner.get(reverse("monitoring:deployment-switch"), {"deployment": "x"}).status_code
        == 404
    )


# --- fixed query counts -------------------------------------------------------------------------


def count_queries(client, url: str, params: dict) -> int:
    client.get(url, params)  # warm: the session and content types are read once
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured.captured_queries)


def monitored_world(model, n_features: int, days: int):
    deployment, profile, _reference = rollups.monitored_deployment(
        model=model, n_features=n_features
    )
    start_day = today() - dt.timedelta(days=days - 1)
    rollups.add_health(deployment, midnight(start_day), hours=days * 24)
    rollups.add_performance(deployment, [start_day + dt.timedelta(days=i) for i in range(days)])
    end = midnight(today())
    start = end - dt.timedelta(days=1)
    current = rollups.frame_for(deployment.version.input_schema, 50, seed=2, shift=1.0)
    for h in range(3):
        rollups.add_summaries(deployment, profile, current, start + h * rollups.HOUR)
    DriftResult.objects.bulk_create(
        rollups.drift_row(
            deployment,
            start,
            end,
            f["name"],
            method="psi",
            statistic=0.01 * i,
            p_value=None,
            threshold=0.1,
        )
        for i, f in enumerate(deployment.version.input_schema)
    )
    return deployment, {
        "start": start_day,
        "end": today(),
        "feature": deployment.version.input_schema[0]["name"],
    }


def add_other_deployments(model, count: int) -> None:
    version = model.versions.order_by("number").first()
    Deployment.objects.bulk_create(
        Deployment(
            version=version,
            environment="staging",
            endpoint=f"https://other.example.org/{Deployment.objects.count()}-{i}",
            deployed_by=model.owner,
            description="another deployment",
        )
        for i in range(count)
    )


# Of which 7 are the session, the user, its permissions (2) and the navigation counts (3); the
# detail page's lineage reads 2 for the training dataset the version was trained on, and 1 the
# user's deploy and change rights (which write buttons it shows); the drift and data pages'
# reference panel 5 (choice, lineage, profile, change right, the datasets).
# performance: its realised figures, and the label-free estimate beside them (one query more).
PINNED_QUERIES = {"detail": 21, "health": 11, "performance": 13, "drift": 18, "data": 16}


def test_pages_issue_a_fixed_number_of_queries(client, owner, model_a):
    small, small_params = monitored_world(model_a, n_features=5, days=7)
    other_model = factories.registered_model(owner=owner, name="Second model")
    large, large_params = monitored_world(other_model, n_features=50, days=90)
    add_other_deployments(model_a, 10)
    client.force_login(owner)
    counts_small = {
        name: count_queries(client, page_url(name, small.pk), small_params)
        for name in ("detail", *PAGES)
    }
    add_other_deployments(model_a, 190)
    counts_large = {
        name: count_queries(client, page_url(name, large.pk), large_params)
        for name in ("detail", *PAGES)
    }
    assert counts_small == counts_large
    assert counts_small == PINNED_QUERIES


# --- pure shaping ---------------------------------------------------------------------------------


def test_a_discrete_reference_gets_one_bar_per_value():
    from monitoring import engines

    reference = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2, 3])
    current = np.array([1, 1, 2, 3, 3, 3, 5, -1])
    layout = engines.NumericLayout.from_reference(reference)
    shares = shaping.numeric_shares(
        engines.summarize(reference, layout).to_dict(), engines.summarize(current, layout).to_dict()
    )
    assert shares["discrete"]
    assert shares["labels"] == ["below reference", "0", "1", "2", "3", "above reference"]
    assert shares["reference"] == pytest.approx([0, 0.2, 0.3, 0.4, 0.1, 0])
    assert shares["current"] == pytest.approx([1 / 8, 0, 2 / 8, 1 / 8, 3 / 8, 1 / 8])


@pytest.mark.parametrize(
    "statistic, p_value, threshold, score",
    [
        (0.2, None, 0.1, 2.0),
        (0.05, None, 0.1, 0.5),
        (3.0, 0.05, 0.05, 1.0),
        (3.0, 1.0, 0.05, 0.0),
        (50.0, 0.0, 0.05, shaping.DRIFT_SCORE_CAP),
        (None, None, 0.1, shaping.DRIFT_SCORE_CAP),
        (5.0, None, 0.1, shaping.DRIFT_SCORE_CAP),
    ],
)
def test_drift_score_is_one_at_the_threshold_and_capped(statistic, p_value, threshold, score):
    assert shaping.drift_score(statistic, p_value, threshold) == pytest.approx(score)


def test_the_data_and_drift_tabs_name_the_reference_and_owners_may_choose_another(
    client, owner, reviewer, model_a
):
    deployment, _params = monitored_world(model_a, n_features=3, days=2)
    profile = ReferenceProfile.objects.get(version=deployment.version)
    other = registry.dataset_upload(
        model=model_a,
        actor=owner,
        upload=factories.csv_upload("f0,f1,f2\n1,2,3\n4,5,6\n"),
        name="holdout",
        kind="reference",
    )
    client.force_login(reviewer)
    for name in ("drift", "data"):
        page = client.get(page_url(name, deployment.pk)).content.decode()
        assert profile.dataset.name in page and profile.dataset_sha256 in page
        assert "Use another dataset" not in page  # reviewers cannot choose
    target = reverse("monitoring:deployment-reference", args=[deployment.pk])
    client.post(target, {"dataset": other.pk})
    assert not ReferenceChoice.objects.exists()
    client.force_login(owner)
    assert "Use another dataset" in client.get(page_url("data", deployment.pk)).content.decode()
    response = client.post(target, {"dataset": other.pk})
    assert response.status_code == 302
    assert ReferenceChoice.objects.get(version=deployment.version).dataset == other
    page = client.get(page_url("data", deployment.pk)).content.decode()
    assert other.sha256 in page and "chosen by an owner" in page
