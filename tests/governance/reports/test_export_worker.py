"""An export requested through the API runs on a real Celery worker (a subprocess on this
run's broker) and produces a report that verifies."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from governance.reports import services
from monitoring.models import JobRun
from tests import factories
from tests.conftest import need_service
from tests.monitoring.conftest import start_worker, stop_worker, worker_env


@pytest.fixture(scope="module")
def worker_dirs(tmp_path_factory) -> tuple[Path, Path]:
    """The worker's media folder and a signing identity both processes use."""
    media = tmp_path_factory.mktemp("report-worker-media")
    keys = tmp_path_factory.mktemp("report-worker-keys")
    call_command(
        "create_signing_identity",
        pkcs12=keys / "signer.p12",
        root=keys / "root.pem",
        verbosity=0,
    )
    return media, keys


@pytest.fixture(scope="module")
def report_worker(django_db_setup, worker_dirs) -> Iterator[subprocess.Popen]:
    if settings.CELERY_BROKER_URL.startswith("redis://"):
        need_service("Redis", "127.0.0.1", 6379)
    media, keys = worker_dirs
    env = worker_env(
        media,
        STEWARD_SIGNING_PKCS12=str(keys / "signer.p12"),
        STEWARD_SIGNING_PASSPHRASE="",
        STEWARD_SIGNING_TRUST_ROOTS=str(keys / "root.pem"),
        STEWARD_TSA_URL="",
    )
    proc = start_worker(env, media / "worker.log")
    yield proc
    stop_worker(proc)


def test_api_export_runs_on_a_worker_and_the_download_verifies(
    report_worker, worker_dirs, settings, transactional_db, api_as
):
    media, keys = worker_dirs
    settings.MEDIA_ROOT = media
    settings.STEWARD_SIGNING_PKCS12 = keys / "signer.p12"
    settings.STEWARD_SIGNING_PASSPHRASE = ""
    settings.STEWARD_SIGNING_TRUST_ROOTS = [keys / "root.pem"]
    version = factories.approved_version()
    api = api_as(version.model.owner)
    response = api.post(reverse("api:report-export-list"), {"version": version.pk}, format="json")
    assert response.status_code == 202
    job = JobRun.objects.get(pk=response.json()["id"])
    deadline = time.monotonic() + 180
    while job.state not in ("succeeded", "failed") and time.monotonic() < deadline:
        time.sleep(0.3)
        job.refresh_from_db()
    assert job.state == "succeeded", job.error or (media / "worker.log").read_text()[-2000:]
    assert job.worker and job.progress == 1.0
    download = api.get(job.result["download"])
    data = b"".join(download.streaming_content)
    result = services.report_verify(data)
    assert result.ok, result.verdict.problems
