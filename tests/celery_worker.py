"""A real `celery worker` in a subprocess, for the tests that need one and for the benchmarks
(bench/scale_workers.py): start it in its own process group once it says ready; stop it warm,
or kill the whole group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class WorkerDidNotStart(RuntimeError):
    pass


def start_worker(
    env: dict[str, str],
    log_path: Path,
    timeout: float = 60,
    *,
    queues: str = "",
    name: str = "test",
) -> subprocess.Popen[bytes]:
    """A `celery worker` (one prefork child) in its own process group, once it says ready;
    reading every queue unless `queues` (comma-separated) names some."""
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
            f"{name}-{uuid.uuid4().hex[:8]}@%h",
            *(["-Q", queues] if queues else []),
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
            raise WorkerDidNotStart("worker did not start:\n" + log_path.read_text())
        time.sleep(0.2)
    return proc


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    """Warm shutdown, or SIGKILL to the whole group when it does not come."""
    if proc.poll() is None:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # the main process if it hung, a stray child
    proc.wait()
