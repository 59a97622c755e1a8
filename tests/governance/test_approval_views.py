"""The reviewer workspace pages: inbox, request detail with checklist, decision form."""

from __future__ import annotations

import pytest
from django.urls import reverse

from governance.approvals import services
from governance.approvals.choices import RequestState
from registry import services as registry
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(model_a):
    version = factories.model_version(model=model_a)
    registry.artifact_upload(
        version=version, actor=model_a.owner, upload=factories.binary_upload(), kind="model"
    )
    factories.answer_required_items(version)
    return services.request_version_approval(
        version=version, actor=model_a.owner, comment="ready for review"
    )


def test_reviewer_sees_the_request_in_the_inbox_and_approves_it(client, reviewer, pending):
    client.force_login(reviewer)
    inbox = client.get(reverse("approvals:inbox"))
    assert inbox.status_code == 200
    assert f"#{pending.pk}" in inbox.content.decode()
    detail = client.get(reverse("approvals:request-detail", args=[pending.pk]))
    html = detail.content.decode()
    # The state reads as words, never as an enum name.
    assert "Pending manual approval" in html and "PendingManualApproval" not in html
    assert "Readiness checklist" in html
    assert "Release manifest" in html and pending.manifest_digest in html
    assert "Record decision" in html
    response = client.post(
        reverse("approvals:decide", args=[pending.pk]),
        {"verdict": "approve", "comment": "fine"},
        follow=True,
    )
    assert "decision on request" in response.content.decode()
    pending.refresh_from_db()
    assert pending.state == RequestState.APPROVED


def test_owner_sees_no_decision_form_and_a_forced_post_is_refused(client, pending, model_a):
    client.force_login(model_a.owner)
    detail = client.get(reverse("approvals:request-detail", args=[pending.pk]))
    assert "Record decision" not in detail.content.decode()
    response = client.post(
        reverse("approvals:decide", args=[pending.pk]), {"verdict": "approve"}, follow=True
    )
    assert (
        "may not approve" in response.content.decode()
        or "separation of duties" in response.content.decode()
    )
    pending.refresh_from_db()
    assert pending.state == RequestState.PENDING


def test_rejection_without_comment_shows_the_reason(client, reviewer, pending):
    client.force_login(reviewer)
    response = client.post(
        reverse("approvals:decide", args=[pending.pk]),
        {"verdict": "reject", "comment": ""},
        follow=True,
    )
    assert "needs a comment" in response.content.decode()


def test_outsider_gets_404_for_a_request(client, outsider, pending):
    client.force_login(outsider)
    assert client.get(reverse("approvals:request-detail", args=[pending.pk])).status_code == 404
    assert f"#{pending.pk}" not in client.get(reverse("approvals:request-list")).content.decode()


def test_owner_opens_a_request_from_the_form(client, model_a):
    version = factories.model_version(model=model_a)
    registry.artifact_upload(
        version=version, actor=model_a.owner, upload=factories.binary_upload(), kind="model"
    )
    client.force_login(model_a.owner)
    url = reverse("approvals:request-new", args=[version.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"kind": "version", "comment": "please"})
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.stage == "pending_review"


def test_production_request_form_needs_an_endpoint(client, model_a):
    version = factories.approved_version(model=model_a)
    client.force_login(model_a.owner)
    response = client.post(
        reverse("approvals:request-new", args=[version.pk]), {"kind": "production"}
    )
    assert response.status_code == 200
    assert "needs an endpoint" in response.content.decode()


def test_the_ui_refuses_a_production_request_for_an_unapproved_version(client, model_a):
    version = factories.model_version(model=model_a)
    registry.artifact_upload(
        version=version, actor=model_a.owner, upload=factories.binary_upload(), kind="model"
    )
    client.force_login(model_a.owner)
    response = client.post(
        reverse("approvals:request-new", args=[version.pk]),
        {"kind": "production", "endpoint": "https://p.example.org/x"},
    )
    assert response.status_code == 200
    assert "must be approved before it can go to production" in response.content.decode()
    assert not version.deployments.exists()


def test_the_admin_offers_no_way_to_add_a_deployment(client, admin):
    client.force_login(admin)
    assert client.get("/admin/registry/deployment/add/").status_code == 403
