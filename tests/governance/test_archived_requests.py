"""An archived version can be neither approved nor deployed through a request left open.

Found walking the web UI (#17): archiving a version under review left its approval request
pending, and reviewers could still approve it; a pending production request of an archived
version would have deployed it once approved. Archiving now withdraws every pending request of
the version in the same transaction, and a decision on a version that is archived by any path
is refused (the guard for the class: a request is decided only on a live version).
"""

from __future__ import annotations

import pytest

from governance.approvals import services
from governance.approvals.choices import RequestState
from governance.approvals.errors import ApprovalRefused
from governance.models import AuditEvent
from registry import services as registry
from registry.choices import Stage
from registry.models import Deployment, ModelVersion
from tests import factories

pytestmark = pytest.mark.django_db


def _under_review(model):
    version = factories.model_version(model=model)
    registry.artifact_upload(
        version=version, actor=model.owner, upload=factories.binary_upload(b"w"), kind="model"
    )
    factories.answer_required_items(version)
    return version, services.request_version_approval(version=version, actor=model.owner)


def test_archiving_a_version_under_review_withdraws_its_request(model_a, reviewer):
    version, request = _under_review(model_a)

    registry.version_archive(version=version, actor=model_a.owner)

    request.refresh_from_db()
    version.refresh_from_db()
    assert request.state == RequestState.WITHDRAWN
    assert request.closed_at is not None
    assert version.stage == Stage.ARCHIVED
    entry = AuditEvent.objects.get(action="governance.approval.version.withdrawn")
    assert entry.target_id == str(request.pk)
    assert entry.after["reason"] == "the version was archived"
    with pytest.raises(ApprovalRefused, match=r"(?i)withdrawn"):
        services.decide(request=request, actor=reviewer, verdict="approve")
    version.refresh_from_db()
    assert version.stage == Stage.ARCHIVED


def test_archiving_an_approved_version_withdraws_its_production_request(model_a, reviewer):
    version = factories.approved_version(model=model_a)
    request = services.request_production_deployment(
        version=version, actor=model_a.owner, endpoint="https://serving.example.org/credit"
    )

    registry.version_archive(version=version, actor=model_a.owner)

    request.refresh_from_db()
    assert request.state == RequestState.WITHDRAWN
    with pytest.raises(ApprovalRefused):
        services.decide(request=request, actor=reviewer, verdict="approve")
    assert not Deployment.objects.filter(version=version).exists()


def test_no_decision_is_taken_on_an_archived_version_whatever_archived_it(model_a, reviewer):
    """The class guard: a version archived by a path that skips the hook (a data fix, a
    future service) still cannot be approved through its old request."""
    version, request = _under_review(model_a)
    ModelVersion.objects.filter(pk=version.pk).update(stage=Stage.ARCHIVED)

    with pytest.raises(ApprovalRefused, match="archived"):
        services.decide(request=request, actor=reviewer, verdict="approve")
    with pytest.raises(ApprovalRefused, match="archived"):
        services.decide(request=request, actor=reviewer, verdict="reject", comment="no")
    request.refresh_from_db()
    assert request.state == RequestState.PENDING
    assert not request.decisions.exists()


def test_a_rolled_back_archive_keeps_the_request_open(model_a, monkeypatch):
    """Withdrawal and archive commit together: when the archive fails, the request stays."""
    version, request = _under_review(model_a)
    from registry.services import versions

    def refuse(version):
        raise ApprovalRefused("refused for the test")

    monkeypatch.setattr(versions, "_refuse_if_serving_production", refuse)
    with pytest.raises(ApprovalRefused):
        registry.version_archive(version=version, actor=model_a.owner)
    request.refresh_from_db()
    assert request.state == RequestState.PENDING
