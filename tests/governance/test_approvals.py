"""The approval workflow: policies, separation of duties, digest binding, the production gate."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError

from governance.approvals import services
from governance.approvals.choices import RequestState
from governance.approvals.errors import ApprovalRefused
from governance.approvals.models import ApprovalDecision, ApprovalPolicy, Notification
from governance.approvals.selectors import approval_progress, inbox
from governance.models import AuditEvent
from registry import services as registry
from registry.choices import Stage
from registry.errors import InvalidTransition
from registry.roles import ADMINS, REVIEWERS
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_readiness_gate(db):
    """Readiness gating has its own test below; here it would only add set-up."""
    ApprovalPolicy.objects.update(require_readiness=False)


def _reviewer(name: str, *groups: str):
    return factories.UserFactory(
        username=name, email=f"{name}@example.org", roles=list(groups) or [REVIEWERS]
    )


def _version_with_artifact(model):
    version = factories.model_version(model=model)
    registry.artifact_upload(
        version=version,
        actor=model.owner,
        upload=factories.binary_upload(b"weights-1"),
        kind="model",
    )
    return version


def test_low_tier_version_is_approved_by_one_reviewer(model_a, reviewer):
    version = _version_with_artifact(model_a)
    request = services.request_version_approval(version=version, actor=model_a.owner)
    version.refresh_from_db()
    assert version.stage == Stage.PENDING_REVIEW
    assert request.get_state_display() == "Pending manual approval"
    services.decide(request=request, actor=reviewer, verdict="approve", comment="looks right")
    request.refresh_from_db()
    version.refresh_from_db()
    assert (request.state, version.stage) == (RequestState.APPROVED, Stage.APPROVED)
    decision = ApprovalDecision.objects.get()
    assert decision.manifest_digest == request.manifest_digest != ""


def test_the_owner_may_not_approve_their_own_model(model_a, owner):
    ApprovalPolicy.objects.filter(risk_tier="medium").update(separation_of_duties=True)
    colleague = factories.UserFactory(username="carl")
    from guardian.shortcuts import assign_perm

    assign_perm("registry.change_registeredmodel", colleague, model_a)
    request = services.request_version_approval(
        version=_version_with_artifact(model_a), actor=colleague
    )
    owner.groups.add(Group.objects.get(name=REVIEWERS))
    owner = type(owner).objects.get(pk=owner.pk)  # drop the cached permissions
    with pytest.raises(PermissionDenied, match="separation of duties: you own"):
        services.decide(request=request, actor=owner, verdict="approve")


def test_the_requester_may_not_approve_their_request(model_a, reviewer):
    from guardian.shortcuts import assign_perm

    assign_perm("registry.change_registeredmodel", reviewer, model_a)
    request = services.request_version_approval(
        version=_version_with_artifact(model_a), actor=reviewer
    )
    with pytest.raises(PermissionDenied, match="you requested this approval"):
        services.decide(request=request, actor=reviewer, verdict="approve")


def test_a_user_without_approve_rights_is_refused(model_a, outsider):
    request = services.request_version_approval(
        version=_version_with_artifact(model_a), actor=model_a.owner
    )
    with pytest.raises(PermissionDenied):
        services.decide(request=request, actor=outsider, verdict="approve")


def test_high_tier_needs_two_distinct_approvers(owner):
    model = factories.registered_model(owner=owner, name="Loans", risk_tier="high")
    request = services.request_version_approval(version=_version_with_artifact(model), actor=owner)
    first, second = _reviewer("r1"), _reviewer("r2")
    services.decide(request=request, actor=first, verdict="approve")
    request.refresh_from_db()
    assert request.state == RequestState.PENDING
    with pytest.raises(ApprovalRefused, match="already decided"):
        services.decide(request=request, actor=first, verdict="approve")
    services.decide(request=request, actor=second, verdict="approve")
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED


def test_critical_tier_needs_each_required_group(owner):
    model = factories.registered_model(owner=owner, name="Triage", risk_tier="critical")
    request = services.request_version_approval(version=_version_with_artifact(model), actor=owner)
    services.decide(request=request, actor=_reviewer("r1"), verdict="approve")
    services.decide(request=request, actor=_reviewer("r2"), verdict="approve")
    request.refresh_from_db()
    progress = approval_progress(request)
    assert request.state == RequestState.PENDING and progress.missing_groups == [ADMINS]
    services.decide(request=request, actor=_reviewer("boss", ADMINS), verdict="approve")
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED


def test_rejection_needs_a_comment_and_rejects_the_version(model_a, reviewer):
    version = _version_with_artifact(model_a)
    request = services.request_version_approval(version=version, actor=model_a.owner)
    with pytest.raises(ValidationError) as err:
        services.decide(request=request, actor=reviewer, verdict="reject", comment="  ")
    assert "comment" in err.value.error_dict
    services.decide(request=request, actor=reviewer, verdict="reject", comment="no fairness test")
    version.refresh_from_db()
    request.refresh_from_db()
    assert (request.state, version.stage) == (RequestState.REJECTED, Stage.REJECTED)


def test_decisions_cannot_be_edited(model_a, reviewer):
    request = services.request_version_approval(
        version=_version_with_artifact(model_a), actor=model_a.owner
    )
    services.decide(request=request, actor=reviewer, verdict="approve")
    decision = ApprovalDecision.objects.get()
    decision.comment = "rewritten"
    with pytest.raises(PermissionError):
        decision.save()
    with pytest.raises(PermissionError):
        ApprovalDecision.objects.update(verdict="reject")


def test_a_changed_artifact_voids_earlier_approvals_and_asks_again(owner):
    model = factories.registered_model(owner=owner, name="Loans", risk_tier="high")
    version = _version_with_artifact(model)
    request = services.request_version_approval(version=version, actor=owner)
    first, second = _reviewer("r1"), _reviewer("r2")
    services.decide(request=request, actor=first, verdict="approve")
    artifact = version.artifacts.get(kind="model")
    registry.artifact_delete(artifact=artifact, actor=owner)
    registry.artifact_upload(
        version=version, actor=owner, upload=factories.binary_upload(b"weights-2"), kind="model"
    )
    request.refresh_from_db()
    assert approval_progress(request).voided == 1
    assert Notification.objects.filter(recipient=first, subject__contains="manifest").exists()
    services.decide(request=request, actor=second, verdict="approve")
    request.refresh_from_db()
    assert request.state == RequestState.PENDING  # the first approval was of another manifest
    services.decide(request=request, actor=first, verdict="approve")  # on the new one
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED


def test_a_manifest_changed_behind_the_registrys_back_cannot_be_approved(model_a, reviewer):
    version = _version_with_artifact(model_a)
    request = services.request_version_approval(version=version, actor=model_a.owner)
    version.artifacts.filter(kind="model").update(name="other.joblib")
    with pytest.raises(ApprovalRefused, match="manifest changed"):
        services.decide(request=request, actor=reviewer, verdict="approve")


def test_changing_an_approved_versions_artifact_voids_its_approval_for_production(
    model_a, reviewer
):
    version = _version_with_artifact(model_a)
    request = services.request_version_approval(version=version, actor=model_a.owner)
    services.decide(request=request, actor=reviewer, verdict="approve")
    # The registry refuses to change a frozen artifact; this is a change behind its back.
    version.artifacts.filter(kind="model").update(sha256="f" * 64)
    with pytest.raises(InvalidTransition, match="approval does not hold"):
        registry.deployment_create(
            version=version,
            actor=model_a.owner,
            environment="production",
            endpoint="https://p.example.org",
        )


def test_production_is_reached_only_through_an_approved_request(model_a, reviewer):
    version = _version_with_artifact(model_a)
    services.decide(
        request=services.request_version_approval(version=version, actor=model_a.owner),
        actor=reviewer,
        verdict="approve",
    )
    endpoint = "https://serving.example.org/credit"
    with pytest.raises(InvalidTransition, match="production is protected"):
        registry.deployment_create(
            version=version, actor=model_a.owner, environment="production", endpoint=endpoint
        )
    request = services.request_production_deployment(
        version=version, actor=model_a.owner, endpoint=endpoint
    )
    services.decide(request=request, actor=reviewer, verdict="approve")
    request.refresh_from_db()
    deployment = request.deployment
    assert deployment is not None and deployment.environment == "production"
    assert deployment.deployed_by == model_a.owner
    # The approved request is used up: a second deployment needs a new request.
    with pytest.raises(InvalidTransition, match="production is protected"):
        registry.deployment_create(
            version=version,
            actor=model_a.owner,
            environment="production",
            endpoint=endpoint,
            replaces=deployment,
        )


def test_a_superuser_cannot_skip_the_production_gate(model_a, admin, reviewer):
    version = _version_with_artifact(model_a)
    services.decide(
        request=services.request_version_approval(version=version, actor=model_a.owner),
        actor=reviewer,
        verdict="approve",
    )
    with pytest.raises(InvalidTransition, match="production is protected"):
        registry.deployment_create(
            version=version, actor=admin, environment="production", endpoint="https://p.example.org"
        )


def test_approvers_are_notified_in_app_and_by_email(
    model_a, reviewer, mailoutbox, django_capture_on_commit_callbacks
):
    reviewer.email = "rita@example.org"
    reviewer.save()
    with django_capture_on_commit_callbacks(execute=True):
        request = services.request_version_approval(
            version=_version_with_artifact(model_a), actor=model_a.owner
        )
    note = Notification.objects.get(recipient=reviewer)
    assert str(request.version) in note.subject
    assert note.url == f"/governance/approvals/{request.pk}/"
    assert [m.to for m in mailoutbox] == [["rita@example.org"]]
    assert not Notification.objects.filter(recipient=model_a.owner).exists()


def test_inbox_shows_what_waits_for_me_only(model_a, model_b, reviewer):
    mine = services.request_version_approval(
        version=_version_with_artifact(model_a), actor=model_a.owner
    )
    assert list(inbox(user=reviewer)) == [mine]
    assert list(inbox(user=model_a.owner)) == []
    services.decide(request=mine, actor=reviewer, verdict="approve")
    assert list(inbox(user=reviewer)) == []


def test_withdraw_returns_the_version_to_draft(model_a, reviewer):
    version = _version_with_artifact(model_a)
    request = services.request_version_approval(version=version, actor=model_a.owner)
    with pytest.raises(PermissionDenied):
        services.withdraw(request=request, actor=reviewer)
    services.withdraw(request=request, actor=model_a.owner)
    version.refresh_from_db()
    request.refresh_from_db()
    assert (request.state, version.stage) == (RequestState.WITHDRAWN, Stage.DRAFT)


def test_an_expired_request_is_closed_and_refuses_decisions(model_a, reviewer):
    from datetime import timedelta

    from django.utils import timezone

    request = services.request_version_approval(
        version=_version_with_artifact(model_a), actor=model_a.owner
    )
    type(request).objects.filter(pk=request.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    with pytest.raises(ApprovalRefused, match="expired"):
        services.decide(request=request, actor=reviewer, verdict="approve")
    request.refresh_from_db()
    assert request.state == RequestState.EXPIRED
    assert AuditEvent.objects.filter(action="governance.approval.version.expired").exists()


def test_a_version_without_a_model_artifact_cannot_be_submitted(model_a):
    with pytest.raises(ApprovalRefused, match="no model artifact"):
        services.request_version_approval(
            version=factories.model_version(model=model_a), actor=model_a.owner
        )


def test_approval_is_refused_while_required_checklist_items_are_open(model_a, reviewer):
    ApprovalPolicy.objects.update(require_readiness=True)
    version = _version_with_artifact(model_a)
    request = services.request_version_approval(version=version, actor=model_a.owner)
    with pytest.raises(ApprovalRefused, match="required readiness items are open: ") as err:
        services.decide(request=request, actor=reviewer, verdict="approve")
    from governance.readiness.selectors import open_required_items

    keys = [item.key for item in open_required_items(version=version)]
    assert keys and all(key in str(err.value) for key in keys)
    assert factories.answer_required_items(version) == len(keys)
    services.decide(request=request, actor=reviewer, verdict="approve")
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED
