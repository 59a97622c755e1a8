"""Summary ingestion benchmark: hourly summaries posted instead of events, on PostgreSQL.

The script migrates the database named by DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/scale_bench, created if missing), registers a binary model
with a 10-feature schema (7 numeric, 1 integer, 2 categorical) trained on a seeded reference
dataset, and deploys it. It then builds, before any clock starts, `hours` hourly summaries
of `rows_per_hour` seeded events with the client's summary mode
(`steward_client.summary_mode.hourly_summaries`, the same code a serving host or the Spark
job runs; summaries in the packed form, arrays as base64 of little-endian bytes), grouped in
bodies of `hours_per_post` hours and encoded as JSON, and measures:

- **post**: the bodies through `POST /api/v1/deployments/{id}/summaries/` in-process (DRF's
  APIClient with force_authenticate: no network, but the full request path: routing,
  permission checks, JSON parsing, base64 decoding, per-summary validation against the
  layouts, the upsert of one binary row per hour, the stale marks, the audit entry,
  commit). One untimed body goes first. With `--clients N` (default 2, one per core of this
  machine, as N gunicorn workers would serve N senders: Spark executors or serving hosts),
  N processes each post `hours` hours to a deployment of their own, all starting together;
  the rate is all their feature-hours over the time from the start to the last one's end.
  The table gives one client alone first, then the N together;
- **merge**: the monitoring job's rebuild of those hours (`hours_build`): the posted rows read
  back, merged per hour, written as hourly summary and health rows (one COPY per table).

A feature-hour is one feature's (or the prediction's) summary of one hour.

Usage: .venv/bin/python bench/scale_ingest.py [--quick] [--hours 2000] [--hours-per-post 100]
    [--clients 2]
Bodies hold 100 hours by default, the Spark job's size (docs/spark.md); a serving host in
summary mode sends fewer, smaller bodies (`--hours-per-post 24` or 1 shows their rate).
The last line is `RESULT summary_ingest_feature_hours_per_s=<n>` (the rate of the N clients
together). Goal: >= 20,000 feature-hours per second.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import time
from typing import Any

import numpy as np
import orjson
import pandas as pd
from harness import ensure_database, setup_django
from workload import bench_deployment, features

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/scale_bench"


def rows_frame(n: int, seed: int) -> pd.DataFrame:
    frame = features(n, seed)
    frame["prediction"] = np.random.default_rng(seed).choice(["yes", "no"], size=n)
    return frame


def make_deployment() -> tuple[Any, Any]:
    return bench_deployment("Summary bench", rows_frame(5_000, seed=1))


def make_bodies(
    layouts: dict[str, Any], hours: int, rows_per_hour: int, hours_per_post: int
) -> list[bytes]:
    """`hours` hourly summaries ending two hours ago, in bodies of `hours_per_post` hours."""
    from steward_client.summary_mode import hourly_summaries

    now = pd.Timestamp.now(tz="UTC").floor("h")
    first = now - pd.Timedelta(hours=hours + 1)
    entries: list[dict[str, Any]] = []
    # One frame of rows per 48 hours: the summaries differ from hour to hour as in production.
    for block in range(0, hours, 48):
        span = min(48, hours - block)
        frame = rows_frame(span * rows_per_hour, seed=100 + block)
        offsets = np.arange(len(frame)) * (3600 * span / len(frame))
        frame["timestamp"] = first + pd.Timedelta(hours=block) + pd.to_timedelta(offsets, unit="s")
        frame["request_id"] = [f"b{block}-{i}" for i in range(len(frame))]
        frame["latency_ms"] = np.random.default_rng(block).gamma(2.0, 10.0, len(frame))
        entries += hourly_summaries(frame, layouts)
    digest = layouts["digest"]
    return [
        orjson.dumps(
            {"format": 1, "layout_digest": digest, "hours": entries[i : i + hours_per_post]}
        )
        for i in range(0, len(entries), hours_per_post)
    ]


def post_all(owner: Any, deployment: Any, bodies: list[bytes]) -> tuple[int, int]:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user=owner)
    url = f"/api/v1/deployments/{deployment.pk}/summaries/"
    hours = feature_hours = 0
    for body in bodies:
        response = client.post(url, data=body, content_type="application/json")
        if response.status_code != 200:
            raise SystemExit(f"body refused: {response.status_code} {response.content[:500]!r}")
        hours += response.json()["hours"]
        feature_hours += response.json()["feature_hours"]
    return hours, feature_hours


def _client(owner: Any, deployment: Any, bodies: list[bytes], barrier: Any, results: Any) -> None:
    """One posting process: wait for the others, post, report (feature-hours, end time)."""
    from django.db import connections

    barrier.wait()
    _, feature_hours = post_all(owner, deployment, bodies)
    results.put((feature_hours, time.perf_counter()))
    connections.close_all()


def post_together(jobs: list[tuple[Any, Any, list[bytes]]]) -> tuple[int, float]:
    """Post each job's bodies from a process of its own, all starting at once; returns
    (feature-hours, seconds from the start to the last process's end). perf_counter is the
    system's monotonic clock, the same in every process."""
    import multiprocessing

    from django.db import connections

    connections.close_all()  # no connection crosses the fork: each process opens its own
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(jobs) + 1)
    results = context.Queue()
    processes = [context.Process(target=_client, args=(*job, barrier, results)) for job in jobs]
    for process in processes:
        process.start()
    barrier.wait()
    started = time.perf_counter()
    reports = [results.get() for _ in processes]
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise SystemExit(f"a posting process failed (exit code {process.exitcode})")
    return sum(hours for hours, _ in reports), max(end for _, end in reports) - started


def measure(
    *,
    url: str | None = None,
    hours: int = 2_000,
    rows_per_hour: int = 200,
    hours_per_post: int = 100,
    clients: int = 2,
    setup: bool = True,
) -> dict[str, Any]:
    """Post `hours` hourly summaries from one client, then from `clients` clients at once
    (each to its own deployment), and merge the first client's hours; returns the figures
    (see the module docstring). With `setup` False, Django is already set up on the database
    to use."""
    if setup:
        url = url or os.environ.get("DATABASE_URL", DEFAULT_URL)
        if not url.startswith(("postgres://", "postgresql://")):
            raise SystemExit("bench/scale_ingest.py measures PostgreSQL: DATABASE_URL=postgres://")
        ensure_database(url)
        setup_django(url, "bench-scale-ingest")
    from monitoring.models import HourlySummary, PostedSummary
    from monitoring.rollups.hourly import hours_build
    from monitoring.rollups.posted import layouts_describe

    jobs = []
    for _ in range(max(clients, 1) + 1):
        owner, deployment = make_deployment()
        layouts = layouts_describe(version=deployment.version)
        post_all(owner, deployment, make_bodies(layouts, 1, rows_per_hour, 1))  # untimed warm-up
        jobs.append((owner, deployment, make_bodies(layouts, hours, rows_per_hour, hours_per_post)))
    features = len(layouts["features"]) + (layouts["prediction"] is not None)
    megabytes = sum(len(body) for body in jobs[0][2]) / 1e6
    owner, deployment, bodies = jobs[0]
    started = time.perf_counter()
    posted_hours, feature_hours = post_all(owner, deployment, bodies)
    post_s = time.perf_counter() - started
    together_fh, together_s = post_together(jobs[1:])
    if together_fh != feature_hours * (len(jobs) - 1):
        raise SystemExit(f"the clients posted {together_fh} feature-hours, not all of theirs")
    stamps = sorted(
        PostedSummary.objects.filter(deployment=deployment).values_list("hour", flat=True)
    )
    started = time.perf_counter()
    built = hours_build(deployment, [moment.astimezone(dt.UTC) for moment in stamps])
    merge_s = time.perf_counter() - started
    rows = HourlySummary.objects.filter(deployment=deployment).count()
    if built != len(stamps) or rows != len(stamps) * features:
        raise SystemExit(f"merged {built} hours into {rows} rows, expected {len(stamps)} hours")
    return {
        "hours": posted_hours,
        "features": features,
        "feature_hours": feature_hours,
        "hours_per_post": hours_per_post,
        "body_mb": megabytes,
        "clients": len(jobs) - 1,
        "post_s": post_s,
        "together_feature_hours": together_fh,
        "together_s": together_s,
        "merge_s": merge_s,
        "one_client_feature_hours_per_s": feature_hours / post_s,
        "summary_ingest_feature_hours_per_s": together_fh / together_s,
        "summary_merge_feature_hours_per_s": feature_hours / merge_s,
    }


def report(result: dict[str, Any]) -> str:
    out = io.StringIO()
    out.write(f"{'step':<52}{'feature-hours':>14}{'seconds':>10}{'per second':>12}\n")
    body = f"{result['hours_per_post']} hours a body, {result['body_mb']:.0f} MB a client"
    steps = (
        (
            f"post, 1 client ({body})",
            result["feature_hours"],
            result["post_s"],
            result["one_client_feature_hours_per_s"],
        ),
        (
            f"post, {result['clients']} clients at once",
            result["together_feature_hours"],
            result["together_s"],
            result["summary_ingest_feature_hours_per_s"],
        ),
        (
            "merge into hourly rows (1 client's hours)",
            result["feature_hours"],
            result["merge_s"],
            result["summary_merge_feature_hours_per_s"],
        ),
    )
    for name, count, seconds, rate in steps:
        out.write(f"{name:<52}{count:>14}{seconds:>10.2f}{rate:>12.0f}\n")
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="240 hours")
    parser.add_argument("--hours", type=int, default=2_000)
    parser.add_argument("--rows-per-hour", type=int, default=200)
    parser.add_argument("--hours-per-post", type=int, default=100)
    parser.add_argument(
        "--clients", type=int, default=2, help="processes posting at once (one per core here)"
    )
    args = parser.parse_args()
    hours = 240 if args.quick else args.hours
    result = measure(
        hours=hours,
        rows_per_hour=args.rows_per_hour,
        hours_per_post=args.hours_per_post,
        clients=args.clients,
    )
    print(report(result), end="")
    print(
        "RESULT summary_ingest_feature_hours_per_s="
        f"{result['summary_ingest_feature_hours_per_s']:.0f}"
    )


if __name__ == "__main__":
    main()
