"""The approval workflow through the REST API."""

from __future__ import annotations

import pytest

from registry import services as registry
from tests import factories

pytestmark = pytest.mark.django_db


def _ready_version(model):
    version = factories.model_version(model=model)
    registry.artifact_upload(
        version=version, actor=model.owner, upload=factories.binary_upload(), kind="model"
    )
    factories.answer_required_items(version)
    return version


def test_request_decide_and_inbox_through_the_api(api_as, model_a, reviewer):
    version = _ready_version(model_a)
    opened = api_as(model_a.owner).post(
        "/api/v1/approvals/", {"kind": "version", "version": version.pk}, format="json"
    )
    assert opened.status_code == 201, opened.content
    body = opened.json()
    # A code for programs, words beside it for people.
    assert (body["state"], body["state_label"]) == ("pending", "Pending manual approval")
    assert (body["kind"], body["kind_label"]) == ("version", "Version approval")
    assert body["manifest_digest"] and body["digest_scheme"] == "manifest-v1"
    assert [a["kind"] for a in body["manifest"]["artifacts"]] == ["model"]
    assert body["progress"] == {
        "approvals": 0,
        "needed": 1,
        "missing_groups": ["reviewers"],
        "voided": 0,
        "complete": False,
    }
    client = api_as(reviewer)
    inbox = client.get("/api/v1/approvals/inbox/").json()
    assert [r["id"] for r in inbox["results"]] == [body["id"]]
    decided = client.post(
        f"/api/v1/approvals/{body['id']}/decide/",
        {"verdict": "approve", "comment": "ok"},
        format="json",
    )
    assert decided.status_code == 200, decided.content
    assert decided.json()["state"] == "approved"
    assert decided.json()["decisions"][0]["manifest_digest"] == body["manifest_digest"]
    assert decided.json()["decisions"][0]["verdict_label"] == "Approve"


def test_owner_deciding_gets_403_with_the_rule(api_as, model_a, reviewer):
    version = _ready_version(model_a)
    opened = (
        api_as(model_a.owner)
        .post("/api/v1/approvals/", {"kind": "version", "version": version.pk}, format="json")
        .json()
    )
    response = api_as(model_a.owner).post(
        f"/api/v1/approvals/{opened['id']}/decide/", {"verdict": "approve"}, format="json"
    )
    assert response.status_code == 403


def test_rejection_without_comment_is_400_naming_comment(api_as, model_a, reviewer):
    version = _ready_version(model_a)
    opened = (
        api_as(model_a.owner)
        .post("/api/v1/approvals/", {"kind": "version", "version": version.pk}, format="json")
        .json()
    )
    response = api_as(reviewer).post(
        f"/api/v1/approvals/{opened['id']}/decide/", {"verdict": "reject"}, format="json"
    )
    assert response.status_code == 400 and "comment" in response.json()


def test_production_through_an_approved_request_via_the_api(api_as, model_a, reviewer):
    version = factories.approved_version(model=model_a)
    opened = api_as(model_a.owner).post(
        "/api/v1/approvals/",
        {
            "kind": "production",
            "version": version.pk,
            "endpoint": "https://serving.example.org/credit",
            "decision_threshold": "0.4",
        },
        format="json",
    )
    assert opened.status_code == 201, opened.content
    decided = (
        api_as(reviewer)
        .post(
            f"/api/v1/approvals/{opened.json()['id']}/decide/",
            {"verdict": "approve"},
            format="json",
        )
        .json()
    )
    assert decided["state"] == "approved" and decided["deployment"]
    deployment = api_as(model_a.owner).get(f"/api/v1/deployments/{decided['deployment']}/")
    assert deployment.json()["environment"] == "production"


def test_outsider_gets_404_for_requests_of_other_teams(api_as, model_a, outsider):
    version = _ready_version(model_a)
    opened = (
        api_as(model_a.owner)
        .post("/api/v1/approvals/", {"kind": "version", "version": version.pk}, format="json")
        .json()
    )
    client = api_as(outsider)
    assert client.get(f"/api/v1/approvals/{opened['id']}/").status_code == 404
    assert client.get("/api/v1/approvals/").json()["count"] == 0
    assert (
        client.post(
            f"/api/v1/approvals/{opened['id']}/decide/", {"verdict": "approve"}, format="json"
        ).status_code
        == 404
    )


def test_policies_are_listed(api_as, outsider):
    tiers = [p["risk_tier"] for p in api_as(outsider).get("/api/v1/approval-policies/").json()]
    assert sorted(tiers) == ["critical", "high", "low", "medium"]
