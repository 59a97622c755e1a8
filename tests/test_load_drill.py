"""The load drill in its short form: bench/load.py against gunicorn on loopback for 10 s, with
16 ingest clients, page readers and a monitoring job. Every acknowledged event must be
stored and nothing may fail. PostgreSQL only: SQLite takes one writer at a time, which is
not the production set-up this drill is about.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import on_postgresql
from tests.monitoring.conftest import database_url

ROOT = Path(__file__).resolve().parents[1]
RESULT = re.compile(r"^RESULT (.+)$", re.MULTILINE)


@pytest.mark.services
def test_the_short_load_drill_stores_every_acknowledged_event_without_errors(db):
    if not on_postgresql():
        pytest.skip("the load drill runs on PostgreSQL")
    # A database of its own beside the test database, recreated and dropped by the script.
    url = database_url() + "_load"
    env = os.environ | {"LOAD_DATABASE_URL": url}  # and this run's broker, if Redis
    done = subprocess.run(
        [sys.executable, "bench/load.py", "--short", "--port", "8172"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [line] = RESULT.findall(done.stdout)
    figures = dict(pair.split("=") for pair in line.split())
    assert int(figures["load_events_acked"]) > 0, done.stdout
    assert figures["load_events_acked"] == figures["load_events_stored"], done.stdout
    assert figures["load_errors"] == "0", done.stdout
