"""The demo's retraining (issue #15 part 6): the heart-attack-risk model's production accuracy
decays (portal.demo.traffic_generator's Decay), its retraining policy's accuracy trigger fires,
and Steward refits the production version's estimator on the original training data plus the
labelled production rows. The new version waits for approval beside its comparison.

The seed does synchronously what the worker would do within the hour (the day's performance,
the beat check, the run), so the story is on the model page as soon as `seed_demo` ends.
Idempotent: a model that already has a retraining run is left alone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib.auth.models import User
from django.utils import timezone

from governance.readiness.selectors import open_required_items
from governance.readiness.services import AnswerInput, answers_record
from governance.retraining import jobs, policies, services
from governance.retraining.choices import RunState
from governance.retraining.models import RetrainingRun
from monitoring.models import JobRun
from monitoring.performance.services import performance_days_list_compute
from portal.demo import catalog
from registry.choices import DeploymentStatus, Environment
from registry.models import Deployment, RegisteredModel

ACCURACY_FLOOR = 0.8  # the demo's accuracy alert rule says the same
PERFORMANCE_DAYS = 7


def _start_checklist(run: RetrainingRun, actor: User) -> None:
    """Half the required checklist items answered, as on the demo's other pending versions."""
    version = run.result_version
    assert version is not None
    required = open_required_items(version=version)
    settled = required[: len(required) // 2]
    base = f"v{run.base_version.number}" if run.base_version else "the previous version"
    if settled:
        answers_record(
            version=version,
            actor=actor,
            answers=[
                AnswerInput(
                    item=item.key,
                    answer="yes",
                    evidence_text=f"Retrained from {base} by retraining run {run.pk}; "
                    "see its comparison on one hold-out.",
                )
                for item in settled
            ],
        )


def seed_retraining(
    actor: User,
    *,
    progress: Callable[[str], None] = lambda _m: None,
    now: dt.datetime | None = None,
) -> RetrainingRun | None:
    """Set the heart-attack model's policy and let its accuracy decay trigger a retraining."""
    model = RegisteredModel.objects.filter(name=catalog.HEART_ATTACK.name).first()
    if model is None:
        return None
    name = catalog.HEART_ATTACK.name
    if RetrainingRun.objects.filter(model=model).exists():
        progress(f"{name}: retraining exists, skipped")
        return None
    now = now or timezone.now()
    policies.policy_update(
        model=model,
        actor=actor,
        every_days=90,
        min_days=14,
        metric_name="accuracy",
        metric_threshold=ACCURACY_FLOOR,
        metric_source="either",
        metric_window_days=2,
        window_days=30,
        trainer="steward",
    )
    today = now.astimezone(dt.UTC).date()
    days = [today - dt.timedelta(days=n) for n in range(PERFORMANCE_DAYS)]
    for deployment in Deployment.objects.filter(
        version__model=model, environment=Environment.PRODUCTION, status=DeploymentStatus.ACTIVE
    ):
        performance_days_list_compute(deployment=deployment, days=days)
    services.retraining_check(now=now)
    run = RetrainingRun.objects.filter(model=model).first()
    if run is None:
        progress(f"{name}: accuracy above {ACCURACY_FLOOR}, no retraining triggered")
        return None
    if run.state == RunState.QUEUED and run.job_id is not None:
        jobs.run_retraining(JobRun.objects.get(pk=run.job_id), lambda _f: None)
        run.refresh_from_db()
    if run.result_version is not None:
        _start_checklist(run, actor)
    result = f"v{run.result_version.number}" if run.result_version else "no version"
    progress(f"{name}: {run.reason}; retrained: {result} {run.get_state_display().lower()}")
    return run
