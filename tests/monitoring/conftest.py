"""A real Celery worker in a subprocess, on the broker this test run is configured for:
the embedded filesystem broker by default, Redis when CELERY_BROKER_URL says so."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.celery_worker import start_worker, stop_worker
from tests.conftest import need_service

__all__ = ["start_worker", "stop_worker", "worker_env"]


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
