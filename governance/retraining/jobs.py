"""Retraining's background jobs, JobRuns registered into monitoring.jobs.kinds by the app's
ready() (monitoring may not import governance):

- "retraining_check" (beat, hourly): start due deferred runs, record firing triggers, follow
  the approvals of finished runs.
- "retraining_run": params name the run; it trains (Steward's refit) or calls the team's
  trainer, which answers through the callback API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

CHECK_KIND = "retraining_check"
RUN_KIND = "retraining_run"


class TrainerUnreachable(RuntimeError):
    """The team's trainer did not take the call yet; the job is retried with backoff."""


def run_check(job: Any, progress: Callable[[float], None]) -> dict[str, Any]:
    from governance.retraining.services import retraining_check

    return retraining_check()


def run_retraining(job: Any, progress: Callable[[float], None]) -> dict[str, Any]:
    """Train or call the trainer. A failure Steward cannot retry its way out of (the model
    cannot be refit, the trainer refused the URL) fails the run; a trainer that is down
    raises, so the job is retried."""
    from governance.retraining import services, trainers

    run = services.run_begin(run_id=job.params["run"])
    if run is None:
        return {"run": job.params["run"], "skipped": "not queued or training"}
    if run.trainer == "webhook":
        state = trainers.trainer_call(run)
        if state == "failed":
            services.run_fail(run=run, error="the trainer's webhook was not delivered")
        elif state in ("pending", "sending"):
            raise TrainerUnreachable(f"trainer of run {run.pk} not reached yet; retrying")
        return {"run": run.pk, "delivery": state}
    try:
        run = trainers.steward_refit(run)
    except (trainers.NotTrainable, ValueError) as exc:
        services.run_fail(run=run, error=str(exc))
        return {"run": run.pk, "failed": str(exc)}
    return {"run": run.pk, "state": run.state, "version": run.result_version_id}


def run_start(*, run_id: int, actor: Any = None) -> Any:
    """Record a queued run of the retraining and dispatch it on commit."""
    from monitoring.jobs.queue import job_create

    return job_create(kind=RUN_KIND, params={"run": run_id}, actor=actor)
