"""'What was true on date X': which version served production, and who approved it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from registry import services as registry
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_version_serving_production_at_a_moment_and_its_approvers(api_as, model_a):
    v1 = factories.approved_version(model=model_a)
    first = factories.production_deployment(version=v1, endpoint="https://p.example.org/credit")
    between = timezone.now()
    v2 = factories.approved_version(model=model_a)
    second = factories.production_deployment(
        version=v2, endpoint="https://p.example.org/credit", replaces=first
    )
    client = api_as(model_a.owner)
    then = client.get("/api/v1/audit/production-at/", {"at": between.isoformat()}).json()
    assert [(s["version"], s["deployment"]) for s in then["serving"]] == [(1, first.pk)]
    approvers = then["serving"][0]["approvals"][0]["approvers"]
    assert approvers and all(name.startswith("approver-") for name in approvers)
    now = client.get(
        "/api/v1/audit/production-at/",
        {"at": (timezone.now() + dt.timedelta(seconds=1)).isoformat()},
    ).json()
    assert [s["deployment"] for s in now["serving"]] == [second.pk]
    registry.deployment_retire(deployment=second, actor=model_a.owner)
    later = client.get(
        "/api/v1/audit/production-at/",
        {"at": (timezone.now() + dt.timedelta(seconds=1)).isoformat()},
    ).json()
    assert later["serving"] == []


def test_production_at_needs_a_valid_moment_and_hides_other_teams(api_as, model_a, outsider):
    client = api_as(outsider)
    assert client.get("/api/v1/audit/production-at/", {"at": "yesterday"}).status_code == 400
    assert (
        client.get(
            "/api/v1/audit/production-at/",
            {"at": timezone.now().isoformat(), "model": model_a.slug},
        ).status_code
        == 404
    )


def test_the_production_history_page_shows_the_serving_version(client, model_a):
    v1 = factories.approved_version(model=model_a)
    factories.production_deployment(version=v1, endpoint="https://p.example.org/credit")
    client.force_login(model_a.owner)
    moment = timezone.localtime(timezone.now() + dt.timedelta(minutes=1))
    page = client.get("/governance/production-at/", {"at": moment.strftime("%Y-%m-%dT%H:%M")})
    html = page.content.decode()
    assert page.status_code == 200 and "https://p.example.org/credit" in html
    assert "approver-" in html
