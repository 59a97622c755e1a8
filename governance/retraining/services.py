"""The retraining loop's writes: trigger (or defer) a run, start it, register its result as a
new version with lineage, its comparison and an approval request, and on approval suggest a
canary. Every step is audited; nothing here deploys.

Runs start one at a time per model (a run in an open state blocks the next). A trigger that
arrives inside the policy's "not sooner than" bound makes a deferred run, and a trigger that
arrives while a run is open is added to that run's record: no trigger is dropped.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance import audit
from governance.approvals.choices import RequestState
from governance.approvals.models import ApprovalRequest
from governance.approvals.services import request_version_approval
from governance.lineage import link
from governance.lineage.models import LineageEdge, NodeKind, Relation
from governance.retraining import refit, triggers
from governance.retraining.choices import OPEN_STATES, RunState, Trainer, Trigger
from governance.retraining.errors import RetrainingRefused
from governance.retraining.models import RetrainingPolicy, RetrainingRun
from registry.actors import Actor
from registry.choices import Action, DeploymentStatus, Environment, Stage
from registry.models import Dataset, Deployment, ModelVersion, RegisteredModel
from registry.services.common import require_object

SYSTEM = "retraining"
CANARY_SHARE = 10  # per cent of the production endpoint's traffic a suggested canary takes


def _run_after(run: RetrainingRun) -> dict[str, Any]:
    return {
        "state": run.state,
        "trigger": run.trigger,
        "deferred_until": run.deferred_until.isoformat() if run.deferred_until else None,
        "base_version": run.base_version_id,
        "result_version": run.result_version_id,
    }


def base_version(model: RegisteredModel) -> ModelVersion | None:
    """What a retraining starts from: the version serving production, else the newest
    approved version, else the newest version that is not archived."""
    serving = (
        Deployment.objects.filter(
            version__model=model,
            environment=Environment.PRODUCTION,
            status=DeploymentStatus.ACTIVE,
        )
        .order_by("-deployed_at", "-pk")
        .first()
    )
    if serving is not None:
        return serving.version
    versions = model.versions.exclude(stage=Stage.ARCHIVED).order_by("-number")
    return versions.filter(stage=Stage.APPROVED).first() or versions.first()


def _queue(run: RetrainingRun, *, now: dt.datetime) -> None:
    """Mark the run started (the "not sooner than" bound counts from here) and queue its job."""
    from governance.retraining import jobs

    run.state = RunState.QUEUED
    run.started_at = now
    run.deferred_until = None
    run.base_version = run.base_version or base_version(run.model)
    policy = RetrainingPolicy.objects.get(model_id=run.model_id)
    run.window_end = now
    run.window_start = now - dt.timedelta(days=policy.window_days)
    run.save()
    run.job = jobs.run_start(run_id=run.pk)
    run.save(update_fields=["job"])


@transaction.atomic
def trigger_record(
    *,
    model: RegisteredModel,
    trigger: str,
    reason: str,
    actor: Actor | None = None,
    now: dt.datetime | None = None,
) -> RetrainingRun:
    """Record a trigger: queue a run, defer one until the policy allows it, or add the trigger
    to the open run. The model's policy row is locked, so two triggers at once make one run."""
    now = now or timezone.now()
    policy = RetrainingPolicy.objects.select_for_update().filter(model=model).first()
    if policy is None:
        raise RetrainingRefused(f"{model} has no retraining policy")
    open_run = (
        RetrainingRun.objects.select_for_update()
        .filter(model=model, state__in=OPEN_STATES)
        .order_by("requested_at")
        .first()
    )
    who = actor if actor is not None else SYSTEM
    if open_run is not None:
        known = {open_run.trigger, *(t["trigger"] for t in open_run.more_triggers)}
        if trigger not in known or trigger == Trigger.MANUAL:
            open_run.more_triggers = [
                *open_run.more_triggers,
                {"trigger": trigger, "reason": reason, "at": now.isoformat()},
            ]
            open_run.save(update_fields=["more_triggers"])
            audit.record(
                actor=who,
                action="governance.retraining.trigger.recorded",
                target=open_run,
                after={"trigger": trigger, "reason": reason, "run_state": open_run.state},
            )
        return open_run
    if policy.trainer == Trainer.STEWARD and base_version(model) is None:
        raise RetrainingRefused(f"{model} has no version to retrain")
    run = RetrainingRun(
        model=model,
        trigger=trigger,
        reason=reason,
        trainer=policy.trainer,
        requested_by=actor,
        requested_at=now,
        base_version=base_version(model),
    )
    earliest = triggers.earliest_start(policy)
    if earliest is not None and now < earliest:
        run.state = RunState.DEFERRED
        run.deferred_until = earliest
        run.full_clean()
        run.save()
        audit.record(
            actor=who,
            action="governance.retraining.run.deferred",
            target=run,
            after=_run_after(run),
        )
        return run
    run.full_clean()
    run.save()
    _queue(run, now=now)
    audit.record(
        actor=who, action="governance.retraining.run.queued", target=run, after=_run_after(run)
    )
    return run


def run_request(
    *, model: RegisteredModel, actor: Actor, reason: str = "", now: dt.datetime | None = None
) -> RetrainingRun:
    """A manual request (the change right on the model is needed); bounded like any trigger."""
    require_object(actor, Action.CHANGE, model)
    return trigger_record(
        model=model,
        trigger=Trigger.MANUAL,
        reason=reason.strip() or f"requested by {actor.get_username()}",
        actor=actor,
        now=now,
    )


@transaction.atomic
def deferred_start(*, run: RetrainingRun, now: dt.datetime) -> bool:
    """Queue a deferred run whose time has come; False when it is not (yet) due."""
    run = RetrainingRun.objects.select_for_update().get(pk=run.pk)
    if run.state != RunState.DEFERRED or (run.deferred_until and run.deferred_until > now):
        return False
    _queue(run, now=now)
    audit.record(
        actor=SYSTEM,
        action="governance.retraining.run.queued",
        target=run,
        before={"state": RunState.DEFERRED},
        after=_run_after(run) | {"deferred_since": run.requested_at.isoformat()},
    )
    return True


def retraining_check(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The beat check: start deferred runs that are due, record the triggers that fire, and
    follow the approvals of runs awaiting one. Returns counts of what it did."""
    now = now or timezone.now()
    done = {"started": 0, "triggered": 0, "settled": 0}
    due = RetrainingRun.objects.filter(state=RunState.DEFERRED, deferred_until__lte=now)
    for run in due.order_by("deferred_until"):
        done["started"] += deferred_start(run=run, now=now)
    for policy in RetrainingPolicy.objects.filter(enabled=True).select_related("model"):
        for trigger, reason in triggers.triggers_firing(policy, now=now):
            trigger_record(model=policy.model, trigger=trigger, reason=reason, now=now)
            done["triggered"] += 1
    for run in RetrainingRun.objects.filter(state=RunState.AWAITING_APPROVAL):
        done["settled"] += run_follow_approval(run=run, now=now)
    return done


@transaction.atomic
def run_fail(*, run: RetrainingRun, error: str, now: dt.datetime | None = None) -> RetrainingRun:
    run = RetrainingRun.objects.select_for_update().get(pk=run.pk)
    before = {"state": run.state}
    run.state, run.error, run.finished_at = RunState.FAILED, error[:4000], now or timezone.now()
    run.save(update_fields=["state", "error", "finished_at"])
    audit.record(
        actor=SYSTEM,
        action="governance.retraining.run.failed",
        target=run,
        before=before,
        after={"state": run.state, "error": run.error},
    )
    return run


@transaction.atomic
def run_begin(*, run_id: int) -> RetrainingRun | None:
    """Move a queued run to training (compare-and-set: one worker wins); a run already
    training is returned as is (a retried job continues it); any other, None."""
    moved = RetrainingRun.objects.filter(pk=run_id, state=RunState.QUEUED).update(
        state=RunState.TRAINING
    )
    run = RetrainingRun.objects.select_related("model", "base_version").get(pk=run_id)
    if moved:
        audit.record(
            actor=SYSTEM,
            action="governance.retraining.run.training",
            target=run,
            before={"state": RunState.QUEUED},
            after={"state": run.state, "trainer": run.trainer},
        )
    return run if run.state == RunState.TRAINING else None


def trained_on(version: ModelVersion, relation: str = Relation.TRAINED_ON) -> list[Dataset]:
    """The datasets lineage says `version` was trained on (or validated with)."""
    ids = LineageEdge.objects.filter(
        downstream_kind=NodeKind.VERSION,
        downstream_id=version.pk,
        upstream_kind=NodeKind.DATASET,
        relation=relation,
    ).values_list("upstream_id", flat=True)
    return list(Dataset.objects.filter(pk__in=list(ids)).order_by("pk"))


def _clean_figures(value: Any, field: str) -> dict[str, float]:
    if not isinstance(value, dict) or not value:
        raise ValidationError({field: "an object of metric names and numbers"})
    try:
        return {str(k): float(v) for k, v in value.items()}
    except (TypeError, ValueError) as exc:
        raise ValidationError({field: "every value must be a number"}) from exc


@transaction.atomic
def run_result_register(
    *,
    run: RetrainingRun,
    actor: Actor,
    version: ModelVersion,
    comparison: dict[str, Any],
    now: dt.datetime | None = None,
) -> RetrainingRun:
    """The team's trainer reports its result (the callback): `version`, registered by it
    through the API, becomes the run's result with lineage, the comparison it measured on
    one hold-out, and an approval request."""
    require_object(actor, Action.CHANGE, run.model)
    run = RetrainingRun.objects.select_for_update().select_related("model").get(pk=run.pk)
    if run.trainer != Trainer.WEBHOOK or run.state != RunState.TRAINING:
        raise RetrainingRefused(f"run {run.pk} is {run.get_state_display().lower()}")
    if version.model_id != run.model_id:
        raise ValidationError({"version": "must be a version of the run's model"})
    if run.base_version is not None and version.number <= run.base_version.number:
        raise ValidationError({"version": "must be newer than the version it retrains"})
    previous = _clean_figures(comparison.get("previous"), "comparison.previous")
    candidate = _clean_figures(comparison.get("candidate"), "comparison.candidate")
    holdout = comparison.get("holdout") or {}
    figures = {
        "holdout": holdout if isinstance(holdout, dict) else {"source": str(holdout)},
        "previous": previous,
        "candidate": candidate,
        "metrics": refit.compare(previous, candidate),
        "reported_by": "trainer",
    }
    datasets = trained_on(version)
    return result_record(
        run,
        version=version,
        dataset=datasets[0] if datasets else None,
        comparison=figures,
        actor=actor,
        now=now,
    )


def result_record(
    run: RetrainingRun,
    *,
    version: ModelVersion,
    dataset: Dataset | None,
    comparison: dict[str, Any],
    actor: Actor,
    now: dt.datetime | None,
) -> RetrainingRun:
    """Link the result to the version it retrains, open its approval request and record it.
    Runs inside the caller's transaction."""
    if run.base_version is not None:
        link(
            upstream=run.base_version,
            downstream=version,
            relation=Relation.DERIVED_FROM,
            actor=actor,
        )
    if dataset is not None:
        link(upstream=dataset, downstream=version, relation=Relation.TRAINED_ON, actor=actor)
    request = request_version_approval(
        version=version,
        actor=actor,
        comment=f"Retraining run {run.pk} ({run.get_trigger_display().lower()}): {run.reason}"[
            :2000
        ],
    )
    before = {"state": run.state}
    run.result_version, run.training_dataset = version, dataset
    run.comparison, run.approval_request = comparison, request
    run.state, run.finished_at = RunState.AWAITING_APPROVAL, now or timezone.now()
    run.save()
    audit.record(
        actor=actor,
        action="governance.retraining.run.result",
        target=run,
        before=before,
        after=_run_after(run) | {"approval_request": request.pk, "comparison": comparison},
    )
    return run


def canary_suggestion(run: RetrainingRun) -> dict[str, Any]:
    """What to do with an approved result: a production request for a small canary beside the
    version serving the endpoint. Only a suggestion: a person opens the request."""
    version = run.result_version
    assert version is not None
    serving = (
        Deployment.objects.filter(
            version__model_id=run.model_id,
            environment=Environment.PRODUCTION,
            status=DeploymentStatus.ACTIVE,
        )
        .order_by("-deployed_at")
        .first()
    )
    suggestion: dict[str, Any] = {
        "version": version.pk,
        "version_number": version.number,
        "environment": Environment.PRODUCTION.value,
        "traffic_share": CANARY_SHARE,
    }
    if serving is None:
        return suggestion | {
            "endpoint": "",
            "text": f"Deploy v{version.number} as a canary when a production endpoint exists.",
        }
    room = 100 - CANARY_SHARE
    make_room = (
        f" (first lower v{serving.version.number}'s share to {room}%)"
        if serving.traffic_share > room
        else ""
    )
    return suggestion | {
        "endpoint": serving.endpoint,
        "beside_deployment": serving.pk,
        "text": (
            f"Request a production deployment of v{version.number} at {serving.endpoint} with "
            f"{CANARY_SHARE}% of the traffic beside v{serving.version.number}{make_room}, then "
            "compare the canary with its baseline before moving more traffic."
        ),
    }


@transaction.atomic
def run_follow_approval(*, run: RetrainingRun, now: dt.datetime | None = None) -> bool:
    """Settle a run awaiting approval once its request closes: approved gives the canary
    suggestion, anything else ends the run as rejected. True when the run moved."""
    run = RetrainingRun.objects.select_for_update().get(pk=run.pk)
    if run.state != RunState.AWAITING_APPROVAL or run.approval_request_id is None:
        return False
    request = ApprovalRequest.objects.get(pk=run.approval_request_id)
    if request.state == RequestState.PENDING:
        return False
    before = {"state": run.state}
    if request.state == RequestState.APPROVED:
        run.state, run.suggestion = RunState.APPROVED, canary_suggestion(run)
    else:
        run.state = RunState.REJECTED
        run.error = f"approval request {request.pk} {request.get_state_display().lower()}"
    run.save(update_fields=["state", "suggestion", "error"])
    audit.record(
        actor=SYSTEM,
        action=f"governance.retraining.run.{run.state}",
        target=run,
        before=before,
        after={"state": run.state, "suggestion": run.suggestion},
    )
    return True


@transaction.atomic
def run_cancel(*, run: RetrainingRun, actor: Actor) -> RetrainingRun:
    """Cancel a deferred or queued run (the change right on the model is needed)."""
    require_object(actor, Action.CHANGE, run.model)
    run = RetrainingRun.objects.select_for_update().get(pk=run.pk)
    if run.state not in (RunState.DEFERRED, RunState.QUEUED):
        raise RetrainingRefused(f"run {run.pk} is {run.get_state_display().lower()}")
    before = {"state": run.state}
    run.state, run.finished_at = RunState.CANCELLED, timezone.now()
    run.save(update_fields=["state", "finished_at"])
    audit.record(
        actor=actor,
        action="governance.retraining.run.cancelled",
        target=run,
        before=before,
        after={"state": run.state},
    )
    return run
