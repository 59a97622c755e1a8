"""A real Celery worker in a subprocess, on the broker this test run is configured for:
the embedded filesystem broker by default, Redis when CELERY_BROKER_URL says so."""

from __future__ import annotations

import os
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


@pytest.fixture(scope="module")
def celery_worker_process(
    django_db_setup, django_db_blocker, media_dir
) -> Iterator[subprocess.Popen]:
    broker = settings.CELERY_BROKER_URL
    if broker.startswith("redis://"):
        need_service("Redis", "127.0.0.1", 6379)
    env = os.environ | {
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker,
        "STEWARD_STORAGE_DIR": str(settings.STORAGE_DIR),
        "STEWARD_MEDIA_DIR": str(media_dir),
        "STEWARD_JOB_LEASE_S": "5",
    }
    log = open(media_dir / "worker.log", "w")  # noqa: SIM115 (closed at teardown)
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
    )
    deadline = time.monotonic() + 60
    while "ready." not in (media_dir / "worker.log").read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("worker did not start:\n" + (media_dir / "worker.log").read_text())
        time.sleep(0.2)
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture
def worker(celery_worker_process, media_dir, settings, transactional_db):
    """Point this process's storage where the worker looks, and hand back the process."""
    settings.MEDIA_ROOT = media_dir
    return celery_worker_process
