"""A real Celery worker in a subprocess, on the broker this test run is configured for:
the embedded filesystem broker by default, Redis when CELERY_BROKER_URL says so."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import need_service

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    user = db.get("USER") or "postgres"
    return (
        f"postgres://{user}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    )


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("worker-media")


def worker_env(media_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a worker subprocess: this run's database, broker and storage."""
    return os.environ | {
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "STEWARD_STORAGE_DIR": str(settings.STORAGE_DIR),
        "STEWARD_MEDIA_DIR": str(media_dir),
        "STEWARD_JOB_LEASE_S": "5",
        **extra,
    }


def start_worker(env: dict[str, str], log_path: Path, timeout: float = 60) -> subprocess.Popen:
    """A `celery worker` (one prefork child) in its own process group, once it says ready."""
    log = open(log_path, "w")  # noqa: SIM115 (the child keeps writing to it)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--loglevel=INFO",
            "--concurrency=1",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            "-n",
            f"test-{uuid.uuid4().hex[:8]}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so a test can kill it whole
    )
    log.close()
    deadline = time.monotonic() + timeout
    while "ready." not in log_path.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_worker(proc)
            pytest.fail("worker did not start:\n" + log_path.read_text())
        time.sleep(0.2)
    return proc


def stop_worker(proc: subprocess.Popen) -> None:
    """Warm shutdown, or SIGKILL to the whole group when it does not come."""
    if proc.poll() is None:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # the main process if it hung, a stray child
    proc.wait()


@pytest.fixture(scope="module")
def celery_worker_process(
    django_db_setup, django_db_blocker, media_dir
) -> Iterator[subprocess.Popen]:
    if settings.CELERY_BROKER_URL.startswith("redis://"):
        need_service("Redis", "127.0.0.1", 6379)
    proc = start_worker(worker_env(media_dir), media_dir / "worker.log")
    yield proc
    stop_worker(proc)


@pytest.fixture
def worker(celery_worker_process, media_dir, settings, transactional_db):
    """Point this process's storage where the worker looks, and hand back the process."""
    settings.MEDIA_ROOT = media_dir
    return celery_worker_process
