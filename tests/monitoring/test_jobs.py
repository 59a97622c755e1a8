"""Job runs with a real Celery worker: they complete, are recorded, and run once."""

from __future__ import annotations

import time

import pytest

from governance.models import AuditEvent
from monitoring.choices import JobState
from monitoring.jobs import kinds, queue, runs
from monitoring.jobs.tasks import run_job
from monitoring.models import JobRun
from registry import services as registry
from tests import factories


def wait_for(job: JobRun, states: set[str], timeout: float = 60) -> JobRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.state in states:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job.pk} still {job.state} after {timeout}s")


def _stored_artifact(model):
    version = factories.model_version(model=model)
    return registry.artifact_upload(
        version=version, actor=model.owner, upload=factories.binary_upload(b"weights"), kind="model"
    )


def test_worker_runs_the_integrity_scan_and_records_the_result(worker, model_a):
    _stored_artifact(model_a)
    job = queue.job_create(kind="artifact_integrity_scan")
    job = wait_for(job, {JobState.SUCCEEDED, JobState.FAILED})
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result == {"checked": 1, "problems": []}
    assert job.attempts == 1 and job.duration_s is not None


def test_scan_reports_a_file_changed_behind_stewards_back(worker, model_a):
    artifact = _stored_artifact(model_a)
    with open(artifact.file.path, "ab") as handle:
        handle.write(b"tampered")
    job = wait_for(queue.job_create(kind="artifact_integrity_scan"), {JobState.SUCCEEDED})
    assert job.result["problems"] == [{"type": "artifact", "id": artifact.pk, "state": "modified"}]
    assert (
        AuditEvent.objects.filter(
            action="monitoring.integrity.modified", target_id=str(artifact.pk)
        ).count()
        == 1
    )


def test_a_redelivered_message_does_not_run_the_job_twice(worker, model_a):
    artifact = _stored_artifact(model_a)
    artifact.file.storage.delete(artifact.file.name)
    job = JobRun.objects.create(kind="artifact_integrity_scan")
    for _ in range(3):
        run_job.delay(job.pk)
    job = wait_for(job, {JobState.SUCCEEDED})
    time.sleep(1.5)  # let the duplicate deliveries be consumed
    job.refresh_from_db()
    assert job.attempts == 1
    assert AuditEvent.objects.filter(action="monitoring.integrity.missing").count() == 1


@pytest.mark.django_db
def test_claim_is_compare_and_set():
    job = JobRun.objects.create(kind="artifact_integrity_scan")
    assert runs.job_claim(job_id=job.pk, worker="a")
    assert not runs.job_claim(job_id=job.pk, worker="b")
    job.refresh_from_db()
    assert (job.state, job.worker, job.attempts) == (JobState.RUNNING, "a", 1)


@pytest.mark.django_db
def test_a_claim_whose_lease_expired_can_be_taken_over(settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.STEWARD_JOB_LEASE_S = 60
    job = JobRun.objects.create(kind="artifact_integrity_scan")
    assert runs.job_claim(job_id=job.pk, worker="dead")
    JobRun.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=61))
    assert runs.job_claim(job_id=job.pk, worker="alive")
    job.refresh_from_db()
    assert (job.worker, job.attempts) == ("alive", 2)


@pytest.mark.django_db
def test_a_failing_job_is_recorded_and_retried_until_the_cap(settings, monkeypatch):
    from monitoring.jobs import tasks

    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.STEWARD_JOB_MAX_ATTEMPTS = 2

    def boom(job, progress):
        raise RuntimeError("storage offline")

    monkeypatch.setitem(kinds.JOBS, "artifact_integrity_scan", kinds.Kind(boom, kinds.MONITORING))
    job = JobRun.objects.create(kind="artifact_integrity_scan")
    retries = []
    monkeypatch.setattr(tasks.run_job, "retry", lambda **kw: retries.append(kw) or kw["exc"])
    with pytest.raises(RuntimeError):
        tasks.run_job.run(job.pk)
    job.refresh_from_db()
    assert job.state == JobState.RETRYING and "storage offline" in job.error
    tasks.run_job.run(job.pk)  # second and last attempt
    job.refresh_from_db()
    assert (job.state, job.attempts, len(retries)) == (JobState.FAILED, 2, 1)


@pytest.mark.django_db
def test_a_worker_that_lost_its_lease_cannot_finish_or_report(settings):
    job = JobRun.objects.create(kind="artifact_integrity_scan")
    assert runs.job_claim(job_id=job.pk, worker="slow")
    slow = JobRun.objects.get(pk=job.pk)
    JobRun.objects.filter(pk=job.pk).update(worker="fast")  # another took the run over
    runs.job_progress(job=slow, fraction=0.5)
    assert not runs.job_succeed(job=slow, result={"from": "slow"})
    job.refresh_from_db()
    assert (job.state, job.progress, job.result) == (JobState.RUNNING, 0.0, None)


@pytest.mark.django_db
def test_a_delivery_that_finds_a_live_lease_comes_back_when_it_ends(settings, monkeypatch):
    from monitoring.jobs import tasks

    settings.STEWARD_JOB_LEASE_S = 30
    job = JobRun.objects.create(kind="monitoring_drill")
    assert runs.job_claim(job_id=job.pk, worker="holder")
    retries = []
    monkeypatch.setattr(tasks.run_job, "retry", lambda **kw: retries.append(kw) or Exception())
    with pytest.raises(Exception):  # noqa: B017 (the stand-in for celery's Retry)
        tasks.run_job.run(job.pk)
    assert len(retries) == 1 and 0 < retries[0]["countdown"] <= 31  # the lease's rest
    JobRun.objects.filter(pk=job.pk).update(state=JobState.SUCCEEDED)
    tasks.run_job.run(job.pk)  # finished meanwhile: the delivery is simply dropped
    assert len(retries) == 1


@pytest.mark.django_db
def test_a_failure_drill_fails_its_first_attempts_then_completes_once(settings, monkeypatch):
    from monitoring import drill
    from monitoring.jobs import tasks

    monkeypatch.setattr(tasks.run_job, "retry", lambda **kw: kw["exc"])
    job = JobRun.objects.create(
        kind=drill.KIND, params={"steps": 2, "step_s": 0, "fail_attempts": 1}
    )
    with pytest.raises(drill.DrillFailure):
        tasks.run_job.run(job.pk)
    job.refresh_from_db()
    assert (job.state, job.progress) == (JobState.RETRYING, 0.0)
    tasks.run_job.run(job.pk)
    job.refresh_from_db()
    assert (job.state, job.attempts, job.result) == (
        JobState.SUCCEEDED,
        2,
        {"steps": 2, "attempt": 2},
    )
    completions = AuditEvent.objects.filter(action=drill.COMPLETED, target_id=str(job.pk))
    assert completions.count() == 1
