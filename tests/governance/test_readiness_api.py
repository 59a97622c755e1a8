"""Readiness API: template, a version's readiness, answering; who may do what; error shapes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm

from governance.readiness.models import ChecklistAnswer, ChecklistItem
from tests import factories

pytestmark = pytest.mark.django_db

PLAIN_ITEM = "model.missing-inputs"
EVIDENCE_ITEM = "data.source-documented"


def _url(version) -> str:
    return f"/api/v1/versions/{version.pk}/readiness/"


def _answers_url(version) -> str:
    return f"/api/v1/versions/{version.pk}/readiness/answers/"


@pytest.fixture
def version(model_a):
    return factories.model_version(model=model_a)


def test_template_endpoint_returns_the_active_template_with_sections_and_items(api_as, outsider):
    response = api_as(outsider).get("/api/v1/readiness/templates/")
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 2 and body["is_active"]
    items = [item for section in body["sections"] for item in section["items"]]
    assert len(items) == ChecklistItem.objects.filter(template__version=2).count()
    assert {"key", "question", "guidance", "evidence_required", "required_for"} <= set(items[0])
    assert api_as(outsider).get("/api/v1/readiness/templates/1/").json()["version"] == 1
    assert api_as(outsider).get("/api/v1/readiness/templates/7/").status_code == 404


def test_anonymous_request_is_refused(api, version):
    assert api.get(_url(version)).status_code in (401, 403)


def test_owner_answers_one_item_and_reads_the_readiness(api_as, owner, version):
    client = api_as(owner)
    response = client.post(
        _answers_url(version), {"item": PLAIN_ITEM, "answer": "yes"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["item"] == PLAIN_ITEM and response.json()["answered_by"] == "olivia"

    body = client.get(_url(version)).json()
    assert body["version"] == version.pk and body["risk_tier"] == "medium"
    assert body["template"] == {"version": 2, "title": "ModelOps readiness"}
    assert body["overall"]["answered"] == 1 and body["overall"]["yes"] == 1
    assert [a["item"] for a in body["answers"]] == [PLAIN_ITEM]
    assert PLAIN_ITEM not in {i["key"] for i in body["open_required_items"]}
    model_section = next(s for s in body["sections"] if s["key"] == "model")
    assert model_section["scores"]["answered"] == 1


def test_owner_replaces_answers_with_a_list_through_put(api_as, owner, version):
    client = api_as(owner)
    client.post(_answers_url(version), {"item": PLAIN_ITEM, "answer": "no"}, format="json")
    rows = [
        {"item": PLAIN_ITEM, "answer": "yes"},
        {"item": EVIDENCE_ITEM, "answer": "yes", "evidence_url": "https://wiki.example.org/ds"},
    ]
    response = client.put(_answers_url(version), rows, format="json")
    assert response.status_code == 200, response.content
    assert [a["item"] for a in response.json()] == [PLAIN_ITEM, EVIDENCE_ITEM]
    assert ChecklistAnswer.objects.get(version=version, item__key=PLAIN_ITEM).answer == "yes"


def test_outsider_gets_404_for_readiness_and_for_answering(api_as, outsider, version):
    client = api_as(outsider)
    assert client.get(_url(version)).status_code == 404
    response = client.post(
        _answers_url(version), {"item": PLAIN_ITEM, "answer": "yes"}, format="json"
    )
    assert response.status_code == 404
    assert not ChecklistAnswer.objects.exists()


def test_reviewer_sees_the_readiness_but_gets_403_when_answering(api_as, reviewer, version):
    client = api_as(reviewer)
    assert client.get(_url(version)).status_code == 200
    response = client.post(
        _answers_url(version), {"item": PLAIN_ITEM, "answer": "yes"}, format="json"
    )
    assert response.status_code == 403
    assert not ChecklistAnswer.objects.exists()


def test_a_view_grant_on_one_model_shows_that_models_readiness_only(
    api_as, outsider, version, model_b
):
    other = factories.model_version(model=model_b)
    assign_perm("registry.view_registeredmodel", outsider, model_b)
    client = api_as(outsider)
    assert client.get(_url(other)).status_code == 200
    assert client.get(_url(version)).status_code == 404
    response = client.post(_answers_url(other), {"item": PLAIN_ITEM, "answer": "no"}, format="json")
    assert response.status_code == 403


def test_answering_an_approved_version_gets_409(api_as, owner, model_a):
    approved = factories.approved_version(model=model_a)
    response = api_as(owner).post(
        _answers_url(approved), {"item": PLAIN_ITEM, "answer": "yes"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "checklist_frozen"
    assert api_as(owner).get(_url(approved)).json()["frozen"] is True


def test_errors_for_one_answer_name_the_field(api_as, owner, version):
    client = api_as(owner)
    response = client.post(
        _answers_url(version), {"item": PLAIN_ITEM, "answer": "not_applicable"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["note"]
    response = client.post(_answers_url(version), {"item": PLAIN_ITEM}, format="json")
    assert response.status_code == 400 and "answer" in response.json()


def test_errors_for_a_list_name_the_row_and_the_field(api_as, owner, version):
    client = api_as(owner)
    malformed = [
        {"item": PLAIN_ITEM, "answer": "yes"},
        {"item": EVIDENCE_ITEM, "answer": "maybe"},
        {"item": "tests.unit", "answer": "yes", "evidence_url": "not a url"},
    ]
    response = client.post(_answers_url(version), malformed, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"answers[1].answer", "answers[2].evidence_url"}

    breaking_rules = [
        {"item": PLAIN_ITEM, "answer": "yes"},
        {"item": EVIDENCE_ITEM, "answer": "yes"},
        {"item": "tests.unit", "answer": "not_applicable"},
    ]
    response = client.post(_answers_url(version), breaking_rules, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"answers[1].evidence_text", "answers[2].note"}
    assert not ChecklistAnswer.objects.exists()


def test_readiness_reads_a_fixed_number_of_queries_however_many_answers(api_as, owner, version):
    client = api_as(owner)
    client.post(_answers_url(version), {"item": PLAIN_ITEM, "answer": "no"}, format="json")
    with CaptureQueriesContext(connection) as few:
        assert client.get(_url(version)).status_code == 200
    keys = ChecklistItem.objects.filter(template__version=2).values_list("key", flat=True)
    rows = [{"item": key, "answer": "not_applicable", "note": "demo"} for key in keys]
    assert client.put(_answers_url(version), rows, format="json").status_code == 200
    with CaptureQueriesContext(connection) as many:
        assert client.get(_url(version)).status_code == 200
    assert len(many) == len(few)


def test_openapi_schema_lists_the_readiness_endpoints(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    for path in (
        b"/api/v1/readiness/templates/",
        b"/api/v1/versions/{id}/readiness/",
        b"/api/v1/versions/{id}/readiness/answers/",
    ):
        assert path in schema.content
