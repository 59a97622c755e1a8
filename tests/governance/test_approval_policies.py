"""Issue #11: approval policies are edited by admins only (API and Django admin), each change
audited and versioned; an open request keeps the policy version it was opened under."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from governance.approvals import policies, services
from governance.approvals.choices import RequestState
from governance.approvals.models import ApprovalPolicy, ApprovalPolicyVersion
from governance.models import AuditEvent
from registry import services as registry
from registry.roles import ADMINS, REVIEWERS
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def medium():
    return ApprovalPolicy.objects.get(risk_tier="medium")


def test_every_tier_starts_at_a_stored_version_1(medium):
    assert medium.version == 1
    assert ApprovalPolicyVersion.objects.filter(number=1).count() == 4


def test_admin_changes_a_policy_through_the_api_and_it_is_versioned_and_audited(
    api_as, admin, medium
):
    url = "/api/v1/approval-policies/medium/"
    response = api_as(admin).patch(
        url, {"min_approvals": 2, "reason": "two pairs of eyes"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["version"], response.json()["min_approvals"]) == (2, 2)
    versions = api_as(admin).get(url + "versions/").json()
    assert [(v["number"], v["snapshot"]["min_approvals"]) for v in versions] == [(2, 2), (1, 1)]
    assert versions[0]["reason"] == "two pairs of eyes" and versions[0]["changed_by"] == "ada"
    event = AuditEvent.objects.get(action="governance.approval.policy.changed")
    assert (event.before["min_approvals"], event.after["min_approvals"]) == (1, 2)
    # Saving the same values again is no new version.
    api_as(admin).patch(url, {"min_approvals": 2}, format="json")
    assert ApprovalPolicy.objects.get(risk_tier="medium").version == 2


def test_only_admins_may_change_policies(api_as, owner, reviewer, medium):
    url = "/api/v1/approval-policies/medium/"
    for user in (owner, reviewer):
        assert api_as(user).patch(url, {"min_approvals": 5}, format="json").status_code == 403
    with pytest.raises(PermissionDenied):
        policies.policy_update(policy=medium, actor=reviewer, min_approvals=3)
    boss = factories.UserFactory(username="boss", roles=[ADMINS])
    assert policies.policy_update(policy=medium, actor=boss, min_approvals=3).version == 2


def test_a_policy_needs_at_least_one_approval(api_as, admin):
    response = api_as(admin).patch(
        "/api/v1/approval-policies/low/", {"min_approvals": 0}, format="json"
    )
    assert response.status_code == 400 and "min_approvals" in response.json()


def test_an_open_request_keeps_the_policy_version_it_was_opened_under(model_a, admin, medium):
    ApprovalPolicy.objects.update(require_readiness=False)
    version = factories.model_version(model=model_a)
    registry.artifact_upload(
        version=version, actor=model_a.owner, upload=factories.binary_upload(), kind="model"
    )
    request = services.request_version_approval(version=version, actor=model_a.owner)
    assert request.policy_version == 1
    policies.policy_update(policy=medium, actor=admin, min_approvals=3, reason="stricter")
    services.decide(
        request=request,
        actor=factories.UserFactory(username="r1", roles=[REVIEWERS]),
        verdict="approve",
    )
    request.refresh_from_db()
    assert (request.state, request.policy_version) == (RequestState.APPROVED, 1)


def test_the_django_admin_edits_a_policy_through_the_audited_service(client, admin, medium):
    client.force_login(admin)
    url = f"/admin/approvals/approvalpolicy/{medium.pk}/change/"
    assert client.get(url).status_code == 200
    reviewers = medium.required_groups.get().pk
    response = client.post(
        url,
        {
            "required_groups": [reviewers],
            "min_approvals": 2,
            "separation_of_duties": "on",
            "require_readiness": "on",
            "expiry_days": 30,
            "reason": "edited in the admin",
        },
    )
    assert response.status_code == 302, response.content
    medium.refresh_from_db()
    assert (medium.version, medium.min_approvals) == (2, 2)
    event = AuditEvent.objects.get(action="governance.approval.policy.changed")
    assert event.actor_name == "ada" and event.after["reason"] == "edited in the admin"


@pytest.mark.parametrize("name", ["bad\x00name", "nobody-has-this-group"])
def test_required_groups_are_names_checked_before_any_lookup(api_as, admin, medium, name):
    # A NUL in a group name reached PostgreSQL's comparison (a 500, found by the fuzz test on
    # its PostgreSQL run).
    response = api_as(admin).patch(
        f"/api/v1/approval-policies/{medium.risk_tier}/",
        {"required_groups": [name], "reason": "fuzz"},
        format="json",
    )
    assert response.status_code == 400 and "required_groups" in response.json()
