"""Registry web pages: what each persona sees, search and filters, and pinned query counts."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from guardian.shortcuts import assign_perm

from registry import services
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(model_a):
    """model_a with a dataset, a version trained on it, an artifact and a deployment."""
    owner = model_a.owner
    services.model_update(
        model=model_a,
        actor=owner,
        description="Scores loan applications for default risk.",
        team="lending",
        intended_use="Pre-screening of consumer loans.",
        tags=["credit", "pd"],
    )
    dataset = services.dataset_upload(
        model=model_a, actor=owner, upload=factories.csv_upload(), name="train", kind="training"
    )
    version = factories.model_version(
        model=model_a,
        training_datasets=[dataset.pk],
        hyperparameters={"max_depth": 6, "n_estimators": 300},
        code_repository="https://git.example.org/risk/credit",
        code_commit="0123456789abcdef0123456789abcdef01234567",
    )
    artifact = services.artifact_upload(
        version=version, actor=owner, upload=factories.binary_upload(), kind="model"
    )
    deployment = factories.deployment(
        version=version, endpoint="https://serving.example.org/credit"
    )
    return SimpleNamespace(
        model=model_a, dataset=dataset, version=version, artifact=artifact, deployment=deployment
    )


def _pages(c: SimpleNamespace) -> dict[str, str]:
    return {
        "model": reverse("registry:model-detail", args=[c.model.slug]),
        "version": reverse("registry:version-detail", args=[c.model.slug, c.version.number]),
        "dataset": reverse("registry:dataset-detail", args=[c.dataset.pk]),
        "deployment": reverse("registry:deployment-detail", args=[c.deployment.pk]),
    }


def _text(response) -> str:
    return response.content.decode()


# Who may see what ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/registry/models/",
        "/registry/models/credit-risk/",
        "/registry/models/credit-risk/v1/",
        "/registry/datasets/1/",
        "/registry/deployments/",
        "/registry/deployments/1/",
        "/monitoring/jobs/",
        "/governance/audit/",
    ],
)
def test_anonymous_visitor_is_sent_to_the_login_page(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize("page", ["model", "version", "dataset", "deployment"])
def test_outsider_gets_404_for_model_a_pages(client, catalogue, outsider, page):
    client.force_login(outsider)
    response = client.get(_pages(catalogue)[page])
    assert response.status_code == 404
    assert "Page not found" in _text(response)
    assert "Credit risk" not in _text(response)


def test_model_a_never_appears_in_the_outsiders_lists(client, catalogue, outsider):
    client.force_login(outsider)
    for url in ("/", "/registry/models/", "/registry/deployments/", "/governance/audit/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Credit risk" not in _text(response), url
        assert catalogue.deployment.endpoint not in _text(response), url


def test_outsider_with_no_models_is_told_how_to_register_one(client, outsider):
    client.force_login(outsider)
    text = _text(client.get("/registry/models/"))
    assert "No models yet" in text
    assert "/api/docs/" in text and "make demo" in text


def test_grant_on_one_model_shows_that_model_only(client, model_a, model_b, outsider):
    assign_perm("registry.view_registeredmodel", outsider, model_b)
    client.force_login(outsider)
    text = _text(client.get("/registry/models/"))
    assert "Churn" in text and "Credit risk" not in text
    assert client.get(f"/registry/models/{model_b.slug}/").status_code == 200


def test_reviewer_sees_every_model(client, model_a, model_b, reviewer):
    client.force_login(reviewer)
    text = _text(client.get("/registry/models/"))
    assert "Credit risk" in text and "Churn" in text


# Each page renders for the owner -------------------------------------------------------------


def test_home_is_an_overview_of_what_the_owner_may_see(client, catalogue, model_b):
    client.force_login(catalogue.model.owner)
    response = client.get("/")
    assert response.status_code == 200
    text = _text(response)
    assert "Overview" in text and "Credit risk" in text and "Churn" not in text
    assert response.context["model_count"] == 1
    assert response.context["version_count"] == 1
    assert dict((v, n) for v, _, n in response.context["deployments_by_environment"]) == {
        "dev": 0,
        "staging": 1,
        "production": 0,
    }
    assert "registry.deployment.created" in text


def test_models_list_shows_latest_version_and_deployment_count(client, catalogue, model_b):
    factories.model_version(model=catalogue.model)
    client.force_login(catalogue.model.owner)
    response = client.get("/registry/models/")
    assert response.status_code == 200
    (row,) = response.context["page_obj"].object_list
    assert (row.name, row.latest_version, row.deployment_count) == ("Credit risk", 2, 1)
    text = _text(response)
    assert f'href="/registry/models/{catalogue.model.slug}/v2/"' in text
    assert "Churn" not in text


def test_model_detail_shows_facts_versions_datasets_deployments_and_activity(client, catalogue):
    client.force_login(catalogue.model.owner)
    response = client.get(_pages(catalogue)["model"])
    assert response.status_code == 200
    text = _text(response)
    for expected in (
        "Scores loan applications for default risk.",
        "lending",
        "Binary classification",
        "Pre-screening of consumer loans.",
        "credit",
        f'href="/registry/models/{catalogue.model.slug}/v1/"',
        "Draft",
        "roc_auc",
        "train v1",
        catalogue.deployment.endpoint,
        "registry.model.created",
        "registry.artifact.added",
    ):
        assert expected in text, expected


def test_model_activity_excludes_other_models(client, catalogue, model_b):
    factories.model_version(model=model_b)
    client.force_login(catalogue.model.owner)
    events = client.get(_pages(catalogue)["model"]).context["events"]
    assert events and all("Churn" not in e.event.target_repr for e in events)


def test_version_detail_shows_schema_parameters_chart_artifacts_and_lineage(client, catalogue):
    client.force_login(catalogue.model.owner)
    response = client.get(_pages(catalogue)["version"])
    assert response.status_code == 200
    text = _text(response)
    for expected in (
        "<code>income</code>",
        "north, south",
        "max_depth",
        "n_estimators",
        "https://git.example.org/risk/credit",
        "0123456789ab",
        'id="importance-data"',
        "vendor/chartjs/chart.umd.min.js",
        "steward/charts.js",
        catalogue.artifact.sha256[:16],
        reverse("api:artifact-download", args=[catalogue.artifact.pk]),
        catalogue.deployment.endpoint,
        '<svg class="lineage-graph"',
        "trained on",
        "deployed from",
    ):
        assert expected in text, expected
    assert "onclick" not in text and "onload" not in text
    chart = response.context["importance_chart"]
    assert chart["labels"] == ["age", "income", "region"]


def test_version_lineage_links_the_dataset_and_the_deployment(client, catalogue):
    client.force_login(catalogue.model.owner)
    layout = client.get(_pages(catalogue)["version"]).context["lineage_layout"]
    by_key = {box.key: box for box in layout.boxes}
    root = by_key[f"version:{catalogue.version.pk}"]
    assert by_key[f"dataset:{catalogue.dataset.pk}"].x < root.x
    assert by_key[f"deployment:{catalogue.deployment.pk}"].x > root.x
    assert by_key[f"dataset:{catalogue.dataset.pk}"].url == _pages(catalogue)["dataset"]


def test_external_artifact_links_only_to_web_addresses(client, catalogue):
    other = factories.model_version(model=catalogue.model)
    services.artifact_link(
        version=other, actor=catalogue.model.owner, uri="s3://bucket/model.bin", kind="model"
    )
    services.artifact_link(
        version=other,
        actor=catalogue.model.owner,
        uri="https://hub.example.org/model.bin",
        kind="report",
        name="card",
    )
    client.force_login(catalogue.model.owner)
    text = _text(client.get(f"/registry/models/{catalogue.model.slug}/v2/"))
    assert 'href="https://hub.example.org/model.bin"' in text
    assert 'href="s3://' not in text and "s3://bucket/model.bin" in text


def test_dataset_detail_shows_profile_hash_and_download(client, catalogue):
    client.force_login(catalogue.model.owner)
    response = client.get(_pages(catalogue)["dataset"])
    assert response.status_code == 200
    text = _text(response)
    assert catalogue.dataset.sha256 in text
    assert reverse("api:dataset-download", args=[catalogue.dataset.pk]) in text
    columns = {row["name"]: row for row in response.context["columns"]}
    assert set(columns) == {"age", "income", "region"}
    assert columns["age"]["min"] == 31 and columns["age"]["max"] == 45
    assert columns["region"]["distinct"] == 2
    assert "north" in text and "trained on" in text


def test_deployment_detail_shows_the_rollback_chain(client, model_a):
    owner = model_a.owner
    v1 = factories.model_version(model=model_a)
    v2 = factories.model_version(model=model_a)
    first = factories.deployment(version=v1, endpoint="https://s.example.org/p")
    second = factories.deployment(version=v2, endpoint="https://s.example.org/p", replaces=first)
    rollback = services.deployment_rollback(deployment=second, actor=owner, reason="AUC fell")
    client.force_login(owner)
    response = client.get(reverse("registry:deployment-detail", args=[second.pk]))
    assert response.status_code == 200
    assert response.context["replaces"] == first
    assert response.context["replaced_by"] == [rollback]
    assert [d.pk for d in response.context["chain"]] == [first.pk, second.pk, rollback.pk]
    text = _text(client.get(reverse("registry:deployment-detail", args=[rollback.pk])))
    assert "Rollback" in text and "AUC fell" in text and "rolled back from" in text


# Search, filters, sorting, pagination -------------------------------------------------------


@pytest.fixture
def several_models(owner):
    specs = [
        ("Fraud score", "payments", "high", "binary", "Flags card fraud."),
        ("Churn propensity", "marketing", "low", "binary", "Who leaves next month."),
        ("Demand forecast", "supply", "medium", "regression", "Weekly units per store."),
        ("Claims triage", "insurance", "critical", "multiclass", "Routes claims to handlers."),
    ]
    return [
        factories.registered_model(
            owner=owner, name=name, team=team, risk_tier=risk, task=task, description=desc
        )
        for name, team, risk, task, desc in specs
    ]


def _names(response) -> list[str]:
    return [m.name for m in response.context["page_obj"].object_list]


def test_model_search_matches_name_description_and_team(client, owner, several_models):
    client.force_login(owner)
    assert _names(client.get("/registry/models/?q=fraud")) == ["Fraud score"]
    assert _names(client.get("/registry/models/?q=next+month")) == ["Churn propensity"]
    assert _names(client.get("/registry/models/?q=SUPPLY")) == ["Demand forecast"]


def test_model_filters_narrow_the_list(client, owner, several_models, model_b):
    client.force_login(owner)
    assert _names(client.get("/registry/models/?risk_tier=critical")) == ["Claims triage"]
    assert _names(client.get("/registry/models/?task=regression")) == ["Demand forecast"]
    assert _names(client.get("/registry/models/?team=payments")) == ["Fraud score"]
    assert len(_names(client.get(f"/registry/models/?owner={owner.username}"))) == 4
    response = client.get("/registry/models/?team=nonexistent")
    assert response.status_code == 200 and len(_names(response)) == 4  # bad choice is ignored
    assert "No models match" in _text(client.get("/registry/models/?q=zzz"))


def test_model_sorting(client, owner, several_models):
    client.force_login(owner)
    names = ["Churn propensity", "Claims triage", "Demand forecast", "Fraud score"]
    assert _names(client.get("/registry/models/")) == names
    assert _names(client.get("/registry/models/?sort=-name")) == names[::-1]
    by_risk = _names(client.get("/registry/models/?sort=-risk"))
    assert by_risk == ["Claims triage", "Fraud score", "Demand forecast", "Churn propensity"]


def test_model_list_is_paginated_by_25_and_keeps_the_filters(client, owner):
    for i in range(27):
        factories.registered_model(owner=owner, name=f"Model {i:02d}", team="bulk")
    client.force_login(owner)
    first = client.get("/registry/models/?team=bulk")
    assert len(_names(first)) == 25
    assert "team=bulk&amp;page=2" in _text(first)
    assert _names(client.get("/registry/models/?team=bulk&page=2")) == ["Model 25", "Model 26"]
    assert len(_names(client.get("/registry/models/?page=99"))) == 2  # last page


@pytest.fixture
def deployments(model_a):
    v1 = factories.model_version(model=model_a)
    return [
        factories.deployment(version=v1, environment="dev", endpoint="https://dev.example.org/a"),
        factories.deployment(version=v1, environment="staging", endpoint="https://stg.example.org"),
    ]


def test_deployment_list_filters_by_environment_status_and_model(
    client, model_a, model_b, deployments
):
    other = factories.deployment(version=factories.model_version(model=model_b))
    client.force_login(model_a.owner)
    rows = client.get("/registry/deployments/?environment=dev").context["page_obj"].object_list
    assert [d.pk for d in rows] == [deployments[0].pk]
    rows = client.get("/registry/deployments/?status=active").context["page_obj"].object_list
    assert {d.pk for d in rows} == {d.pk for d in deployments}
    rows = client.get(f"/registry/deployments/?model={model_a.slug}").context["page_obj"]
    assert other.pk not in {d.pk for d in rows}
    rows = client.get("/registry/deployments/?q=stg.example").context["page_obj"].object_list
    assert [d.pk for d in rows] == [deployments[1].pk]


def test_deployment_list_sorts_and_has_an_empty_state(client, model_a, deployments, outsider):
    client.force_login(model_a.owner)
    newest = client.get("/registry/deployments/").context["page_obj"].object_list
    assert [d.pk for d in newest] == [deployments[1].pk, deployments[0].pk]
    oldest = client.get("/registry/deployments/?sort=deployed").context["page_obj"].object_list
    assert [d.pk for d in oldest] == [deployments[0].pk, deployments[1].pk]
    client.force_login(outsider)
    assert "No deployments yet" in _text(client.get("/registry/deployments/"))


# Query counts ---------------------------------------------------------------------------------


def _populate(owner, count: int) -> None:
    from registry.models import RegisteredModel

    start = RegisteredModel.objects.count()
    for i in range(start, start + count):
        model = factories.registered_model(owner=owner, name=f"Bulk {i:03d}", team=f"t{i % 3}")
        version = factories.model_version(model=model)
        factories.deployment(version=version, endpoint=f"https://s.example.org/{i}")


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", ["/registry/models/", "/registry/deployments/", "/"])
def test_list_pages_issue_a_fixed_number_of_queries(client, owner, url):
    client.force_login(owner)
    _populate(owner, 2)
    few = _queries(client, url)
    _populate(owner, 8)
    many = _queries(client, url)
    assert few == many, f"{url}: {few} queries for 2 models, {many} for 10"


# Accounts and error pages ----------------------------------------------------------------------


def test_login_page_signs_the_user_in_and_logout_is_a_post(client, owner):
    page = client.get("/login/")
    assert page.status_code == 200 and 'name="username"' in _text(page)
    response = client.post(
        "/login/", {"username": owner.username, "password": "correct horse battery staple"}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/")
    text = _text(home)
    assert owner.username in text and 'action="/logout/"' in text and 'method="post"' in text
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/")["Location"] == reverse("login")


def test_bad_password_shows_an_error(client, owner):
    response = client.post("/login/", {"username": owner.username, "password": "wrong"})
    assert response.status_code == 200
    assert 'role="alert"' in _text(response)


def test_error_templates_render_without_a_request(client):
    from django.template.loader import render_to_string

    assert "Something went wrong" in render_to_string("500.html")
    assert "You may not do that" in render_to_string("403.html")


def test_admin_lists_every_registry_model_for_a_superuser(client, admin, catalogue):
    client.force_login(admin)
    for name in ("registeredmodel", "modelversion", "artifact", "dataset", "deployment"):
        assert client.get(f"/admin/registry/{name}/").status_code == 200, name
    change = client.get(f"/admin/registry/registeredmodel/{catalogue.model.pk}/change/")
    assert change.status_code == 200
    perms = client.get(f"/admin/registry/registeredmodel/{catalogue.model.pk}/permissions/")
    assert perms.status_code == 200
    assert client.get("/admin/registry/modelversion/add/").status_code == 403


def test_admin_edit_of_a_model_goes_through_the_audited_service(client, admin, catalogue):
    from governance.models import AuditEvent

    model = catalogue.model
    client.force_login(admin)
    response = client.post(
        f"/admin/registry/registeredmodel/{model.pk}/change/",
        {
            "description": "Edited in the admin.",
            "team": model.team,
            "target_column": "",
            "risk_tier": "high",
            "intended_use": model.intended_use,
            "tags": '["credit"]',
        },
    )
    assert response.status_code == 302, response.content
    model.refresh_from_db()
    assert (model.description, model.risk_tier) == ("Edited in the admin.", "high")
    event = AuditEvent.objects.filter(action="registry.model.updated").last()
    assert event.actor_name == admin.username and event.after["description"]
    tier = AuditEvent.objects.filter(action="registry.model.risk_tier_changed").last()
    assert (tier.actor_name, tier.after["risk_tier"]) == (admin.username, "high")


def test_admin_access_grant_is_audited(client, admin, catalogue, outsider):
    from governance.models import AuditEvent

    client.force_login(admin)
    base = f"/admin/registry/registeredmodel/{catalogue.model.pk}/permissions"
    url = f"{base}/user-manage/{outsider.pk}/"
    response = client.post(url, {"permissions": ["view_registeredmodel"]})
    assert response.status_code == 302
    assert outsider.has_perm("registry.view_registeredmodel", catalogue.model)
    event = AuditEvent.objects.get(action="governance.access.granted")
    assert event.actor_name == admin.username
    assert event.after == {"user": outsider.username, "actions": ["view"]}


def test_flash_messages_are_shown_with_their_level(rf, owner):
    from django.contrib import messages
    from django.contrib.messages.middleware import MessageMiddleware
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.template.loader import render_to_string

    request = rf.get("/")
    request.user = owner
    SessionMiddleware(lambda r: None).process_request(request)
    MessageMiddleware(lambda r: None).process_request(request)
    messages.success(request, "Version 3 submitted for review.")
    html = render_to_string("404.html", request=request)
    assert 'class="message message--success"' in html
    assert "Version 3 submitted for review." in html
