"""Issue #19, second attack round, findings 1, 2 and 8: each attack replayed as it was run.

1. An approval must bind everything that ships (the release manifest), not the model
   artifact alone.
2. Lowering a model's risk tier is a governed change; a request keeps the strictest tier
   the model had while it was open.
8. Owners may not hand out approval rights.
"""

from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from governance.approvals import services
from governance.approvals.choices import RequestState
from governance.approvals.errors import ApprovalRefused
from governance.approvals.models import ApprovalRequest, Notification
from governance.approvals.selectors import approval_progress, inbox
from governance.models import AuditEvent
from registry import services as registry
from registry.choices import Stage
from registry.roles import ADMINS, REVIEWERS, RISK_OFFICERS
from tests import factories

pytestmark = pytest.mark.django_db


def _image(tag: str) -> str:
    return f"oci://registry.example.org/loans@sha256:{hashlib.sha256(tag.encode()).hexdigest()}"


def _reviewer(name: str, *groups: str):
    return factories.UserFactory(username=name, roles=list(groups) or [REVIEWERS])


@pytest.fixture
def high_model(owner):
    return factories.registered_model(owner=owner, name="Loans", risk_tier="high")


@pytest.fixture
def reviewed_version(high_model, owner):
    """A high-tier version as the reviewers first saw it: model file and serving image."""
    version = factories.model_version(model=high_model)
    registry.artifact_upload(
        version=version, actor=owner, upload=factories.binary_upload(b"weights"), kind="model"
    )
    registry.artifact_link(
        version=version, actor=owner, uri=_image("reviewed"), kind="image", name="serving-image"
    )
    factories.answer_required_items(version)
    return version


# --- finding 1: the approval binds the whole release manifest ----------------------------


def test_finding_1_artifacts_swapped_after_the_first_approval_are_never_approved_unseen(
    reviewed_version, owner
):
    request = services.request_version_approval(version=reviewed_version, actor=owner)
    first, second = _reviewer("r1"), _reviewer("r2")
    services.decide(request=request, actor=first, verdict="approve")

    # The data scientist adds a model artifact by URI with no sha256: refused while the
    # version is under approval (no digest Steward computed or found pinned).
    with pytest.raises(ApprovalRefused, match="model-v2"):
        registry.artifact_link(
            version=reviewed_version,
            actor=owner,
            uri="s3://models/loans/model-v2.bin",
            kind="model",
            name="model-v2",
        )
    assert not reviewed_version.artifacts.filter(name="model-v2").exists()

    # … deletes the reviewed serving image and adds another: allowed, but it is a new
    # manifest, which voids the first approval and tells the reviewers.
    registry.artifact_delete(
        artifact=reviewed_version.artifacts.get(name="serving-image"), actor=owner
    )
    registry.artifact_link(
        version=reviewed_version, actor=owner, uri=_image("swapped"), kind="image", name="img2"
    )
    request.refresh_from_db()
    assert approval_progress(request).voided == 1
    assert [a["name"] for a in request.manifest["artifacts"]] == ["img2", "model.joblib"]
    assert Notification.objects.filter(recipient=first, subject__contains="manifest").exists()
    assert AuditEvent.objects.filter(action="governance.approval.version.manifest_changed")

    # The second reviewer approves: one approval of the new manifest is not two.
    services.decide(request=request, actor=second, verdict="approve")
    request.refresh_from_db()
    reviewed_version.refresh_from_db()
    assert request.state == RequestState.PENDING
    assert reviewed_version.stage == Stage.PENDING_REVIEW
    # The first reviewer is asked again, and only their new approval completes it.
    assert request in inbox(user=first)
    services.decide(request=request, actor=first, verdict="approve")
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED


def test_a_version_with_an_unverified_artifact_cannot_be_requested(high_model, owner):
    version = factories.model_version(model=high_model)
    registry.artifact_upload(
        version=version, actor=owner, upload=factories.binary_upload(), kind="model"
    )
    # A sha256 sent with a plain URI is only the client's word.
    registry.artifact_link(
        version=version, actor=owner, uri="s3://b/image.tar", kind="image", sha256="a" * 64
    )
    with pytest.raises(ApprovalRefused, match=r"image\.tar"):
        services.request_version_approval(version=version, actor=owner)
    assert not ApprovalRequest.objects.exists()


def test_a_content_addressed_uri_pins_its_digest(model_a, owner):
    version = factories.model_version(model=model_a)
    pinned = registry.artifact_link(version=version, actor=owner, uri=_image("x"), kind="image")
    assert (pinned.sha256, pinned.digest_source) == (_image("x").rsplit(":", 1)[1], "pinned")
    with pytest.raises(ValidationError) as err:
        registry.artifact_link(
            version=version, actor=owner, uri=_image("y"), kind="image", sha256="b" * 64
        )
    assert "sha256" in err.value.error_dict


def test_a_non_model_artifact_changes_the_digest_a_decision_binds(reviewed_version, owner):
    request = services.request_version_approval(version=reviewed_version, actor=owner)
    before = request.manifest_digest
    registry.artifact_update(
        artifact=reviewed_version.artifacts.get(name="serving-image"),
        actor=owner,
        kind="other",
    )
    request.refresh_from_db()
    assert request.manifest_digest != before
    assert {a["kind"] for a in request.manifest["artifacts"]} == {"model", "other"}


def test_a_reviewer_who_saw_an_older_manifest_is_refused(reviewed_version, owner):
    request = services.request_version_approval(version=reviewed_version, actor=owner)
    seen = request.manifest_digest
    registry.artifact_delete(
        artifact=reviewed_version.artifacts.get(name="serving-image"), actor=owner
    )
    with pytest.raises(ApprovalRefused, match="changed after you loaded"):
        services.decide(
            request=request, actor=_reviewer("r1"), verdict="approve", manifest_digest=seen
        )


def test_an_approval_given_before_manifests_keeps_its_meaning(model_a):
    """A row from before the migration: bound to the model artifact only (legacy scheme)."""
    version = factories.approved_version(model=model_a)
    legacy = version.artifacts.get(kind="model").sha256
    ApprovalRequest.objects.filter(version=version).update(
        digest_scheme="model-artifacts", manifest_digest=legacy, manifest={}
    )
    deployment = factories.production_deployment(version=version)
    assert deployment.environment == "production"


def test_a_pending_request_from_before_manifests_must_be_reopened(model_a, reviewer):
    version = factories.model_version(model=model_a)
    registry.artifact_upload(
        version=version, actor=model_a.owner, upload=factories.binary_upload(), kind="model"
    )
    factories.answer_required_items(version)
    request = services.request_version_approval(version=version, actor=model_a.owner)
    ApprovalRequest.objects.filter(pk=request.pk).update(digest_scheme="model-artifacts")
    with pytest.raises(ApprovalRefused, match="withdraw it and open a new one"):
        services.decide(request=request, actor=reviewer, verdict="approve")


# --- finding 2: the risk tier is governed ----------------------------------------------


def test_finding_2_the_owner_cannot_lower_the_tier_to_dodge_the_second_approval(
    reviewed_version, owner, high_model
):
    with pytest.raises(PermissionDenied, match="admin or a risk officer"):
        registry.model_update(model=high_model, actor=owner, risk_tier="low")
    high_model.refresh_from_db()
    assert high_model.risk_tier == "high"
    request = services.request_version_approval(version=reviewed_version, actor=owner)
    assert (request.policy["risk_tier"], request.policy["min_approvals"]) == ("high", 2)
    services.decide(request=request, actor=_reviewer("r1"), verdict="approve")
    # Setting it "back" to high is no change at all.
    registry.model_update(model=high_model, actor=owner, risk_tier="high")
    request.refresh_from_db()
    assert request.state == RequestState.PENDING


def test_lowering_needs_a_reason_and_is_audited(high_model, admin):
    officer = factories.UserFactory(username="rolf", roles=[RISK_OFFICERS])
    with pytest.raises(ValidationError) as err:
        registry.model_set_risk_tier(model=high_model, actor=officer, risk_tier="low")
    assert "reason" in err.value.error_dict
    registry.model_set_risk_tier(
        model=high_model, actor=officer, risk_tier="medium", reason="scope narrowed"
    )
    registry.model_update(model=high_model, actor=admin, risk_tier="low", reason="sandbox only")
    events = AuditEvent.objects.filter(action="registry.model.risk_tier_changed")
    assert [(e.actor_name, e.before["risk_tier"], e.after) for e in events] == [
        ("rolf", "high", {"risk_tier": "medium", "reason": "scope narrowed"}),
        ("ada", "medium", {"risk_tier": "low", "reason": "sandbox only"}),
    ]


def test_a_request_keeps_the_strictest_tier_the_model_had_while_open(
    reviewed_version, owner, admin, high_model
):
    registry.model_set_risk_tier(model=high_model, actor=admin, risk_tier="low", reason="pilot")
    request = services.request_version_approval(version=reviewed_version, actor=owner)
    assert request.policy["risk_tier"] == "low"
    # Raising while open tightens the request (and tells the approvers) …
    registry.model_update(model=high_model, actor=owner, risk_tier="high")
    request.refresh_from_db()
    assert (request.policy["risk_tier"], request.policy["min_approvals"]) == ("high", 2)
    assert AuditEvent.objects.filter(action="governance.approval.version.tightened").exists()
    # … and lowering again does not loosen it.
    registry.model_set_risk_tier(model=high_model, actor=admin, risk_tier="low", reason="again")
    services.decide(request=request, actor=_reviewer("r1"), verdict="approve")
    request.refresh_from_db()
    assert request.state == RequestState.PENDING
    assert request.policy["risk_tier"] == "high"


def test_lowering_through_the_api_is_403_for_the_owner_and_asks_an_admin_for_a_reason(
    api_as, high_model, owner, admin
):
    url = f"/api/v1/models/{high_model.slug}/"
    assert api_as(owner).patch(url, {"risk_tier": "low"}, format="json").status_code == 403
    missing = api_as(admin).patch(url, {"risk_tier": "low"}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()
    done = api_as(admin).patch(url, {"risk_tier": "low", "reason": "pilot"}, format="json")
    assert done.status_code == 200 and done.json()["risk_tier"] == "low"


# --- finding 8: approval rights come from admins only -------------------------------------


def _holders(model, action: str) -> list[dict]:
    from governance.access import services as access

    return [g for g in access.access_list(model=model) if action in g["actions"]]


def test_finding_8_an_owner_cannot_grant_themselves_approve(api_as, model_a, owner):
    from governance.access import services as access

    with pytest.raises(PermissionDenied, match="only admins may grant approve"):
        access.access_grant(model=model_a, principal=owner, actions=["approve"], actor=owner)
    response = api_as(owner).post(
        f"/api/v1/models/{model_a.slug}/access/",
        {"user": owner.username, "actions": ["approve"]},
        format="json",
    )
    assert response.status_code == 400 and "actions" in response.json()
    assert not _holders(model_a, "approve")


def test_an_owners_grant_form_offers_view_and_change_only(client, model_a, owner, outsider):
    client.force_login(owner)
    html = client.get(f"/registry/models/{model_a.slug}/").content.decode()
    assert 'value="view"' in html and 'value="change"' in html
    assert 'value="approve"' not in html and 'value="deploy"' not in html
    response = client.post(
        reverse("governance:model-access", args=[model_a.slug]),
        {"principal": outsider.username, "kind": "user", "action": "approve", "change": "grant"},
    )
    assert response.status_code == 302
    assert not _holders(model_a, "approve")


def test_an_admin_grants_approve(model_a, outsider):
    from governance.access import services as access

    boss = factories.UserFactory(username="boss", roles=[ADMINS])
    held = access.access_grant(model=model_a, principal=outsider, actions=["approve"], actor=boss)
    assert held == ["approve"]
