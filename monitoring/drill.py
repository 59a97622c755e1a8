"""The "monitoring_drill" job: a harmless run that exercises the job machinery end to end.

It sleeps in steps, reporting progress (which renews its lease), can be told to fail its
first attempts, and on completion writes one audit entry naming the run and the attempt. A
run completed twice would leave two entries, so failure drills (a worker killed mid-run, a
broker restart) can check that a job completes exactly once.

params: {"steps": 10, "step_s": 0.5, "fail_attempts": 0}
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.db import transaction

from governance import audit
from monitoring.models import JobRun

KIND = "monitoring_drill"
COMPLETED = "monitoring.drill.completed"
MAX_STEPS = 1000
MAX_STEP_S = 60.0


class DrillFailure(RuntimeError):
    """The failure a drill was asked to simulate."""


def drill_params(params: dict[str, Any]) -> tuple[int, float, int]:
    """(steps, seconds per step, attempts to fail), bounded so a drill cannot hog a worker."""
    steps = min(max(int(params.get("steps", 10)), 1), MAX_STEPS)
    step_s = min(max(float(params.get("step_s", 0.5)), 0.0), MAX_STEP_S)
    fail_attempts = max(int(params.get("fail_attempts", 0)), 0)
    return steps, step_s, fail_attempts


def run(job: JobRun, progress: Callable[[float], None]) -> dict[str, Any]:
    """Sleep `steps` x `step_s` seconds reporting progress, then record the completion."""
    steps, step_s, fail_attempts = drill_params(job.params)
    if job.attempts <= fail_attempts:
        raise DrillFailure(f"drill failure on attempt {job.attempts} of {fail_attempts}")
    for step in range(1, steps + 1):
        time.sleep(step_s)
        progress(step / steps)
    with transaction.atomic():
        audit.record(
            actor=None,
            action=COMPLETED,
            target=job,
            after={"attempt": job.attempts, "worker": job.worker, "steps": steps},
        )
    return {"steps": steps, "attempt": job.attempts}
