"""Failure drills for background jobs on a real worker: the broker goes away while runs are
requested, and a poison job that always fails.

Both run on whichever broker the test run uses (the embedded filesystem broker, or Redis
when CELERY_BROKER_URL says so). The broker "going away" is a Redis URL on a loopback port
where nothing listens, swapped into this process's Celery app for the outage.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator

from django.db import transaction

from governance.models import AuditEvent
from monitoring import drill
from monitoring.choices import JobState
from monitoring.jobs import queue
from monitoring.jobs.beat import redispatch_queued_jobs
from monitoring.jobs.tasks import run_job
from monitoring.models import JobRun, PredictionEvent
from tests import factories
from tests.monitoring.conftest import start_worker, stop_worker, worker_env
from tests.monitoring.test_worker_kill import until

DEAD_BROKER = "redis://127.0.0.1:8179/15"  # h7's port range: nothing listens there
MAX_ATTEMPTS = 3


@contextlib.contextmanager
def broker_at(url: str) -> Iterator[None]:
    """Point this process's Celery producer at another broker; restore it afterwards. The
    app caches its connection pools, so its references are dropped on the way in and out."""
    app = run_job.app

    def drop_pools() -> None:
        # Only the app's references: kombu keeps one pool per broker URL, reused on return.
        app._pool = None
        app.amqp._producer_pool = None

    before = app.conf.get("broker_write_url")
    drop_pools()
    app.conf.broker_write_url = url
    try:
        yield
    finally:
        app.conf.broker_write_url = before
        drop_pools()


def completions(job: JobRun) -> list[int]:
    events = AuditEvent.objects.filter(action=drill.COMPLETED, target_id=str(job.pk))
    return [e.after["attempt"] for e in events]


def settled(job: JobRun) -> Callable[[], bool]:
    def check() -> bool:
        job.refresh_from_db()
        return job.state in (JobState.SUCCEEDED, JobState.FAILED)

    return check


def test_runs_requested_while_the_broker_is_away_stay_queued_then_run_once_when_it_returns(
    transactional_db, api_as, owner, model_a, tmp_path, settings
):
    deployment = factories.deployment(version=factories.model_version(model=model_a))
    rows = [
        {
            "request_id": f"b-{n}",
            "timestamp": "2026-11-01T10:00:00Z",
            "prediction": "approve",
            "features": {"age": 40, "income": 10.0, "region": "north"},
        }
        for n in range(5)
    ]
    with broker_at(DEAD_BROKER):
        # Ingestion never needs the broker: it keeps accepting.
        accepted = api_as(owner).post(
            f"/api/v1/deployments/{deployment.pk}/predictions/",
            data=json.dumps(rows),
            content_type="application/json",
        )
        assert accepted.status_code == 200, accepted.content
        # A run requested now is recorded; its dispatch fails after commit without raising.
        with transaction.atomic():
            jobs = [
                queue.job_create(kind=drill.KIND, params={"steps": 2, "step_s": 0.05})
                for _ in range(3)
            ]
        assert queue.job_dispatch(job_id=jobs[0].pk, kind=drill.KIND) is False
    assert PredictionEvent.objects.filter(deployment=deployment).count() == 5
    assert {j.state for j in JobRun.objects.filter(pk__in=[j.pk for j in jobs])} == {
        JobState.QUEUED
    }

    # The broker is back: beat's redispatch sends the stale queued runs; a worker runs each
    # once, however many messages the outage and the redispatch left behind.
    settings.STEWARD_JOB_REDISPATCH_S = 0
    # Both sweeps run before the worker starts: a worker already up could claim a run between
    # them, and the second sweep would then find two queued runs, not three (seen in CI).
    assert redispatch_queued_jobs() == 3
    assert queue.jobs_redispatch(older_than_s=0) == 3  # a second sweep: duplicates
    logs = [tmp_path / "worker.log"]
    worker = start_worker(worker_env(tmp_path), logs[0])
    try:
        for job in jobs:
            until(f"run {job.pk} finishes", settled(job), 60, logs)
    finally:
        stop_worker(worker)
    for job in jobs:
        assert job.state == JobState.SUCCEEDED, job.error
        assert job.attempts == 1
        assert completions(job) == [1]


def test_a_poison_job_stops_after_the_attempt_limit_and_is_shown_as_failed(
    transactional_db, admin, tmp_path, client
):
    logs = [tmp_path / "worker.log"]
    env = worker_env(tmp_path, STEWARD_JOB_MAX_ATTEMPTS=str(MAX_ATTEMPTS))
    worker = start_worker(env, logs[0])
    try:
        poison = queue.job_create(
            kind=drill.KIND, params={"steps": 1, "step_s": 0, "fail_attempts": 1000}
        )
        until("the poison job gives up", settled(poison), 90, logs)
        # The worker is still healthy and the poison run is not delivered again behind it.
        healthy = queue.job_create(kind=drill.KIND, params={"steps": 1, "step_s": 0})
        until("a later job runs", settled(healthy), 60, logs)
    finally:
        stop_worker(worker)

    poison.refresh_from_db()
    assert poison.state == JobState.FAILED
    assert poison.attempts == MAX_ATTEMPTS
    assert "drill failure on attempt 3" in poison.error
    assert completions(poison) == []
    assert healthy.state == JobState.SUCCEEDED

    client.force_login(admin)
    page = client.get("/monitoring/jobs/")
    assert page.status_code == 200
    html = page.content.decode()
    row = html[html.index(f'data-job-run="{poison.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "badge--job-failed" in row and f">{MAX_ATTEMPTS}<" in row
    assert "drill failure on attempt 3" in row
