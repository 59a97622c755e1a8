"""Worker scaling benchmark: monitoring jobs drained by 1, then 3, Celery worker processes.

On PostgreSQL (DATABASE_URL, required) and Redis (CELERY_BROKER_URL, required) the script
(untimed) registers one model version with `--deployments` staging deployments and COPies
`--hours` hours of `--per-hour` prediction events into each, reusing bench/backfill.py's
seeding. Then, for 1 worker and again for 3 workers (each `celery worker --concurrency=1`,
started before the clock), it marks every deployment's hours stale, queues one
`deployment_monitoring` job per deployment through monitoring.jobs.queue and times how long
until every job is SUCCEEDED. Both rounds do the same work on fresh jobs.

Usage: DATABASE_URL=postgres://... CELERY_BROKER_URL=redis://... \
    .venv/bin/python bench/scale_workers.py [--deployments 60] [--hours 6] [--per-hour 200]
The last line is `RESULT workers_3_vs_1=<throughput ratio>`. Goal: >= 1.6 on a 2-core machine
(monitoring jobs spend much of their time waiting on the database).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import ensure_database, setup_django

from tests.celery_worker import start_worker, stop_worker

TIMEOUT_S = 1800.0


def seed(deployments: int, hours: int, per_hour: int) -> tuple[list[int], dt.datetime]:
    """`deployments` staging deployments of one version, each with its events (untimed)."""
    from backfill import copy_events, make_deployment
    from django.utils import timezone

    from monitoring.rollups.hourly import floor_hour
    from registry import services

    first = make_deployment()
    ids = [first.pk]
    for n in range(1, deployments):
        ids.append(
            services.deployment_create(
                version=first.version,
                actor=first.version.model.owner,
                environment="staging",
                endpoint=f"https://bench.example.org/{first.version.model.pk}/{n}",
            ).pk
        )
    end = floor_hour(timezone.now())
    for pk in ids:
        copy_events(pk, end, hours, per_hour)
    return ids, end


def drain(ids: list[int], end: dt.datetime, hours: int, workers: int, logs: Path) -> float:
    """Seconds for `workers` worker processes to take one fresh monitoring job per deployment
    from queued to SUCCEEDED."""
    from backfill import mark_stale
    from django.db import transaction

    from monitoring.choices import JobState
    from monitoring.jobs.queue import job_create
    from monitoring.models import JobRun
    from monitoring.rollups.jobs import KIND

    env = dict(os.environ)  # the same database, broker and storage as this process
    procs = [
        start_worker(env, logs / f"w{workers}-{n}.log", 120, name=f"bench{n}")
        for n in range(workers)
    ]
    try:
        for pk in ids:
            mark_stale(pk, end, hours)
        started = time.perf_counter()
        with transaction.atomic():
            jobs = [job_create(kind=KIND, params={"deployment_id": pk}).pk for pk in ids]
        runs = JobRun.objects.filter(pk__in=jobs)
        while runs.filter(state=JobState.SUCCEEDED).count() < len(jobs):
            if runs.filter(state=JobState.FAILED).exists():
                raise SystemExit(f"a monitoring job failed; see the logs in {logs}")
            if time.perf_counter() - started > TIMEOUT_S:
                raise SystemExit(f"jobs not done after {TIMEOUT_S:.0f} s; see {logs}")
            time.sleep(0.1)
        return time.perf_counter() - started
    finally:
        for proc in procs:
            stop_worker(proc)


def measure(deployments: int = 60, hours: int = 6, per_hour: int = 200) -> dict[str, Any]:
    """Seed, drain once to warm up, then drain one job per deployment with 1 and with 3
    workers. Django must be set up on PostgreSQL with CELERY_BROKER_URL pointing at Redis."""
    ids, end = seed(deployments, hours, per_hour)
    logs = Path(tempfile.mkdtemp(prefix="scale-workers-"))
    # Untimed: the first round pays one-time work (reference profiles built and stored, the
    # workers' imports warmed in the page cache) that would flatter the round after it.
    drain(ids, end, hours, 1, logs)
    one = drain(ids, end, hours, 1, logs)
    three = drain(ids, end, hours, 3, logs)
    return {
        "jobs": len(ids),
        "workers_1_s": one,
        "workers_3_s": three,
        "workers_3_vs_1": one / three,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, default=60)
    parser.add_argument("--hours", type=int, default=6, help="hours of events per deployment")
    parser.add_argument("--per-hour", type=int, default=200)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench/scale_workers.py needs DATABASE_URL=postgres://...")
    if not broker.startswith("redis://"):
        raise SystemExit("bench/scale_workers.py needs CELERY_BROKER_URL=redis://...")
    ensure_database(url)
    setup_django(url, "bench-scale-workers")
    result = measure(deployments=args.deployments, hours=args.hours, per_hour=args.per_hour)
    jobs = result["jobs"]
    print(f"{'workers':>7}  {'jobs':>5}  {'seconds':>8}  {'jobs/s':>7}")
    for workers in (1, 3):
        seconds = result[f"workers_{workers}_s"]
        print(f"{workers:>7}  {jobs:>5}  {seconds:>8.2f}  {jobs / seconds:>7.2f}")
    print(f"RESULT workers_3_vs_1={result['workers_3_vs_1']:.2f}")


if __name__ == "__main__":
    main()
