"""Work split into Celery queues by kind: each job kind and task has its queue, and a worker
given one queue takes only that work, so a slow report never holds up monitoring."""

from __future__ import annotations

import time

import pytest
from django.conf import settings as django_settings

from governance.mlflow.jobs import KIND as MLFLOW_SYNC
from governance.reports.jobs import KIND as REPORT_EXPORT
from monitoring import drill, integrity
from monitoring.choices import JobState
from monitoring.jobs import kinds, queue
from monitoring.models import JobRun
from monitoring.rollups import jobs as rollup_jobs
from portal.celery import app
from tests.monitoring.conftest import start_worker, stop_worker, worker_env
from tests.monitoring.test_jobs import wait_for


def test_each_job_kind_is_sent_to_the_queue_of_its_work():
    assert {
        kind: kinds.queue_for(kind)
        for kind in (rollup_jobs.KIND, drill.KIND, integrity.KIND, REPORT_EXPORT, MLFLOW_SYNC)
    } == {
        rollup_jobs.KIND: "monitoring",
        drill.KIND: "monitoring",
        integrity.KIND: "monitoring",
        REPORT_EXPORT: "reports",
        MLFLOW_SYNC: "integrations",
    }


def test_every_kind_route_and_beat_entry_names_something_that_exists():
    """A misspelt task name in a route or the beat schedule would be silently ignored (routes)
    or fail only on the worker (beat): check them against the registered tasks."""
    app.loader.import_default_modules()
    registered = set(app.tasks)
    routes = django_settings.CELERY_TASK_ROUTES
    assert set(routes) - registered == set()
    assert {route["queue"] for route in routes.values()} <= set(kinds.QUEUES)
    beat = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert beat - registered == set()
    assert {kind.queue for kind in kinds.JOBS.values()} <= set(kinds.QUEUES)
    assert [q.name for q in django_settings.CELERY_TASK_QUEUES] == list(kinds.QUEUES)


def test_registering_a_kind_on_an_unknown_queue_or_twice_differently_is_refused():
    with pytest.raises(ValueError, match="unknown queue 'bulk'"):
        kinds.register("some_kind", drill.run, queue="bulk")
    with pytest.raises(ValueError, match="already registered"):
        kinds.register(drill.KIND, drill.run, queue=kinds.REPORTS)
    kinds.register(drill.KIND, drill.run)  # the same registration again is harmless


@pytest.mark.django_db(transaction=True)
def test_a_monitoring_worker_leaves_reports_to_the_report_workers(media_dir, settings, tmp_path):
    settings.MEDIA_ROOT = media_dir
    env = worker_env(media_dir)
    logs = tmp_path / "logs"
    logs.mkdir()
    monitoring = start_worker(env, logs / "monitoring.log", queues="monitoring", name="mon")
    reports = None
    try:
        # No report to render here: the run fails on the worker that takes it, which is all
        # this test needs to see (which worker that is).
        report = queue.job_create(kind=REPORT_EXPORT, params={"version": 0})
        check = queue.job_create(kind=drill.KIND, params={"steps": 1, "step_s": 0})
        wait_for(check, {JobState.SUCCEEDED})
        time.sleep(2)  # time enough for a worker that also read "reports" to take the report
        report.refresh_from_db()
        assert (report.state, report.attempts) == (JobState.QUEUED, 0)
        assert check.worker.startswith("mon-")

        reports = start_worker(env, logs / "reports.log", queues="reports", name="rep")
        deadline = time.monotonic() + 60
        while JobRun.objects.get(pk=report.pk).attempts == 0:
            assert time.monotonic() < deadline, (logs / "reports.log").read_text()[-3000:]
            time.sleep(0.2)
        assert JobRun.objects.get(pk=report.pk).worker.startswith("rep-")
    finally:
        stop_worker(monitoring)
        if reports is not None:
            stop_worker(reports)
