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
