"""The portfolio pages (issue #5 items 1, 2, 8, 10): the status overview, the deployment
inventory, the alert list with acknowledge / resolve, and the job progress endpoint."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from governance.audit.models import AuditEvent
from monitoring.dashboards import portfolio_selectors as selectors
from monitoring.models import (
    Alert,
    AlertRule,
    DeploymentActivity,
    DeploymentStatus,
    JobRun,
)
from registry.models import Deployment, ModelVersion, RegisteredModel
from tests import factories

NOW = timezone.now()
PORTFOLIO = reverse("monitoring:portfolio")
INVENTORY = reverse("monitoring:inventory")
ALERTS = reverse("monitoring:alert-list")
PROGRESS = reverse("monitoring:job-progress")


# --- helpers -------------------------------------------------------------------------------------


def set_status(
    deployment: Deployment,
    accuracy: str = "good",
    drift: str = "good",
    health: str = "good",
) -> DeploymentStatus:
    return DeploymentStatus.objects.create(
        deployment=deployment,
        accuracy_level=accuracy,
        accuracy_reason=f"accuracy is {accuracy}",
        drift_level=drift,
        drift_reason=f"drift is {drift}",
        service_health_level=health,
        service_health_reason=f"health is {health}",
        computed_at=NOW,
    )


def set_activity(
    deployment: Deployment, predictions: int, last: dt.datetime | None = None
) -> DeploymentActivity:
    return DeploymentActivity.objects.create(
        deployment=deployment,
        predictions=predictions,
        first_prediction_at=last,
        last_prediction_at=last,
    )


def deploy(model: RegisteredModel, endpoint: str, environment: str = "staging") -> Deployment:
    version = factories.model_version(model=model)
    return factories.deployment(version=version, endpoint=endpoint, environment=environment)


def bulk_deployments(version: ModelVersion, count: int, start: int = 0) -> list[Deployment]:
    """`count` deployments of one version, written in one statement (the services' audit and
    lineage rows are beside the point of a scale test)."""
    rows = [
        Deployment(
            version=version,
            environment="staging",
            endpoint=f"https://bulk.example.org/{start + i}",
            deployed_by=version.model.owner,
        )
        for i in range(count)
    ]
    Deployment.objects.bulk_create(rows)
    return list(Deployment.objects.filter(endpoint__startswith="https://bulk.").order_by("pk"))


def open_alert(deployment: Deployment, *, name: str = "roc_auc", suggestion: str = "") -> Alert:
    rule = AlertRule.objects.create(
        deployment=deployment, source="metric", name=name, comparator="lt", threshold=0.8
    )
    return Alert.objects.create(
        rule=rule,
        deployment=deployment,
        value=0.61,
        message=f"metric {name} of deployment {deployment.pk} is 0.61",
        dedup_key=f"{rule.pk}:{deployment.pk}",
        suggestion=suggestion,
        opened_at=NOW,
    )


def pks(response: Any) -> list[int]:
    return [d.pk for d in response.context["page_obj"]]


def as_user(client: Any, user: Any) -> Any:
    client.force_login(user)
    return client


def chart_data(response: Any) -> dict[str, Any]:
    match = re.search(
        r'<script id="portfolio-data" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, "the page embeds the chart data"
    return json.loads(match.group(1))


def level_counts(response: Any, axis: str) -> dict[str, int]:
    entry = next(a for a in response.context["summary"]["axes"] if a["axis"] == axis)
    return {level["level"]: level["count"] for level in entry["levels"]}


# --- portfolio -------------------------------------------------------------------------------


@pytest.fixture
def fleet(model_a):
    """Four active deployments of model_a with different statuses and one retired one."""
    d1 = deploy(model_a, "https://a.example.org/one", "staging")
    d2 = deploy(model_a, "https://a.example.org/two", "dev")
    d3 = deploy(model_a, "https://a.example.org/three", "staging")
    d4 = deploy(model_a, "https://a.example.org/four", "dev")
    retired = deploy(model_a, "https://a.example.org/old", "dev")
    Deployment.objects.filter(pk=retired.pk).update(status="inactive")
    set_status(d1, accuracy="good", drift="at_risk", health="good")
    set_status(d2, accuracy="failing", drift="good", health="at_risk")
    set_status(d3, accuracy="good", drift="at_risk", health="failing")
    set_status(retired, accuracy="failing", drift="failing", health="failing")
    # d4 has no status row: unknown on every axis.
    return {"d1": d1, "d2": d2, "d3": d3, "d4": d4, "retired": retired}


def test_portfolio_counts_active_deployments_at_each_level(client, owner, fleet):
    response = as_user(client, owner).get(PORTFOLIO)
    assert response.status_code == 200
    assert response.context["summary"]["total"] == 4
    assert level_counts(response, "accuracy") == {
        "good": 2,
        "at_risk": 0,
        "failing": 1,
        "unknown": 1,
    }
    assert level_counts(response, "drift") == {"good": 1, "at_risk": 2, "failing": 0, "unknown": 1}
    assert level_counts(response, "service_health") == {
        "good": 1,
        "at_risk": 1,
        "failing": 1,
        "unknown": 1,
    }
    drift = next(a for a in response.context["summary"]["axes"] if a["axis"] == "drift")
    assert [level["share"] for level in drift["levels"]] == [25.0, 50.0, 0.0, 25.0]
    assert "Active deployments" in response.content.decode()


def test_portfolio_embeds_the_same_counts_for_the_charts(client, owner, fleet):
    response = as_user(client, owner).get(PORTFOLIO)
    charts = chart_data(response)
    assert set(charts) == {"accuracy", "drift", "service_health"}
    assert charts["drift"]["levels"] == ["good", "at_risk", "failing", "unknown"]
    assert charts["drift"]["counts"] == [1, 2, 0, 1]
    assert charts["drift"]["hrefs"][1] == f"{INVENTORY}?drift=at_risk"
    assert charts["service_health"]["hrefs"][2] == f"{INVENTORY}?health=failing"


@pytest.mark.parametrize("axis", ["accuracy", "drift", "service_health"])
def test_every_slice_link_lists_exactly_the_deployments_it_counts(client, owner, fleet, axis):
    as_user(client, owner)
    response = client.get(PORTFOLIO)
    entry = next(a for a in response.context["summary"]["axes"] if a["axis"] == axis)
    for level in entry["levels"]:
        listed = client.get(level["href"])
        assert listed.context["page_obj"].paginator.count == level["count"], level["href"]
        for deployment in listed.context["page_obj"]:
            assert getattr(deployment, f"{axis}_level") == level["level"]
        assert f'href="{level["href"]}"' in response.content.decode().replace("&amp;", "&")


def test_portfolio_without_deployments_says_how_to_deploy(client, owner):
    response = as_user(client, owner).get(PORTFOLIO)
    body = response.content.decode()
    assert response.context["summary"]["total"] == 0
    assert "No active deployments yet" in body
    assert "POST /api/v1/deployments/" in body
    assert 'id="portfolio-data"' not in body  # no chart, no chart script
    assert "chart.umd.min.js" not in body


def test_portfolio_without_traffic_points_to_ingestion(client, owner, fleet):
    body = as_user(client, owner).get(PORTFOLIO).content.decode()
    assert "No predictions yet" in body
    assert "/predictions/" in body
    set_activity(fleet["d1"], 10, NOW)
    assert "No predictions yet" not in client.get(PORTFOLIO).content.decode()


def test_home_page_links_to_the_portfolio(client, owner, fleet):
    body = as_user(client, owner).get(reverse("home")).content.decode()
    assert f'href="{PORTFOLIO}"' in body


# --- inventory: content ------------------------------------------------------------------------


def test_inventory_shows_share_status_and_last_prediction(client, owner, fleet):
    set_activity(fleet["d1"], 300, NOW - dt.timedelta(hours=2))
    set_activity(fleet["d2"], 100, NOW - dt.timedelta(days=3))
    set_activity(fleet["retired"], 100, NOW - dt.timedelta(days=30))
    response = as_user(client, owner).get(INVENTORY)
    rows = {d.pk: d for d in response.context["page_obj"]}
    assert set(rows) == {fleet[k].pk for k in ("d1", "d2", "d3", "d4")}
    # Shares are of every prediction the user may see (the retired deployment's included).
    assert rows[fleet["d1"].pk].share == pytest.approx(60.0)
    assert rows[fleet["d2"].pk].share == pytest.approx(20.0)
    assert rows[fleet["d4"].pk].share == 0.0
    assert rows[fleet["d4"].pk].last_prediction_at is None
    body = response.content.decode()
    assert 'title="drift is at_risk"' in body  # reason as tooltip
    assert ">At risk<" in body and ">Unknown<" in body  # the level as text, not colour alone
    assert "never" in body
    assert reverse("registry:deployment-detail", args=[fleet["d1"].pk]) in body
    # Default order: share of predictions, descending.
    assert pks(response)[:2] == [fleet["d1"].pk, fleet["d2"].pk]


def test_inventory_without_deployments_says_how_to_deploy(client, outsider):
    body = as_user(client, outsider).get(INVENTORY).content.decode()
    assert "No active deployments yet" in body
    assert "POST /api/v1/deployments/" in body


# --- inventory: sorting ------------------------------------------------------------------------


@pytest.fixture
def sortable(owner, model_a):
    """Six deployments that differ on every column (two models, three environments)."""
    other = factories.registered_model(owner=owner, name="Anomaly finder")
    levels = ["good", "at_risk", "failing", "unknown", "good", "at_risk"]
    made = []
    for i in range(6):
        model = model_a if i % 2 else other
        deployment = deploy(
            model, f"https://s{(i * 5) % 6}.example.org/p", ["dev", "staging"][i % 2]
        )
        Deployment.objects.filter(pk=deployment.pk).update(
            deployed_at=NOW - dt.timedelta(days=(i * 5) % 6 + 1)
        )
        if levels[i] != "unknown":
            set_status(
                deployment,
                accuracy=levels[i],
                drift=levels[(i + 1) % 6],
                health=levels[(i + 2) % 6],
            )
        last = None if i == 3 else NOW - dt.timedelta(hours=(i * 3) % 7 + 1)
        set_activity(deployment, predictions=(i * 37) % 11 * 10 + 1, last=last)
        made.append(deployment)
    return made


def expected_order(user: Any, key: str, descending: bool) -> list[int]:
    """The order a column should give, worked out in Python from the stored rows."""
    rows = list(selectors.with_monitoring(Deployment.objects.restrict(user, "view")))
    rank = selectors.SEVERITY
    column_value = {
        "model": lambda d: d.version.model.name,
        "environment": lambda d: d.environment,
        "endpoint": lambda d: d.endpoint,
        "share": lambda d: d.predictions,
        "accuracy": lambda d: rank[d.accuracy_level],
        "drift": lambda d: rank[d.drift_level],
        "health": lambda d: rank[d.service_health_level],
        # Ages and times since: larger is older, and "never" is the oldest of all.
        "age": lambda d: -d.deployed_at.timestamp(),
        "last_prediction": lambda d: (
            -d.last_prediction_at.timestamp() if d.last_prediction_at else float("inf")
        ),
    }[key]
    # Ties fall back to the deployment id in the field's own direction.
    inverted = selectors.COLUMNS[key].inverted
    pk_descending = descending != inverted
    ordered = sorted(rows, key=lambda d: d.pk, reverse=pk_descending)
    ordered.sort(key=column_value, reverse=descending)
    return [d.pk for d in ordered]


@pytest.mark.parametrize("key", list(selectors.COLUMNS))
@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_every_column_sorts_both_ways(client, owner, sortable, key, descending):
    sort = f"-{key}" if descending else key
    response = as_user(client, owner).get(INVENTORY, {"sort": sort})
    assert pks(response) == expected_order(owner, key, descending)
    sorted_header = [h for h in response.context["headers"] if h["sorted"]]
    assert [(h["key"], h["sorted"]) for h in sorted_header] == [
        (key, "descending" if descending else "ascending")
    ]
    assert 'aria-sort="' in response.content.decode()


def test_sort_headers_reverse_the_sorted_column_and_keep_filters(client, owner, sortable):
    response = as_user(client, owner).get(INVENTORY, {"sort": "age", "environment": "dev"})
    headers = {h["key"]: h["href"] for h in response.context["headers"]}
    assert "sort=-age" in headers["age"] and "environment=dev" in headers["age"]
    assert "sort=-share" in headers["share"]  # busiest first on the first click
    assert "sort=model" in headers["model"]


def test_unknown_sort_key_falls_back_to_share_descending(client, owner, sortable):
    response = as_user(client, owner).get(INVENTORY, {"sort": "password"})
    assert pks(response) == expected_order(owner, "share", True)


# --- inventory: filters, search, pagination ----------------------------------------------------


def test_filters_by_environment_status_owner_model_and_lifecycle(client, owner, fleet, model_a):
    other_owner = factories.data_scientist("dora")
    shared = factories.registered_model(owner=other_owner, name="Fraud score")
    assign_perm("registry.view_registeredmodel", owner, shared)
    fraud = deploy(shared, "https://fraud.example.org/p", "staging")
    as_user(client, owner)

    def listed(**params: str) -> set[int]:
        return set(pks(client.get(INVENTORY, params)))

    assert listed(environment="dev") == {fleet["d2"].pk, fleet["d4"].pk}
    assert listed(accuracy="failing") == {fleet["d2"].pk}
    assert listed(health="unknown") == {fleet["d4"].pk, fraud.pk}
    assert listed(drift="at_risk", environment="staging") == {fleet["d1"].pk, fleet["d3"].pk}
    assert listed(owner="dora") == {fraud.pk}
    assert listed(model=model_a.slug) == {fleet[k].pk for k in ("d1", "d2", "d3", "d4")}
    assert listed(lifecycle="inactive") == {fleet["retired"].pk}
    assert listed(lifecycle="all", accuracy="failing") == {fleet["d2"].pk, fleet["retired"].pk}
    assert fleet["retired"].pk not in listed()  # active only by default


def test_search_matches_model_name_and_endpoint(client, owner, fleet):
    other = factories.registered_model(owner=owner, name="Anomaly finder")
    anomaly = deploy(other, "https://anomaly.example.org/score")
    as_user(client, owner)
    assert set(pks(client.get(INVENTORY, {"q": "anomaly"}))) == {anomaly.pk}
    assert set(pks(client.get(INVENTORY, {"q": "a.example.org/tw"}))) == {fleet["d2"].pk}
    assert set(pks(client.get(INVENTORY, {"q": "credit"}))) == {
        fleet[k].pk for k in ("d1", "d2", "d3", "d4")
    }
    empty = client.get(INVENTORY, {"q": "no such thing"})
    assert "No deployments match" in empty.content.decode()


def test_inventory_paginates_by_25(client, owner, model_a):
    version = factories.model_version(model=model_a)
    made = bulk_deployments(version, 30)
    as_user(client, owner)
    first = client.get(INVENTORY, {"sort": "endpoint"})
    second = client.get(INVENTORY, {"sort": "endpoint", "page": 2})
    assert first.context["page_obj"].paginator.count == 30
    assert len(pks(first)) == 25 and len(pks(second)) == 5
    assert set(pks(first)) | set(pks(second)) == {d.pk for d in made}
    assert "Page 1 of 2" in first.content.decode()


# --- nobody sees another team's deployments ---------------------------------------------------


@pytest.fixture
def two_teams(owner, model_a, model_b):
    """Model A (owner's) and model B (bob's), each with a deployment, status, traffic, an
    alert and a job run."""
    a = deploy(model_a, "https://alpha.example.org/p")
    b = deploy(model_b, "https://zebra.example.org/p")
    set_status(a, drift="at_risk")
    set_status(b, drift="at_risk", accuracy="failing")
    set_activity(a, 10, NOW)
    set_activity(b, 990, NOW)
    alert_a = open_alert(a)
    alert_b = open_alert(b, name="zebra_metric")
    job_a = JobRun.objects.create(kind="deployment_monitoring", requested_by=owner, state="running")
    job_b = JobRun.objects.create(
        kind="deployment_monitoring", requested_by=model_b.owner, state="running"
    )
    return {"a": a, "b": b, "alert_a": alert_a, "alert_b": alert_b, "job_a": job_a, "job_b": job_b}


def test_a_team_sees_only_its_own_deployments_everywhere(client, owner, two_teams):
    as_user(client, owner)
    portfolio = client.get(PORTFOLIO)
    assert portfolio.context["summary"]["total"] == 1
    assert level_counts(portfolio, "accuracy")["failing"] == 0
    assert sum(chart_data(portfolio)["drift"]["counts"]) == 1
    assert portfolio.context["prediction_total"] == 10
    inventory = client.get(INVENTORY)
    assert pks(inventory) == [two_teams["a"].pk]
    assert inventory.context["page_obj"][0].share == 100.0  # B's traffic is not the denominator
    assert pks(client.get(INVENTORY, {"q": "zebra"})) == []
    assert pks(client.get(INVENTORY, {"lifecycle": "all", "accuracy": "failing"})) == []
    alerts = client.get(ALERTS)
    assert [a.pk for a in alerts.context["page_obj"]] == [two_teams["alert_a"].pk]
    ids = f"{two_teams['job_a'].pk},{two_teams['job_b'].pk}"
    assert [r["id"] for r in client.get(PROGRESS, {"ids": ids}).json()["runs"]] == [
        two_teams["job_a"].pk
    ]
    for response in (portfolio, inventory, alerts):
        body = response.content.decode()
        assert "zebra" not in body and "Churn" not in body


def test_an_outsider_sees_nothing_of_either_team(client, outsider, two_teams):
    as_user(client, outsider)
    portfolio = client.get(PORTFOLIO)
    assert portfolio.context["summary"]["total"] == 0
    assert portfolio.context["prediction_total"] == 0
    assert 'id="portfolio-data"' not in portfolio.content.decode()
    for params in ({}, {"q": "zebra"}, {"q": "alpha"}, {"lifecycle": "all"}, {"drift": "at_risk"}):
        assert pks(client.get(INVENTORY, params)) == []
    assert client.get(INVENTORY).context["form"].fields["owner"].choices == [("", "Any")]
    for state in ("open", "all"):
        assert list(client.get(ALERTS, {"state": state}).context["page_obj"]) == []
    ids = f"{two_teams['job_a'].pk},{two_teams['job_b'].pk}"
    assert client.get(PROGRESS, {"ids": ids}).json() == {"runs": []}
    for url in (PORTFOLIO, INVENTORY, ALERTS, reverse("home")):
        body = client.get(url).content.decode()
        for secret in ("zebra", "Churn", "alpha", "Credit risk"):
            assert secret not in body, (url, secret)


def test_a_reviewer_sees_both_teams(client, reviewer, two_teams):
    as_user(client, reviewer)
    assert client.get(PORTFOLIO).context["summary"]["total"] == 2
    assert set(pks(client.get(INVENTORY))) == {two_teams["a"].pk, two_teams["b"].pk}


# --- alerts ---------------------------------------------------------------------------------------


def test_alert_page_shows_rule_value_suggestion_and_history(client, owner, model_a):
    deployment = deploy(model_a, "https://alpha.example.org/canary")
    alert = open_alert(deployment, suggestion="rollback")
    body = as_user(client, owner).get(ALERTS).content.decode()
    assert f"#{alert.pk}" in body
    assert "roc_auc &lt; 0.8" in body
    assert "0.61" in body and alert.message in body
    assert "Rollback" in body
    assert reverse("monitoring:alert-acknowledge", args=[alert.pk]) in body
    assert reverse("monitoring:alert-resolve", args=[alert.pk]) in body
    assert 'name="csrfmiddlewaretoken"' in body


def test_alert_tabs_filter_by_state_and_count_each(client, owner, model_a, two_teams):
    acknowledged = open_alert(two_teams["a"], name="accuracy")
    Alert.objects.filter(pk=acknowledged.pk).update(
        state="acknowledged", acknowledged_by=owner, acknowledged_at=NOW
    )
    as_user(client, owner)
    response = client.get(ALERTS)
    assert [a.pk for a in response.context["page_obj"]] == [two_teams["alert_a"].pk]
    counts = {tab["state"]: tab["count"] for tab in response.context["tabs"]}
    assert counts == {"open": 1, "acknowledged": 1, "resolved": 0, "all": 2}
    acked = client.get(ALERTS, {"state": "acknowledged"})
    assert [a.pk for a in acked.context["page_obj"]] == [acknowledged.pk]
    assert "by olivia" in acked.content.decode()
    assert list(client.get(ALERTS, {"state": "resolved"}).context["page_obj"]) == []


def test_owner_acknowledges_then_resolves_an_alert(client, owner, two_teams):
    alert = two_teams["alert_a"]
    as_user(client, owner)
    response = client.post(
        reverse("monitoring:alert-acknowledge", args=[alert.pk]), {"state": "open"}
    )
    assert response.status_code == 302 and response["Location"] == f"{ALERTS}?state=open"
    alert.refresh_from_db()
    assert (alert.state, alert.acknowledged_by) == ("acknowledged", owner)
    client.post(reverse("monitoring:alert-resolve", args=[alert.pk]))
    alert.refresh_from_db()
    assert (alert.state, alert.resolved_by) == ("resolved", owner)
    again = client.post(reverse("monitoring:alert-resolve", args=[alert.pk]), follow=True)
    assert "Nothing changed" in again.content.decode()


@pytest.mark.parametrize("action", ["alert-acknowledge", "alert-resolve"])
def test_a_viewer_without_change_rights_changes_nothing(client, reviewer, two_teams, action):
    alert = two_teams["alert_a"]
    as_user(client, reviewer)
    page = client.get(ALERTS)
    events = AuditEvent.objects.count()
    assert alert.pk in [a.pk for a in page.context["page_obj"]]  # visible...
    assert reverse(f"monitoring:{action}", args=[alert.pk]) not in page.content.decode()
    response = client.post(reverse(f"monitoring:{action}", args=[alert.pk]), follow=True)
    assert "needs change rights" in response.content.decode()  # ...but not changeable
    alert.refresh_from_db()
    assert alert.state == "open" and alert.acknowledged_by is None and alert.resolved_by is None
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("action", ["alert-acknowledge", "alert-resolve"])
def test_an_outsider_gets_404_and_changes_nothing(client, outsider, two_teams, action):
    alert = two_teams["alert_a"]
    response = as_user(client, outsider).post(reverse(f"monitoring:{action}", args=[alert.pk]))
    assert response.status_code == 404
    alert.refresh_from_db()
    assert alert.state == "open"


def test_alert_actions_refuse_get(client, owner, two_teams):
    url = reverse("monitoring:alert-resolve", args=[two_teams["alert_a"].pk])
    assert as_user(client, owner).get(url).status_code == 405


def test_alerts_empty_state_says_where_alerts_come_from(client, owner):
    body = as_user(client, owner).get(ALERTS).content.decode()
    assert "No alerts yet" in body and "/api/v1/alert-rules/" in body


# --- navigation ----------------------------------------------------------------------------------


def test_navigation_marks_the_current_page_and_counts_open_alerts(client, owner, two_teams):
    as_user(client, owner)
    for url, label in ((PORTFOLIO, "Portfolio"), (INVENTORY, "Inventory"), (ALERTS, "Alerts")):
        body = client.get(url).content.decode()
        nav = body[body.index('<nav class="site-nav"') : body.index("</nav>")]
        current = re.findall(r'<a href="([^"]+)" aria-current="page">', nav)
        assert current == [url], (url, current)
        assert f">{label}" in body
    body = client.get(PORTFOLIO).content.decode()
    assert 'aria-label="1 open"' in body  # model B's open alert is not counted


# --- job progress --------------------------------------------------------------------------------


def test_job_progress_reports_state_progress_and_duration(client, owner):
    started = NOW - dt.timedelta(seconds=90)
    running = JobRun.objects.create(
        kind="deployment_monitoring",
        requested_by=owner,
        state="running",
        progress=0.4,
        started_at=started,
    )
    done = JobRun.objects.create(
        kind="deployment_monitoring",
        requested_by=owner,
        state="succeeded",
        progress=1.0,
        started_at=started,
        finished_at=started + dt.timedelta(seconds=12),
    )
    as_user(client, owner)
    data = client.get(PROGRESS, {"ids": f"{running.pk},{done.pk},x,,999999"}).json()
    runs = {r["id"]: r for r in data["runs"]}
    assert set(runs) == {running.pk, done.pk}
    assert runs[running.pk]["state"] == "running" and runs[running.pk]["in_flight"] is True
    assert runs[running.pk]["progress"] == 0.4
    assert runs[running.pk]["elapsed_s"] >= 90
    assert runs[done.pk]["in_flight"] is False
    assert runs[done.pk]["elapsed_s"] == 12.0
    assert client.get(PROGRESS).json() == {"runs": []}


def test_job_list_shows_a_progress_bar_for_runs_in_flight_only(client, owner):
    for state in ("queued", "running", "retrying", "succeeded", "failed"):
        JobRun.objects.create(kind="integrity_scan", requested_by=owner, state=state, progress=0.5)
    body = as_user(client, owner).get(reverse("monitoring:job-list")).content.decode()
    assert body.count("<progress") == 3
    assert 'value="50"' in body
    assert f'data-job-progress-url="{PROGRESS}"' in body
    assert "steward/jobs.js" in body
    assert "reload the page" in body  # what to do without JavaScript


def test_job_progress_needs_sign_in(client):
    assert client.get(PROGRESS).status_code == 302


# --- fixed query counts ----------------------------------------------------------------------


def grow(model: RegisteredModel, version: ModelVersion, target: int) -> None:
    """Bring model's deployments to `target`, each with a status, traffic and an open alert."""
    have = Deployment.objects.filter(version__model=model).count()
    bulk_deployments(version, target - have, start=have)
    for deployment in Deployment.objects.filter(
        version__model=model, monitoring_status__isnull=True
    ):
        set_status(deployment, drift="at_risk")
        set_activity(deployment, deployment.pk, NOW)
        open_alert(deployment)


def queries(client: Any, url: str, params: dict[str, str] | None = None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured.captured_queries)


# Each page: 4 for the request (session, user, the user's and the groups' permissions, read
# once by restrict()), 3 for the navigation (approval inbox, open alerts, unread notifications),
# then its own:
# portfolio 3 (the one aggregate, the prediction total, the count of models whose
# revalidation is overdue); inventory 5 (owner and model menus,
# page count, prediction total, the page's rows); alerts 4 (page count, rows, which rows the
# user may change, the per-state counts of the tabs).
PAGES = {
    "portfolio": (PORTFOLIO, {}),
    "inventory": (INVENTORY, {"sort": "-drift", "drift": "at_risk"}),
    "alerts": (ALERTS, {"state": "all"}),
}
PINNED = {"portfolio": 10, "inventory": 12, "alerts": 11}


@pytest.mark.parametrize("page", list(PAGES))
def test_each_page_issues_the_same_queries_for_10_and_200_deployments(client, owner, model_a, page):
    version = factories.model_version(model=model_a)
    url, params = PAGES[page]
    as_user(client, owner)
    grow(model_a, version, 10)
    small = queries(client, url, params)
    grow(model_a, version, 200)
    large = queries(client, url, params)
    assert Deployment.objects.filter(version__model=model_a).count() == 200
    assert small == large == PINNED[page]
