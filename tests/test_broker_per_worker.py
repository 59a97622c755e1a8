"""Each pytest-xdist worker on Redis gets its own broker database."""

from __future__ import annotations

import pytest

from tests.broker_per_worker import worker_broker_url


def test_each_worker_gets_the_next_databases():
    assert worker_broker_url("redis://127.0.0.1:6379/0", "gw0") == "redis://127.0.0.1:6379/1"
    assert worker_broker_url("redis://127.0.0.1:6379/0", "gw1") == "redis://127.0.0.1:6379/2"
    assert worker_broker_url("redis://127.0.0.1:6379", "gw1") == "redis://127.0.0.1:6379/2"
    assert worker_broker_url("redis://:pw@host:6380/4", "gw0") == "redis://:pw@host:6380/5"


def test_other_brokers_and_runs_without_xdist_are_left_alone():
    assert worker_broker_url("filesystem://", "gw0") == "filesystem://"
    assert worker_broker_url("redis://127.0.0.1:6379/0", "master") == "redis://127.0.0.1:6379/0"


def test_running_out_of_databases_is_a_clear_error():
    with pytest.raises(RuntimeError, match="gw1"):
        worker_broker_url("redis://127.0.0.1:6379/14", "gw1")


@pytest.mark.services
def test_a_worker_starts_on_an_empty_broker_database_and_leaves_the_base_one_alone():
    """What a killed worker left in an earlier run's broker is gone when the next run's
    worker starts (pytest_sessionstart in a fresh process, as xdist starts one)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import redis

    from tests.conftest import need_service

    need_service("Redis", "127.0.0.1", 6379)
    base = redis.Redis.from_url("redis://127.0.0.1:6379/12")
    worker = redis.Redis.from_url("redis://127.0.0.1:6379/14")  # gw1 over database 12
    base.set("kept", "1")
    worker.set("left-behind", "1")
    try:
        subprocess.run(
            [sys.executable, "-c", "import tests.broker_per_worker as p; p.pytest_sessionstart(0)"],
            env={
                **os.environ,
                "PYTEST_XDIST_WORKER": "gw1",
                "CELERY_BROKER_URL": "redis://127.0.0.1:6379/12",
            },
            cwd=Path(__file__).resolve().parents[1],
            check=True,
        )
        assert worker.get("left-behind") is None
        assert base.get("kept") == b"1"
    finally:
        base.delete("kept")
        worker.delete("left-behind")
