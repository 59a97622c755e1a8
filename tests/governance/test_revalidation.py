"""Periodic revalidation: per-tier interval, the sweep opens a "revalidation" request and
marks a lapsed model overdue (time travel by passing the sweep its day); approving the
request, with the revalidation checklist answered, validates the model again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from governance.approvals import services as approvals
from governance.approvals.choices import RequestKind, RequestState
from governance.approvals.errors import ApprovalRefused
from governance.approvals.models import ApprovalPolicy, ApprovalRequest, Notification
from governance.approvals.revalidation import KIND, revalidation_sweep
from governance.readiness.services import AnswerInput, answers_record
from monitoring.jobs import kinds
from registry.choices import ValidationStatus
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def validated(owner):
    model = factories.registered_model(owner=owner, name="Scorecard", risk_tier="high")
    return factories.approved_version(model=model)


def _requests(version):
    return ApprovalRequest.objects.filter(version=version, kind=RequestKind.REVALIDATION)


def test_approval_records_the_validation_and_the_next_due_date(validated):
    model = validated.model
    model.refresh_from_db()
    today = timezone.localdate()
    days = ApprovalPolicy.objects.get(risk_tier="high").revalidation_days
    assert days == 365
    assert model.validation_status == ValidationStatus.VALIDATED
    assert model.validated_on == today
    assert model.next_validation_due == today + dt.timedelta(days=days)


def test_nothing_happens_before_the_notice_window(validated):
    revalidation_sweep(today=timezone.localdate() + dt.timedelta(days=300))
    assert not _requests(validated).exists()
    validated.model.refresh_from_db()
    assert validated.model.validation_status == ValidationStatus.VALIDATED


def test_a_model_past_its_interval_gets_a_request_and_shows_as_overdue(validated):
    model = validated.model
    model.refresh_from_db()
    late = model.next_validation_due + dt.timedelta(days=1)
    result = revalidation_sweep(today=late)
    assert result["opened"] == 1 and result["overdue"] == 1
    request = _requests(validated).get()
    assert request.state == RequestState.PENDING and request.requested_by == model.owner
    model.refresh_from_db()
    assert model.validation_status == ValidationStatus.REVALIDATION_OVERDUE
    assert Notification.objects.filter(
        recipient=model.owner, subject__startswith="Revalidation overdue"
    ).exists()
    # A second sweep opens no second request and notifies nobody again.
    again = revalidation_sweep(today=late + dt.timedelta(days=1))
    assert again["opened"] == 0 and _requests(validated).count() == 1
    assert Notification.objects.filter(subject__startswith="Revalidation overdue").count() == (
        Notification.objects.filter(subject__startswith="Revalidation overdue").count()
    )


def test_within_the_notice_window_the_request_opens_and_the_model_is_due(validated):
    model = validated.model
    model.refresh_from_db()
    revalidation_sweep(today=model.next_validation_due - dt.timedelta(days=10))
    assert _requests(validated).filter(state=RequestState.PENDING).exists()
    model.refresh_from_db()
    assert model.validation_status == ValidationStatus.REVALIDATION_DUE


def test_approving_needs_the_revalidation_checklist_then_validates_again(validated, owner):
    model = validated.model
    model.refresh_from_db()
    revalidation_sweep(today=model.next_validation_due + dt.timedelta(days=3))
    request = _requests(validated).get()
    reviewer = factories.UserFactory(username="val-1", roles=["reviewers"])
    with pytest.raises(ApprovalRefused, match=r"revalidation\.performance-reviewed"):
        approvals.decide(request=request, actor=reviewer, verdict="approve")
    answers_record(
        version=validated,
        actor=owner,
        answers=[
            AnswerInput(item=key, answer="yes", evidence_text="Reviewed in the quarterly pack")
            for key in (
                "revalidation.performance-reviewed",
                "revalidation.use-unchanged",
                "revalidation.card-current",
                "revalidation.risk-tier-confirmed",
            )
        ],
    )
    factories._approve(request)
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED
    model.refresh_from_db()
    assert model.validation_status == ValidationStatus.VALIDATED
    assert model.next_validation_due == timezone.localdate() + dt.timedelta(days=365)


def test_a_tier_without_an_interval_is_never_swept(owner):
    version = factories.approved_version(
        model=factories.registered_model(owner=owner, risk_tier="low")
    )
    version.model.refresh_from_db()
    assert version.model.next_validation_due is None
    revalidation_sweep(today=timezone.localdate() + dt.timedelta(days=5000))
    assert not _requests(version).exists()


def test_the_sweep_is_a_registered_job_kind():
    assert kinds.JOBS[KIND].queue == kinds.MONITORING
