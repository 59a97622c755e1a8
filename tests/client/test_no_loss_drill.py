"""The no-loss drill: Steward behind gunicorn is killed (SIGKILL) and started again 5 times
while a logger sends 50,000 prediction events. Afterwards the server holds exactly 50,000
(none lost, none twice) and the spool is empty. PostgreSQL only, one at a time (`services`)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from steward_client import Steward

from monitoring.models import PredictionEvent
from portal.security.tokens import token_issue
from registry import services
from tests import factories
from tests.conftest import on_postgresql
from tests.monitoring.conftest import database_url

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 50_000
RESTARTS = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gunicorn(port: int, log: Path) -> subprocess.Popen:
    env = os.environ | {"DATABASE_URL": database_url(), "STEWARD_STORAGE_DIR": str(log.parent)}
    with open(log, "a") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "portal.wsgi",
                f"--bind=127.0.0.1:{port}",
                "--workers=1",
                "--worker-class=gthread",
                "--threads=4",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed whole
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/accounts/login/")
            conn.getresponse().read()
            return proc
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"gunicorn did not start:\n{log.read_text()[-3000:]}")


def kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_no_event_is_lost_or_stored_twice_while_the_server_dies_five_times(tmp_path):
    if not on_postgresql():
        pytest.skip("the drill runs on PostgreSQL")
    owner = factories.data_scientist("drill-owner")
    model = factories.registered_model(owner=owner, name="Drill")
    version = services.version_register(
        model=model, actor=owner, input_schema=[{"name": "x", "type": "numeric"}]
    )
    deployment = services.deployment_create(
        version=version, actor=owner, environment="staging", endpoint="https://drill.example.org/"
    )
    _, token = token_issue(user=owner, name="drill")
    port = free_port()
    log = tmp_path / "gunicorn.log"
    server = start_gunicorn(port, log)
    client = Steward(f"http://127.0.0.1:{port}", token)
    logger = client.prediction_logger(
        deployment.pk,
        spool_root=tmp_path / "spool",
        batch_size=2000,
        max_delay=0.2,
        backoff=0.1,
        max_backoff=1.0,
        request_timeout=5.0,
        close_at_exit=False,
    )
    per_cycle = EVENTS // RESTARTS
    sent = 0
    try:
        for _ in range(RESTARTS):
            for _ in range(per_cycle // 2):
                logger.log(f"drill-{sent}", {"x": float(sent)}, "yes", score=0.5)
                sent += 1
            time.sleep(0.3)  # some batches in flight when the server dies
            kill(server)
            for _ in range(per_cycle - per_cycle // 2):
                logger.log(f"drill-{sent}", {"x": float(sent)}, "yes", score=0.5)
                sent += 1
            time.sleep(0.5)  # the logger finds the server gone and spools
            server = start_gunicorn(port, log)
        assert logger.flush(timeout=180) == 0, logger.stats
        logger.close()
    finally:
        kill(server)
    stored = PredictionEvent.objects.filter(deployment=deployment)
    assert sent == EVENTS
    assert stored.count() == EVENTS
    assert stored.values("request_id").distinct().count() == EVENTS
    assert logger.spool.pending() == [] and logger.spool.pending_rows() == 0
    assert logger.stats.dropped == 0 and logger.stats.rejected == 0
    # A batch stored just before the kill, its answer lost, comes back as duplicates.
    assert logger.stats.accepted <= EVENTS <= logger.stats.accepted + logger.stats.duplicates
    assert logger.stats.batches_spooled > 0  # the spool was used, not bypassed
    print(f"drill: {logger.stats}")
