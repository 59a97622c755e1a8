"""Load drill: Steward behind gunicorn on loopback, 16 clients ingesting while pages are read
and monitoring jobs run; every acknowledged event must be stored, and nothing may fail.

The script (re)creates a fresh PostgreSQL database (default
postgres://postgres@127.0.0.1:5432/steward_load; dropped at the end unless --keep), migrates
it, registers a binary model with a 4-feature schema, a training dataset and a staging
deployment, then starts on 127.0.0.1 only:

- gunicorn (`portal.wsgi`, gthread workers) and one Celery worker (the broker named by
  CELERY_BROKER_URL, else the embedded filesystem broker under var/bench-load);
- `--clients` ingest clients (threads, standard library HTTP, `Authorization: Token`), each
  looping: POST a batch of prediction events, then POST ground truth for the same request
  ids; request ids are unique per client and batch;
- `--readers` readers (signed-in sessions) loading the inventory page
  `/monitoring/deployments/` one after the other;
- a `deployment_monitoring` job for the deployment every `--job-every` seconds.

It runs for `--seconds` (60; `--short`: 10), bounded in time and requests, then waits for the
queued jobs to finish and counts the stored rows. "Acked" is the sum of `accepted` in the
ingestion answers; "stored" is the number of prediction and ground-truth rows afterwards.
An error is any answer other than 200, any exception, or a failed job.

Usage: .venv/bin/python bench/load.py [--short] [--seconds 60] [--clients 16] [--batch 50]
       [--database-url postgres://...] [--port 8170] [--keep]
Last line: RESULT load_events_acked=<n> load_events_stored=<n> load_errors=<n>
           ingest_p95_ms=<x> inventory_p95_ms=<y>
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/steward_load"
INVENTORY = "/monitoring/deployments/"
FALLBACK_INVENTORY = "/registry/deployments/"
SCHEMA = [
    {"name": "age", "type": "numeric"},
    {"name": "income", "type": "numeric"},
    {"name": "visits", "type": "integer"},
    {"name": "region", "type": "categorical", "categories": ["north", "south", "east", "west"]},
]
REGIONS = ["north", "south", "east", "west"]
MAX_REQUESTS_PER_CLIENT = 100_000  # a hard bound besides the clock


# ---- set-up ---------------------------------------------------------------------------------


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    parts = urlparse(url)
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


def server_env(url: str, storage: Path) -> dict[str, str]:
    """The environment shared by this process, gunicorn and the worker."""
    return {
        "DATABASE_URL": url,
        "STEWARD_STORAGE_DIR": str(storage),
        "SECRET_KEY": os.environ.get(
            "SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789"
        ),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "STEWARD_STATIC_MANIFEST": "0",
    }


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def training_csv(n: int = 2000, seed: int = 3) -> bytes:
    rng = np.random.default_rng(seed)
    lines = ["age,income,visits,region,label"]
    for i in range(n):
        label = "yes" if rng.random() < 0.4 else "no"
        lines.append(
            f"{rng.normal(40, 10):.2f},{rng.normal(50000, 9000):.2f},{rng.integers(0, 30)},"
            f"{REGIONS[i % 4]},{label}"
        )
    return ("\n".join(lines) + "\n").encode()


@dataclass
class World:
    deployment_id: int
    token: str
    session: str


def seed_world() -> World:
    """A model with a training dataset, a version, a staging deployment; a token for its
    owner (who may post) and a signed-in session for the page readers."""
    from django.contrib.auth.models import Group, User
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from portal.security.tokens import token_create
    from registry import services
    from registry.roles import DATA_SCIENTISTS

    owner = User.objects.create_user("load-owner", password=uuid.uuid4().hex)
    owner.groups.add(Group.objects.get(name=DATA_SCIENTISTS))
    model = services.model_create(
        actor=owner, name="Load drill", task="binary", target_column="label"
    )
    services.dataset_upload(
        model=model,
        actor=owner,
        upload=SimpleUploadedFile("train.csv", training_csv(), content_type="text/csv"),
        name="training",
        kind="training",
    )
    version = services.version_register(model=model, actor=owner, input_schema=SCHEMA)
    deployment = services.deployment_create(
        version=version, actor=owner, environment="staging", endpoint="https://load.example.org/"
    )
    _, token = token_create(user=owner, name="load drill")
    browser = Client()
    browser.force_login(owner)
    return World(deployment.pk, token, browser.cookies["sessionid"].value)


def start_process(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "w") as out:
        return subprocess.Popen(
            args,
            cwd=ROOT,
            env=os.environ | env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped whole
        )


def stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_until_up(port: int, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited:\n{log.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/accounts/login/")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer within {timeout:.0f}s:\n{log.read_text()[-3000:]}")


def start_seeded_server(
    database_url: str, port: int, name: str, *, workers: int, threads: int, timeout: int
) -> tuple[World, dict[str, str], Path, subprocess.Popen]:
    """A fresh database with the seeded world and gunicorn serving it on `port`, storage under
    var/<name>-<port>: the world, the server's environment, its log folder and the process.
    The caller waits for it (`wait_until_up`) and stops it."""
    storage = ROOT / "var" / f"{name}-{port}"
    env = server_env(database_url, storage)
    recreate_database(database_url)
    setup_django(env)
    world = seed_world()
    logs = storage / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    gunicorn = start_process(
        [
            sys.executable, "-m", "gunicorn", "portal.wsgi",
            f"--bind=127.0.0.1:{port}", f"--workers={workers}",
            "--worker-class=gthread", f"--threads={threads}", f"--timeout={timeout}",
        ],
        env,
        logs / "gunicorn.log",
    )  # fmt: skip
    return world, env, logs, gunicorn


def wait_for_worker(log: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while "ready." not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the Celery worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


# ---- the load ------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the threads measured; appended under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: int = 0
    errors: list[str] = field(default_factory=list)
    ingest_ms: list[float] = field(default_factory=list)
    inventory_ms: list[float] = field(default_factory=list)
    jobs: list[int] = field(default_factory=list)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


def request(
    conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None, headers: dict
) -> tuple[int, bytes, float]:
    started = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    return response.status, data, (time.perf_counter() - started) * 1000


def events(client: int, batch_no: int, size: int, rng: np.random.Generator) -> list[dict]:
    now = time.time()
    rows = []
    for i in range(size):
        score = float(rng.random())
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - rng.integers(0, 7200)))
        rows.append(
            {
                "request_id": f"c{client}-b{batch_no}-{i}",
                "timestamp": stamp,
                "prediction": "yes" if score > 0.5 else "no",
                "score": round(score, 4),
                "latency_ms": round(float(rng.gamma(2.0, 8.0)), 2),
                "features": {
                    "age": round(float(rng.normal(42, 10)), 2),
                    "income": round(float(rng.normal(51000, 9000)), 2),
                    "visits": int(rng.integers(0, 30)),
                    "region": REGIONS[int(rng.integers(0, 4))],
                },
            }
        )
    return rows


def ingest_client(n: int, port: int, world: World, batch: int, until: float, tally: Tally) -> None:
    rng = np.random.default_rng(n)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Token {world.token}", "Content-Type": "application/json"}
    base = f"/api/v1/deployments/{world.deployment_id}"
    for batch_no in range(MAX_REQUESTS_PER_CLIENT):
        if time.monotonic() >= until:
            break
        rows = events(n, batch_no, batch, rng)
        truth = [
            {"request_id": r["request_id"], "label": "yes" if rng.random() < 0.4 else "no"}
            for r in rows
        ]
        for path, payload in (("predictions", rows), ("ground-truth", truth)):
            try:
                status, data, ms = request(
                    conn, "POST", f"{base}/{path}/", json.dumps(payload).encode(), headers
                )
            except (OSError, http.client.HTTPException) as exc:
                tally.error(f"client {n} {path}: {exc!r}")
                conn.close()
                continue
            if status != 200:
                tally.error(f"client {n} {path}: HTTP {status} {data[:200]!r}")
                continue
            with tally.lock:
                tally.acked += json.loads(data)["accepted"]
                tally.ingest_ms.append(ms)


def reader(port: int, world: World, path: str, until: float, tally: Tally) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Cookie": f"sessionid={world.session}"}
    for _ in range(MAX_REQUESTS_PER_CLIENT):
        if time.monotonic() >= until:
            break
        try:
            status, _, ms = request(conn, "GET", path, None, headers)
        except (OSError, http.client.HTTPException) as exc:
            tally.error(f"reader {path}: {exc!r}")
            conn.close()
            continue
        if status != 200:
            tally.error(f"reader {path}: HTTP {status}")
            continue
        with tally.lock:
            tally.inventory_ms.append(ms)


def job_scheduler(deployment_id: int, every: float, until: float, tally: Tally) -> None:
    from django.db import connection

    from monitoring.jobs.queue import job_create
    from monitoring.rollups.jobs import KIND

    try:
        while time.monotonic() < until:
            tally.jobs.append(job_create(kind=KIND, params={"deployment_id": deployment_id}).pk)
            time.sleep(min(every, max(0.0, until - time.monotonic())))
    finally:
        connection.close()


def warm_up(port: int, world: World, page: str, clients: int) -> None:
    """Untimed: every gunicorn worker imports its views (pandas, Arrow) on first use."""
    api = {"Authorization": f"Token {world.token}"}
    session = {"Cookie": f"sessionid={world.session}"}
    path = f"/api/v1/deployments/{world.deployment_id}/predictions/"

    def get_both() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        request(conn, "GET", path, None, api)
        request(conn, "GET", page, None, session)

    for _ in range(2):
        run_threads([get_both for _ in range(clients)])


def inventory_path(port: int, world: World) -> str:
    """The inventory page, or the registry's deployment list where it does not exist yet."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    status, _, _ = request(conn, "GET", INVENTORY, None, {"Cookie": f"sessionid={world.session}"})
    return INVENTORY if status == 200 else FALLBACK_INVENTORY


def run_threads(targets: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def wait_for_jobs(ids: list[int], timeout: float) -> dict[str, int]:
    from monitoring.choices import JobState
    from monitoring.models import JobRun

    deadline = time.monotonic() + timeout
    finished = {JobState.SUCCEEDED, JobState.FAILED}
    while time.monotonic() < deadline:
        states = list(JobRun.objects.filter(pk__in=ids).values_list("state", flat=True))
        if all(s in finished for s in states):
            break
        time.sleep(0.5)
    counts: dict[str, int] = {}
    for state in JobRun.objects.filter(pk__in=ids).values_list("state", flat=True):
        counts[state] = counts.get(state, 0) + 1
    return counts


def stored_rows(deployment_id: int) -> int:
    from monitoring.models import GroundTruth, PredictionEvent

    return (
        PredictionEvent.objects.filter(deployment_id=deployment_id).count()
        + GroundTruth.objects.filter(deployment_id=deployment_id).count()
    )


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return float(np.quantile(values, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--short", action="store_true", help="10 seconds")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=50, help="events per batch")
    parser.add_argument("--job-every", type=float, default=10.0)
    parser.add_argument("--gunicorn-workers", type=int, default=3)
    parser.add_argument("--gunicorn-threads", type=int, default=4)
    parser.add_argument("--database-url", default=os.environ.get("LOAD_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--port", type=int, default=8170)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    seconds = 10.0 if args.short else args.seconds

    world, env, logs, gunicorn = start_seeded_server(
        args.database_url,
        args.port,
        "bench-load",
        workers=args.gunicorn_workers,
        threads=args.gunicorn_threads,
        timeout=60,
    )
    worker = start_process(
        [
            sys.executable, "-m", "celery", "-A", "portal", "worker", "--loglevel=INFO",
            "--concurrency=1", "--without-mingle", "--without-gossip", "--without-heartbeat",
            "-n", f"load-{uuid.uuid4().hex[:6]}@%h",
        ],
        env,
        logs / "worker.log",
    )  # fmt: skip
    tally = Tally()
    try:
        wait_until_up(args.port, gunicorn, logs / "gunicorn.log")
        wait_for_worker(logs / "worker.log", worker)
        page = inventory_path(args.port, world)
        warm_up(args.port, world, page, args.clients)
        until = time.monotonic() + seconds
        started = time.monotonic()
        run_threads(
            [
                lambda n=n: ingest_client(n, args.port, world, args.batch, until, tally)
                for n in range(args.clients)
            ]
            + [lambda: reader(args.port, world, page, until, tally) for _ in range(args.readers)]
            + [lambda: job_scheduler(world.deployment_id, args.job_every, until, tally)]
        )
        elapsed = time.monotonic() - started
        jobs = wait_for_jobs(tally.jobs, timeout=180)
    finally:
        stop_process(gunicorn)
        stop_process(worker)
    stored = stored_rows(world.deployment_id)
    failed_jobs = sum(n for state, n in jobs.items() if state != "succeeded")
    errors = len(tally.errors) + failed_jobs
    report(args, seconds, elapsed, page, tally, jobs, stored, errors)
    if not args.keep:
        from django.db import connections

        connections.close_all()
        drop_database(args.database_url)


def report(
    args: argparse.Namespace,
    seconds: float,
    elapsed: float,
    page: str,
    tally: Tally,
    jobs: dict[str, int],
    stored: int,
    errors: int,
) -> None:
    ingest, inventory = tally.ingest_ms, tally.inventory_ms
    print(f"Load drill: {args.clients} ingest clients, {args.readers} readers of {page}, ")
    print(f"a monitoring job every {args.job_every:g} s, {seconds:g} s on 127.0.0.1:{args.port}")
    if page != INVENTORY:
        print(f"(the inventory page {INVENTORY} is missing: read {page} instead)")
    print()
    print(f"{'':32}{'count':>10}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for name, values in (("ingestion POSTs", ingest), (f"page {page}", inventory)):
        print(
            f"{name:32}{len(values):>10}{quantile(values, 0.5):>10.1f}"
            f"{quantile(values, 0.95):>10.1f}{max(values, default=float('nan')):>10.1f}"
        )
    rate = tally.acked / elapsed if elapsed else 0.0
    print()
    print(f"events acknowledged   {tally.acked:>10}   ({rate:,.0f} rows/s over {elapsed:.1f} s)")
    print(f"events stored         {stored:>10}")
    print(f"monitoring jobs       {jobs}")
    print(f"errors                {errors:>10}")
    for line in tally.errors[:10]:
        print(f"  {line}")
    if len(tally.errors) > 10:
        print(f"  ... {len(tally.errors)} request errors in all")
    print(
        f"RESULT load_events_acked={tally.acked} load_events_stored={stored} "
        f"load_errors={errors} ingest_p95_ms={quantile(ingest, 0.95):.1f} "
        f"inventory_p95_ms={quantile(inventory, 0.95):.1f}"
    )


if __name__ == "__main__":
    main()
