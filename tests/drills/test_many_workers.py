"""Many workers drill (Redis broker, PostgreSQL): three worker processes share the monitoring of
1,000 deployments, queued by beat's own entry point; one worker is SIGKILLed mid-run. Every
deployment's run must end succeeded exactly once, none lost, none run twice to completion.

Job claims make several workers (on one host or many: they share only Redis and PostgreSQL)
safe; this drill is the proof at a size, with the kill (docs/operations.md, "Workers and
queues"). The throughput it prints is the figure docs/operations.md quotes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter

import pytest

from monitoring.choices import JobState
from monitoring.models import JobRun
from monitoring.rollups import jobs as rollup_jobs
from registry.models import Deployment
from tests import factories
from tests.monitoring.conftest import start_worker, stop_worker, worker_env
from tests.monitoring.test_worker_kill import (
    LEASE_S,
    redis_broker,  # noqa: F401 (a fixture)
    until,
)

DEPLOYMENTS = int(os.environ.get("STEWARD_DRILL_DEPLOYMENTS", "1000"))
WORKERS = 3
VISIBILITY_TIMEOUT_S = LEASE_S + 1


def deployments(n: int) -> list[int]:
    """n active staging deployments, spread over a few versions of a few models."""
    ids = []
    versions = [factories.model_version() for _ in range(5)]
    for i in range(n):
        version = versions[i % len(versions)]
        endpoint = f"https://serving.example.org/{version.model.slug}/{i}"
        ids.append(factories.deployment(version=version, endpoint=endpoint).pk)
    return ids


def holder_group(claim: str) -> int:
    """The process group of the worker whose pool process made `claim` ("node:pid:task")."""
    return os.getpgid(int(claim.split(":")[1]))


@pytest.mark.django_db(transaction=True)
def test_three_workers_monitor_a_thousand_deployments_once_each_through_a_kill(
    redis_broker,  # noqa: F811
    tmp_path,
):
    ids = deployments(DEPLOYMENTS)
    env = worker_env(
        tmp_path,
        STEWARD_JOB_LEASE_S=str(LEASE_S),
        CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT_S),
        CELERY_RESTORE_INTERVAL_S="1",
    )
    logs = [tmp_path / f"worker-{n}.log" for n in range(WORKERS)]
    workers: dict[int, subprocess.Popen] = {}
    for n, log in enumerate(logs):
        proc = start_worker(env, log, name=f"w{n}")
        workers[proc.pid] = proc
    try:
        started = time.monotonic()
        queued = rollup_jobs.monitoring_schedule()
        assert len(queued) == DEPLOYMENTS
        runs = JobRun.objects.filter(pk__in=queued)

        def a_third_done() -> bool:
            return runs.filter(state=JobState.SUCCEEDED).count() >= DEPLOYMENTS // 3

        until("a third of the runs finish", a_third_done, 600, logs)
        running = runs.filter(state=JobState.RUNNING).exclude(worker="").first()
        assert running is not None, "no run under way to kill the worker of"
        victim = holder_group(running.worker)
        victim_node = running.worker.split("@")[0]
        os.killpg(victim, signal.SIGKILL)
        workers.pop(victim).wait(timeout=10)

        def all_settled() -> bool:
            return runs.filter(state__in=[JobState.SUCCEEDED, JobState.FAILED]).count() == len(
                queued
            )

        until("every run settles", all_settled, 900, logs)
        elapsed = time.monotonic() - started
    finally:
        for proc in workers.values():
            stop_worker(proc)

    states = Counter(runs.values_list("state", flat=True))
    assert states == {JobState.SUCCEEDED: DEPLOYMENTS}, states
    per_deployment = Counter(
        JobRun.objects.filter(kind=rollup_jobs.KIND).values_list("params__deployment_id", flat=True)
    )
    assert sorted(per_deployment) == sorted(ids)
    assert set(per_deployment.values()) == {1}
    # The run whose worker died was taken over and finished by a survivor.
    taken_over = runs.filter(pk=running.pk).get()
    assert taken_over.attempts >= 2 and taken_over.worker.split("@")[0] != victim_node
    assert Deployment.objects.filter(pk__in=ids).count() == DEPLOYMENTS
    print(
        f"\n{DEPLOYMENTS} monitoring runs on {WORKERS} workers (one killed): "
        f"{elapsed:.1f} s, {DEPLOYMENTS / elapsed:.1f} runs/s"
    )
