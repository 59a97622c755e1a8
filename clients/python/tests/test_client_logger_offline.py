"""The logger with no server to talk to: log() never blocks, batches land in the spool,
flush() gives up after its timeout and says how many rows wait, and a full spool is counted."""

from __future__ import annotations

import json
import logging
import socket
import threading

import pytest
from steward_client import Steward


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def offline():
    return Steward(f"http://127.0.0.1:{closed_port()}", "t0k3n")


def test_rows_are_spooled_while_the_server_is_away(offline, tmp_path):
    logger = offline.prediction_logger(
        7, spool_root=tmp_path, batch_size=100, max_delay=0.05, backoff=0.01, close_at_exit=False
    )
    for i in range(250):
        logger.log(f"r{i}", {"x": float(i)}, "yes", score=0.5, latency_ms=1.0)
    assert logger.flush(timeout=1.0) == 250
    left = logger.close(timeout=0.1)
    assert left == 250
    ids = [
        json.loads(line)["request_id"]
        for path in logger.spool.pending()
        for line in path.read_text().splitlines()
    ]
    assert sorted(ids) == sorted(f"r{i}" for i in range(250))
    assert logger.stats.dropped == 0 and logger.stats.batches_spooled >= 3


def test_a_full_spool_reports_every_dropped_row(offline, tmp_path, caplog):
    logger = offline.prediction_logger(
        7,
        spool_root=tmp_path,
        batch_size=50,
        max_delay=0.01,
        backoff=0.01,
        retries=0,
        spool_max_bytes=6000,
        close_at_exit=False,
    )
    with caplog.at_level(logging.WARNING):
        for i in range(1000):
            logger.log(f"r{i}", {"x": 1.0}, "yes")
        logger.close(timeout=0.5)
    kept = logger.spool.pending_rows()
    assert logger.stats.dropped > 0 and "spool" in caplog.text and "dropped" in caplog.text
    assert kept + logger.stats.dropped == 1000


def test_log_never_waits_on_a_sender_stuck_on_the_network(offline, tmp_path):
    """The serving thread only enqueues: with the sender held inside a POST that does not
    return, 10,000 more rows are still taken, none dropped or spooled. (How fast log() is
    lives in bench/, not here; the join below only keeps a regression from hanging.)"""
    logger = offline.prediction_logger(
        7, spool_root=tmp_path, senders=1, max_delay=0.01, close_at_exit=False
    )
    entered, release = threading.Event(), threading.Event()

    def held_post(body: bytes) -> None:
        entered.set()
        release.wait()

    logger._post = held_post  # the sender's one network call, held open
    logger.log("first", {"x": 1.0}, "yes")
    assert entered.wait(30), "the sender never reached the network"

    def serve() -> None:
        for i in range(10_000):
            logger.log(f"r{i}", {"x": 1.0}, "yes")

    serving = threading.Thread(target=serve)
    serving.start()
    serving.join(60)
    try:
        assert not serving.is_alive(), "log() blocked behind the sender"
        assert not release.is_set()
        assert logger.stats.logged == 10_001
        assert logger.stats.overflowed == 0 and logger.stats.dropped == 0
        assert logger.pending() == 10_001  # queued or in flight; nothing lost
    finally:
        release.set()
        logger.close(timeout=0.2)


def test_a_closed_logger_refuses_rows(offline, tmp_path):
    logger = offline.prediction_logger(7, spool_root=tmp_path, close_at_exit=False)
    logger.close(timeout=0.1)
    with pytest.raises(Exception, match="closed"):
        logger.log("r", {}, "yes")


def test_nan_and_numpy_values_go_on_the_wire_as_json(offline, tmp_path):
    import numpy as np

    logger = offline.prediction_logger(7, spool_root=tmp_path, close_at_exit=False)
    logger.log("r", {"a": float("nan"), "b": np.float64(2.5), "c": np.int64(3)}, "yes", 0.1)
    logger.close(timeout=0.1)
    [path] = logger.spool.pending()
    row = json.loads(path.read_text())
    assert row["features"] == {"a": None, "b": 2.5, "c": 3}
    assert row["timestamp"].endswith("+00:00")


def test_every_class_probability_goes_on_the_wire_as_scores(offline, tmp_path):
    import numpy as np

    logger = offline.prediction_logger(7, spool_root=tmp_path, close_at_exit=False)
    proba = np.array([0.1, 0.7, 0.2])
    classes = np.array([0, 1, 2])
    logger.log("r", {"a": 1.0}, "1", 0.7, scores=dict(zip(classes, proba, strict=True)))
    logger.close(timeout=0.1)
    [path] = logger.spool.pending()
    row = json.loads(path.read_text())
    assert row["scores"] == {"0": 0.1, "1": 0.7, "2": 0.2}
    assert row["prediction"] == "1" and row["score"] == 0.7


def test_the_url_and_token_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("STEWARD_URL", "http://steward.test/")
    monkeypatch.setenv("STEWARD_TOKEN", "abc")
    client = Steward()
    assert client.base_url == "http://steward.test" and client.token == "abc"
    monkeypatch.delenv("STEWARD_TOKEN")
    with pytest.raises(Exception, match="STEWARD_TOKEN"):
        Steward()


def test_timestamps_on_the_wire_are_utc_iso_8601_to_the_microsecond():
    import datetime as dt
    import random

    from steward_client.logger import _iso

    for epoch in [0.5, 1764912345.9999996, *(random.uniform(0, 4e9) for _ in range(10_000))]:
        parsed = dt.datetime.fromisoformat(_iso(epoch))
        assert parsed.tzinfo == dt.UTC
        assert abs(parsed.timestamp() - epoch) <= 1.5e-6


def test_at_interpreter_exit_what_was_not_delivered_is_left_in_the_spool(tmp_path):
    import subprocess
    import sys

    script = f"""
from steward_client import Steward
logger = Steward("http://127.0.0.1:{closed_port()}", "t").prediction_logger(
    3, spool_root={str(tmp_path)!r}, backoff=0.01, max_delay=60, exit_timeout=1)
for i in range(500):
    logger.log(f"r{{i}}", {{"x": 1.0}}, "yes")
# no close(): the interpreter's exit runs it
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    ids = {
        json.loads(line)["request_id"]
        for path in tmp_path.rglob("*.ndjson")
        for line in path.read_text().splitlines()
    }
    assert ids == {f"r{i}" for i in range(500)}


def test_a_row_that_cannot_be_encoded_is_counted_and_the_sender_lives_on(offline, tmp_path):
    logger = offline.prediction_logger(
        7, spool_root=tmp_path, max_delay=0.01, backoff=0.01, close_at_exit=False
    )
    circular: dict[str, object] = {}
    circular["self"] = circular
    logger.log("bad", circular, "yes")
    logger.flush(timeout=2)
    logger.log("good", {"x": 1.0}, "yes")
    logger.close(timeout=0.5)
    assert logger.stats.rejected == 1
    assert logger.spool.pending_rows() == 1  # the good row, kept for later
