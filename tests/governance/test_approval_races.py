"""Two reviewers deciding at the same instant: one completes the request, nothing counts twice."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from governance.approvals import services
from governance.approvals.choices import RequestState
from governance.approvals.models import ApprovalDecision, ApprovalPolicy, ApprovalRequest
from governance.models import AuditEvent
from registry import services as registry
from registry.models import Deployment
from registry.roles import REVIEWERS
from tests import factories
from tests.conftest import on_postgresql

THREADS = 6


def _race(calls):
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []

    def run(call):
        try:
            barrier.wait(timeout=10)
            call()
            outcomes.append("ok")
        except Exception as exc:  # collected and asserted by the caller
            outcomes.append(type(exc).__name__)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


@pytest.fixture
def racing_request(transactional_db):
    if not on_postgresql():
        pytest.skip("row-lock races are a PostgreSQL matter; SQLite serialises writers")
    ApprovalPolicy.objects.update(require_readiness=False)
    model = factories.registered_model(name="Loans", risk_tier="high")
    version = factories.model_version(model=model)
    registry.artifact_upload(
        version=version, actor=model.owner, upload=factories.binary_upload(), kind="model"
    )
    request = services.request_version_approval(version=version, actor=model.owner)
    reviewers = [
        factories.UserFactory(username=f"rev{i}", roles=[REVIEWERS]) for i in range(THREADS + 1)
    ]
    services.decide(request=request, actor=reviewers[0], verdict="approve")
    return request, reviewers[1:]


def test_concurrent_last_approvals_complete_the_request_once(racing_request):
    request, reviewers = racing_request
    outcomes = _race(
        [
            (lambda r=r: services.decide(request=request, actor=r, verdict="approve"))
            for r in reviewers
        ]
    )
    assert outcomes.count("ok") == 1, outcomes
    assert set(outcomes) == {"ok", "ApprovalRefused"}
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED
    assert ApprovalDecision.objects.filter(request=request).count() == 2
    assert AuditEvent.objects.filter(action="governance.approval.version.approved").count() == 1


def test_one_reviewer_clicking_twice_is_counted_once(racing_request):
    request, reviewers = racing_request
    ApprovalRequest.objects.filter(pk=request.pk).update(
        policy=request.policy | {"min_approvals": 3}
    )
    outcomes = _race(
        [
            (lambda: services.decide(request=request, actor=reviewers[0], verdict="approve"))
            for _ in range(THREADS)
        ]
    )
    assert outcomes.count("ok") == 1, outcomes
    assert ApprovalDecision.objects.filter(request=request, reviewer=reviewers[0]).count() == 1


def test_concurrent_production_approvals_deploy_once(racing_request):
    request, reviewers = racing_request
    services.decide(request=request, actor=reviewers[0], verdict="approve")
    version = request.version
    prod = services.request_production_deployment(
        version=version, actor=version.model.owner, endpoint="https://p.example.org/loans"
    )
    services.decide(request=prod, actor=reviewers[1], verdict="approve")
    outcomes = _race(
        [
            (lambda r=r: services.decide(request=prod, actor=r, verdict="approve"))
            for r in reviewers[2:]
        ]
    )
    assert outcomes.count("ok") == 1, outcomes
    assert Deployment.objects.filter(version=version, environment="production").count() == 1
