"""The retraining loop: policy bounds (with a fixed `now`), Steward's refit with lineage and
comparison, approval before any deployment, the canary suggestion."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from sklearn.metrics import accuracy_score, roc_auc_score

from governance.approvals.models import ApprovalRequest
from governance.lineage.models import LineageEdge
from governance.models import AuditEvent
from governance.retraining import jobs, policies, services, triggers
from governance.retraining.choices import RunState, Trigger
from governance.retraining.models import RetrainingRun
from monitoring.models import DailyPerformance, DeploymentStatus, JobRun
from registry import services as registry
from registry.errors import InvalidTransition
from registry.models import Deployment
from tests.governance.retraining import builders

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def world(owner):
    return builders.sklearn_model(owner)


def _finished_run(world, *, started: dt.datetime) -> RetrainingRun:
    """A retraining the model went through before the test: its start counts for the bound."""
    return RetrainingRun.objects.create(
        model=world.model,
        trigger=Trigger.MANUAL,
        trainer="steward",
        state=RunState.APPROVED,
        requested_at=started,
        started_at=started,
        finished_at=started,
        base_version=world.version,
    )


def _accuracy_decay(deployment, *, day: dt.date, accuracy: float) -> None:
    DailyPerformance.objects.create(
        deployment=deployment,
        day=day,
        task="binary",
        predictions=100,
        labelled=100,
        metrics={"accuracy": accuracy},
    )


def _execute(run: RetrainingRun) -> RetrainingRun:
    """What the worker does with the run's job."""
    jobs.run_retraining(JobRun.objects.get(pk=run.job_id), lambda _: None)
    run.refresh_from_db()
    return run


def test_policy_changes_are_audited_and_errors_name_the_field(world, owner):
    with pytest.raises(ValidationError) as err:
        policies.policy_update(model=world.model, actor=owner, every_days=3, min_days=5)
    assert "min_days" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        policies.policy_update(model=world.model, actor=owner, trainer="webhook")
    assert {"trainer_url", "trainer_secret"} <= set(err.value.message_dict)
    policies.policy_update(
        model=world.model,
        actor=owner,
        trainer="webhook",
        trainer_url="https://trainer.example.org/hook",
        trainer_secret="s" * 32,
    )
    entry = AuditEvent.objects.filter(action="governance.retraining.policy.updated").get()
    assert entry.after["trainer_secret_set"] is True
    assert "s" * 32 not in str(entry.after) and "trainer_secret" not in entry.after


def test_only_who_may_change_the_model_edits_its_policy_or_asks_for_a_run(world, reviewer):
    with pytest.raises(PermissionDenied):
        policies.policy_update(model=world.model, actor=reviewer, every_days=30)
    policies.policy_update(model=world.model, actor=world.model.owner, every_days=30)
    with pytest.raises(PermissionDenied):
        services.run_request(model=world.model, actor=reviewer)


def test_a_trigger_inside_the_bound_is_deferred_never_dropped_then_runs_when_allowed(world, owner):
    policies.policy_update(
        model=world.model,
        actor=owner,
        min_days=5,
        metric_name="accuracy",
        metric_threshold=0.8,
        metric_window_days=3,
    )
    _finished_run(world, started=T0)
    _accuracy_decay(world.production, day=(T0 + dt.timedelta(days=1)).date(), accuracy=0.6)

    now = T0 + dt.timedelta(days=2)
    assert services.retraining_check(now=now)["triggered"] == 1
    run = RetrainingRun.objects.get(state=RunState.DEFERRED)
    assert run.trigger == Trigger.REALISED_METRIC and "0.600 < 0.8" in run.reason
    assert run.deferred_until == T0 + dt.timedelta(days=5)
    assert run.job_id is None and run.started_at is None
    assert AuditEvent.objects.filter(action="governance.retraining.run.deferred").count() == 1

    # Still inside the bound: the same trigger again is not a second run, a new kind of
    # trigger (a manual request) is recorded on the deferred run.
    later = T0 + dt.timedelta(days=4, hours=23)
    services.retraining_check(now=later)
    services.run_request(model=world.model, actor=owner, reason="urgent", now=later)
    run.refresh_from_db()
    assert RetrainingRun.objects.exclude(state=RunState.APPROVED).count() == 1
    assert run.state == RunState.DEFERRED
    assert [t["trigger"] for t in run.more_triggers] == [Trigger.MANUAL]

    allowed = T0 + dt.timedelta(days=5)
    assert services.retraining_check(now=allowed)["started"] == 1
    run.refresh_from_db()
    assert run.state == RunState.QUEUED and run.started_at == allowed
    assert run.window_end == allowed and run.window_start == allowed - dt.timedelta(days=30)
    assert JobRun.objects.get(pk=run.job_id).kind == jobs.RUN_KIND


def test_the_schedule_and_drift_trigger_and_no_bound_means_at_once(world, owner):
    policies.policy_update(model=world.model, actor=owner, every_days=30, on_drift=True)
    policy = world.model.retraining_policy
    registered = world.version.created_at
    assert triggers.triggers_firing(policy, now=registered + dt.timedelta(days=29)) == []
    DeploymentStatus.objects.create(
        deployment=world.production,
        accuracy_level="good",
        accuracy_reason="",
        drift_level="failing",
        drift_reason="x1 drifted (PSI 0.4)",
        service_health_level="good",
        service_health_reason="",
        computed_at=timezone.now(),
    )
    fired = dict(triggers.triggers_firing(policy, now=registered + dt.timedelta(days=31)))
    assert set(fired) == {Trigger.SCHEDULE, Trigger.DRIFT}
    assert "x1 drifted" in fired[Trigger.DRIFT]
    services.retraining_check(now=registered + dt.timedelta(days=31))
    run = RetrainingRun.objects.get()
    assert run.state == RunState.QUEUED  # no "not sooner than": queued at once
    assert [t["trigger"] for t in run.more_triggers] == [Trigger.DRIFT]


def test_the_estimated_metric_trigger_reads_the_estimation_selector(world, owner, monkeypatch):
    policies.policy_update(
        model=world.model,
        actor=owner,
        metric_name="accuracy",
        metric_threshold=0.8,
        metric_source="estimated",
    )
    policy = world.model.retraining_policy
    assert triggers.triggers_firing(policy, now=timezone.now()) == []  # no estimate: nothing
    monkeypatch.setattr(triggers, "estimated_metric_latest", lambda deployment, metric: 0.7)
    [(trigger, reason)] = triggers.triggers_firing(policy, now=timezone.now())
    assert trigger == Trigger.ESTIMATED_METRIC and "estimated accuracy 0.700 < 0.8" in reason


def test_stewards_refit_makes_a_version_with_lineage_comparison_and_an_approval_request(
    world, owner
):
    policies.policy_update(model=world.model, actor=owner, window_days=10)
    production = builders.labelled_traffic(
        world.production, days=5, per_day=60, end=timezone.now() - dt.timedelta(minutes=1)
    )
    run = _execute(services.run_request(model=world.model, actor=owner, reason="decay"))

    assert run.state == RunState.AWAITING_APPROVAL, run.error
    new = run.result_version
    assert new.number == world.version.number + 1 and new.stage == "pending_review"
    edges = set(
        LineageEdge.objects.filter(downstream_kind="version", downstream_id=new.pk).values_list(
            "upstream_kind", "upstream_id", "relation"
        )
    )
    assert ("version", world.version.pk, "derived_from") in edges
    assert ("dataset", run.training_dataset.pk, "trained_on") in edges
    assert LineageEdge.objects.filter(
        upstream_kind="dataset",
        upstream_id=world.dataset.pk,
        downstream_kind="dataset",
        downstream_id=run.training_dataset.pk,
        relation="derived_from",
    ).exists()
    assert run.training_dataset.name == world.dataset.name
    assert run.training_dataset.row_count == 240 + len(production)  # 80 % of 300 + production

    # Both versions scored on the same hold-out, figures as scikit-learn gives them.
    from governance.retraining.refit import holdout_split

    _, holdout = holdout_split(world.training)
    x, y = holdout[builders.FEATURES], holdout["y"]
    comparison = run.comparison
    assert comparison["holdout"]["rows"] == len(holdout) == 60
    assert comparison["rows"] == {"original": 240, "production": 300, "total": 540}
    assert comparison["previous"]["accuracy"] == pytest.approx(
        accuracy_score(y, world.estimator.predict(x))
    )
    assert comparison["previous"]["roc_auc"] == pytest.approx(
        roc_auc_score(y, world.estimator.predict_proba(x)[:, 1])
    )
    names = {row["name"] for row in comparison["metrics"]}
    assert {"accuracy", "roc_auc", "f1_macro"} <= names
    assert new.training_metrics["accuracy"] == pytest.approx(comparison["candidate"]["accuracy"])

    request = ApprovalRequest.objects.get(pk=run.approval_request_id)
    assert request.version_id == new.pk and request.state == "pending"
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "governance.retraining.run.queued",
        "governance.retraining.run.training",
        "governance.retraining.run.result",
    } <= actions
    # A retried job does not make a second version.
    assert jobs.run_retraining(JobRun.objects.get(pk=run.job_id), lambda _: None)["skipped"]
    assert world.model.versions.count() == 2


def test_the_refit_fits_a_clone_of_the_loaded_estimator_on_production_rows_too(world, owner):
    policies.policy_update(model=world.model, actor=owner)
    builders.labelled_traffic(
        world.production, days=3, per_day=200, end=timezone.now() - dt.timedelta(minutes=1)
    )
    run = _execute(services.run_request(model=world.model, actor=owner))
    from governance.retraining.trainers import load_estimator

    refitted = load_estimator_unchecked(run.result_version)
    assert type(refitted) is type(world.estimator)
    assert refitted.get_params() == world.estimator.get_params()
    # The concept shifted (x2's sign flipped): the refit on production rows learned it.
    assert refitted.coef_[0][1] < world.estimator.coef_[0][1]
    with pytest.raises(Exception, match="not approved"):
        load_estimator(run.result_version)


def load_estimator_unchecked(version):
    import joblib

    with version.artifacts.get(kind="model").file.open("rb") as stored:
        return joblib.load(stored)


def test_a_tampered_model_file_is_never_loaded(world, owner):
    policies.policy_update(model=world.model, actor=owner)
    artifact = world.version.artifacts.get(kind="model")
    with open(artifact.file.path, "ab") as stored:
        stored.write(b"tampered")
    run = _execute(services.run_request(model=world.model, actor=owner))
    assert run.state == RunState.FAILED and "sha256" in run.error
    assert run.result_version is None and world.model.versions.count() == 1


def test_approval_is_needed_before_any_deployment_and_then_only_a_canary_is_suggested(
    world, owner, admin
):
    policies.policy_update(model=world.model, actor=owner)
    builders.labelled_traffic(
        world.production, days=2, per_day=50, end=timezone.now() - dt.timedelta(minutes=1)
    )
    run = _execute(services.run_request(model=world.model, actor=owner))
    new = run.result_version
    with pytest.raises(InvalidTransition, match="only approved versions"):
        registry.deployment_create(
            version=new,
            actor=admin,
            environment="production",
            endpoint=f"{world.production.endpoint}-canary",
        )
    assert services.run_follow_approval(run=run) is False  # still pending

    from governance.approvals.models import ApprovalRequest as Request
    from tests import factories

    factories.answer_required_items(new)
    factories._approve(Request.objects.get(pk=run.approval_request_id))
    assert services.retraining_check()["settled"] == 1
    run.refresh_from_db()
    assert run.state == RunState.APPROVED
    assert run.suggestion["endpoint"] == world.production.endpoint
    assert run.suggestion["traffic_share"] == services.CANARY_SHARE
    assert run.suggestion["beside_deployment"] == world.production.pk
    # The loop deployed nothing: the new version serves nowhere until someone asks.
    assert not Deployment.objects.filter(version=new).exists()
    # And the approved version still goes to production only through a production request.
    with pytest.raises(InvalidTransition, match="production is protected"):
        registry.deployment_create(
            version=new,
            actor=admin,
            environment="production",
            endpoint=f"{world.production.endpoint}-canary",
        )


def test_a_rejected_result_ends_the_run_and_frees_the_model_for_the_next(world, owner, reviewer):
    from governance.approvals import services as approvals

    policies.policy_update(model=world.model, actor=owner)
    run = _execute(services.run_request(model=world.model, actor=owner))
    approvals.decide(
        request=ApprovalRequest.objects.get(pk=run.approval_request_id),
        actor=reviewer,
        verdict="reject",
        comment="worse on the minority group",
    )
    services.run_follow_approval(run=run)
    run.refresh_from_db()
    assert run.state == RunState.REJECTED and "rejected" in run.error
    again = services.run_request(model=world.model, actor=owner)
    assert again.pk != run.pk and again.state == RunState.QUEUED


def test_a_model_steward_cannot_refit_fails_the_run_with_the_reason(owner):
    from tests import factories

    model = factories.registered_model(owner=owner)
    version = factories.approved_version(model=model)  # an opaque binary, no training data
    policies.policy_update(model=model, actor=owner)
    run = _execute(services.run_request(model=model, actor=owner))
    assert run.state == RunState.FAILED and "target column" in run.error
    assert version.model.versions.count() == 1
