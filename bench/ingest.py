"""Ingestion benchmark: prediction events through the bulk API into PostgreSQL, against a raw
COPY of the same rows into the same table as the upper limit.

The script migrates the database named by DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/ingest_bench, created if missing), registers a model with
a 10-feature schema (7 numeric, 1 integer, 2 categorical) and a staging deployment, then:

- **bulk API**: posts N seeded events in batches through `/api/v1/deployments/{id}/predictions/`
  in-process (DRF's APIClient with force_authenticate: no network, but the full request path:
  URL routing, permission checks, parsing, vectorised validation, Arrow CSV, COPY in a
  savepoint (fresh request ids; re-posts take the temporary-table path with ON CONFLICT DO
  NOTHING), one audit entry per batch, commit). Bodies are encoded before the clock starts,
  as a serving app would have them ready. One untimed batch of 100 events goes first
  (imports, first-request set-up), then the table is truncated;
- **raw COPY**: truncates the table and COPies the same rows, already written as CSV, straight
  into it (same indexes and unique constraint), one transaction.

Usage: .venv/bin/python bench/ingest.py [--quick] [--events 200000] [--batch 5000]
       [--format json|ndjson|csv]
The last line is `RESULT ingest_events_per_s=<n> ingest_vs_copy=<ratio>`: events per second
through the API, and that rate over COPY's. Target: ratio >= 0.30.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import time
from typing import Any

import numpy as np
import pandas as pd
from harness import ensure_database, setup_django
from workload import NUMERIC, bench_deployment

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ingest_bench"


def make_events(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    numbers = rng.normal(size=(n, len(NUMERIC))).round(6)
    visits = rng.integers(0, 50, size=n)
    region = rng.choice(["north", "south", "east", "west"], size=n)
    plan = rng.choice(["free", "pro", "team"], size=n)
    scores = rng.random(n).round(6)
    latency = rng.gamma(2.0, 10.0, size=n).round(3)
    start = pd.Timestamp("2026-11-01T00:00:00Z")
    stamps = (start + pd.to_timedelta(np.arange(n), unit="s")).strftime("%Y-%m-%dT%H:%M:%SZ")
    events = []
    for i in range(n):
        features = dict(zip(NUMERIC, numbers[i].tolist(), strict=True))
        features |= {"visits": int(visits[i]), "region": region[i], "plan": plan[i]}
        events.append(
            {
                "request_id": f"req-{i:09d}",
                "timestamp": stamps[i],
                "prediction": "yes" if scores[i] > 0.5 else "no",
                "score": float(scores[i]),
                "latency_ms": float(latency[i]),
                "status": "ok",
                "cache_hit": bool(i % 5 == 0),
                "cpu": 0.35,
                "memory": 512.0,
                "features": features,
            }
        )
    return events


def encode(batch: list[dict[str, Any]], fmt: str) -> tuple[bytes, str]:
    if fmt == "json":
        return json.dumps(batch).encode(), "application/json"
    if fmt == "ndjson":
        return "\n".join(json.dumps(e) for e in batch).encode(), "application/x-ndjson"
    flat = pd.DataFrame(
        [{k: v for k, v in e.items() if k != "features"} | e["features"] for e in batch]
    )
    return flat.to_csv(index=False).encode(), "text/csv"


def run_api(
    owner: Any, deployment: Any, events: list[dict[str, Any]], *, size: int, fmt: str
) -> float:
    from rest_framework.test import APIClient

    bodies = [encode(events[i : i + size], fmt) for i in range(0, len(events), size)]
    client = APIClient()
    client.force_authenticate(user=owner)
    url = f"/api/v1/deployments/{deployment.pk}/predictions/"
    accepted = 0
    started = time.perf_counter()
    for body, content_type in bodies:
        response = client.post(url, data=body, content_type=content_type)
        if response.status_code != 200:
            raise SystemExit(f"batch refused: {response.status_code} {response.content[:500]!r}")
        accepted += response.json()["accepted"]
    elapsed = time.perf_counter() - started
    if accepted != len(events):
        raise SystemExit(f"accepted {accepted} of {len(events)} events")
    return elapsed


def copy_text(deployment_id: int, events: list[dict[str, Any]]) -> tuple[str, list[str]]:
    frame = pd.DataFrame(
        {
            "deployment_id": deployment_id,
            "request_id": [e["request_id"] for e in events],
            "timestamp": [e["timestamp"] for e in events],
            "features": [json.dumps(e["features"]) for e in events],
            "prediction_label": [e["prediction"] for e in events],
            "prediction_score": [e["score"] for e in events],
            "latency_ms": [e["latency_ms"] for e in events],
            "status": "ok",
            "error": "",
            "cache_hit": ["t" if e["cache_hit"] else "f" for e in events],
            "cpu": 0.35,
            "memory": 512.0,
            "received_at": pd.Timestamp.now(tz="UTC").isoformat(),
        }
    )
    return frame.to_csv(index=False, header=False), list(frame.columns)


def run_copy(deployment_id: int, events: list[dict[str, Any]]) -> float:
    from django.db import connection, transaction

    from monitoring.models import PredictionEvent

    text, columns = copy_text(deployment_id, events)
    table = PredictionEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        options = "FORMAT csv, FORCE_NOT_NULL (error)"
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH ({options})"
        with cursor.copy(sql) as copy:
            copy.write(text)
    elapsed = time.perf_counter() - started
    stored = PredictionEvent.objects.filter(deployment_id=deployment_id).count()
    if stored != len(events):
        raise SystemExit(f"COPY stored {stored} of {len(events)} rows")
    return elapsed


def warm_up(owner: Any, deployment: Any) -> None:
    """One small untimed batch first, so imports and first-request set-up are not timed."""
    events = make_events(100, seed=1)
    for event in events:
        event["request_id"] = "warm-up-" + event["request_id"]
    run_api(owner, deployment, events, size=100, fmt="json")


def truncate_events() -> None:
    from django.db import connection

    from monitoring.models import PredictionEvent

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {PredictionEvent._meta.db_table}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="20,000 events (batches as given, 5,000 by default)"
    )
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--format", choices=["json", "ndjson", "csv"], default="json")
    args = parser.parse_args()
    if args.quick:
        args.events = 20_000
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench/ingest.py measures PostgreSQL: DATABASE_URL must be postgres://")
    ensure_database(url)
    setup_django(url, "bench-ingest")
    owner, deployment = bench_deployment("Ingest bench")
    events = make_events(args.events)
    warm_up(owner, deployment)
    truncate_events()
    api_s = run_api(owner, deployment, events, size=args.batch, fmt=args.format)
    copy_s = run_copy(deployment.pk, events)
    report(args, api_s, copy_s)


def report(args: argparse.Namespace, api_s: float, copy_s: float) -> None:
    n = args.events
    api_rate, copy_rate = n / api_s, n / copy_s
    out = io.StringIO()
    out.write(f"{'path':<34}{'events':>10}{'seconds':>10}{'events/s':>12}\n")
    label = f"bulk API ({args.format}, batches of {args.batch})"
    out.write(f"{label:<34}{n:>10}{api_s:>10.2f}{api_rate:>12.0f}\n")
    out.write(f"{'raw COPY (one transaction)':<34}{n:>10}{copy_s:>10.2f}{copy_rate:>12.0f}\n")
    print(out.getvalue(), end="")
    print(f"RESULT ingest_events_per_s={api_rate:.0f} ingest_vs_copy={api_rate / copy_rate:.2f}")


if __name__ == "__main__":
    main()
