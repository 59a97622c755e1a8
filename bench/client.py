"""The Python client's two figures: what `log()` costs the serving thread, and how many
events per second reach a live Steward on PostgreSQL through the background sender.

The script (re)creates a PostgreSQL database (default
postgres://postgres@127.0.0.1:5432/steward_client_bench; dropped at the end unless --keep),
migrates it, seeds a model with a 4-feature schema and a staging deployment (bench/load.py's
world), starts gunicorn on 127.0.0.1, then:

1. **log() on the serving thread**: `--rounds` rounds of `--calls` `logger.log(...)` calls in
   a tight loop, each call timed with `perf_counter_ns` while the sender thread works beside
   it; a flush between rounds (not timed) keeps the bounded queue from filling;
2. **end to end**: `--events` events logged as fast as the loop goes, then `flush()`; the
   time runs from the first `log()` to the flush's return (every event acknowledged by the
   server), and the stored rows are counted in the database afterwards.

Usage: .venv/bin/python bench/client.py [--events 200000] [--calls 10000] [--rounds 10]
       [--batch 5000] [--database-url postgres://...] [--port 8174] [--keep]
Last line: RESULT client_log_us_p99=<µs per log() call on the serving thread>
           client_events_per_s=<end-to-end to a live server on PostgreSQL>
Goals: p99 under 50 µs; at least 20,000 events/s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from load import (  # noqa: E402 (bench/load.py, found through the path above)
    REGIONS,
    drop_database,
    start_seeded_server,
    stop_process,
    wait_until_up,
)
from steward_client import Steward  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/steward_client_bench"


def features(rng: np.random.Generator, n: int) -> list[dict[str, object]]:
    ages, incomes, visits = (
        rng.normal(40, 10, n),
        rng.normal(50_000, 9_000, n),
        rng.integers(0, 30, n),
    )
    return [
        {"age": float(a), "income": float(i), "visits": int(v), "region": REGIONS[k % 4]}
        for k, (a, i, v) in enumerate(zip(ages, incomes, visits, strict=True))
    ]


def log_latency(
    client: Steward, deployment: int, calls: int, rounds: int, spool: Path
) -> np.ndarray:
    """Nanoseconds per log() call, every call of every round."""
    rows = features(np.random.default_rng(1), calls)
    samples = np.empty(calls * rounds, dtype=np.int64)
    with client.prediction_logger(deployment, spool_root=spool, close_at_exit=False) as logger:
        for r in range(rounds):
            clock = time.perf_counter_ns
            for i, row in enumerate(rows):
                started = clock()
                logger.log(f"lat-{r}-{i}", row, "yes", 0.7, 3.2)
                samples[r * calls + i] = clock() - started
            assert logger.flush(timeout=120) == 0
    return samples


def throughput(
    client: Steward, deployment: int, events: int, batch: int, spool: Path
) -> tuple[float, dict[str, int]]:
    rows = features(np.random.default_rng(2), 10_000)
    with client.prediction_logger(
        deployment,
        spool_root=spool,
        batch_size=batch,
        queue_size=max(100_000, events),
        close_at_exit=False,
    ) as logger:
        started = time.perf_counter()
        for i in range(events):
            logger.log(f"tp-{i}", rows[i % len(rows)], "yes", 0.7, 3.2)
        left = logger.flush(timeout=600)
        elapsed = time.perf_counter() - started
        stats = vars(logger.stats).copy()
    assert left == 0, f"{left} events not delivered"
    return elapsed, stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument(
        "--database-url", default=os.environ.get("CLIENT_BENCH_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--port", type=int, default=8174)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    world, _env, logs, gunicorn = start_seeded_server(
        args.database_url,
        args.port,
        "bench-client",
        workers=args.gunicorn_workers,
        threads=2,
        timeout=120,
    )
    try:
        wait_until_up(args.port, gunicorn, logs / "gunicorn.log")
        client = Steward(f"http://127.0.0.1:{args.port}", world.token)
        with tempfile.TemporaryDirectory() as spool:
            # Warm up: every gunicorn worker imports its ingestion code on first use.
            throughput(client, world.deployment_id, 4 * args.batch, args.batch, Path(spool) / "w")
            ns = log_latency(
                client, world.deployment_id, args.calls, args.rounds, Path(spool) / "l"
            )
            elapsed, stats = throughput(
                client, world.deployment_id, args.events, args.batch, Path(spool) / "t"
            )
        from monitoring.models import PredictionEvent

        stored = PredictionEvent.objects.filter(
            deployment_id=world.deployment_id, request_id__startswith="tp-"
        ).count()
    finally:
        stop_process(gunicorn)
        if not args.keep:
            drop_database(args.database_url)

    us = ns / 1000
    p50, p99, p999 = np.percentile(us, [50, 99, 99.9])
    rate = args.events / elapsed
    print(f"\n## log() on the serving thread: {len(us):,} calls")
    print("| statistic | µs |\n|---|---|")
    for name, value in (("p50", p50), ("p99", p99), ("p99.9", p999), ("max", us.max())):
        print(f"| {name} | {value:.2f} |")
    print(
        f"\n## end to end: {args.events:,} events, batches of {args.batch:,}, gunicorn "
        f"{args.gunicorn_workers} workers, PostgreSQL"
    )
    print("| figure | value |\n|---|---|")
    print(f"| seconds, first log() to flush() returning | {elapsed:.2f} |")
    print(f"| events/s | {rate:,.0f} |")
    print(f"| stored in the database | {stored:,} |")
    print(
        f"| batches sent / spooled / retries | {stats['batches_sent']} / "
        f"{stats['batches_spooled']} / {stats['retries']} |"
    )
    assert stored == args.events, f"stored {stored} of {args.events}"
    print(f"RESULT client_log_us_p99={p99:.1f} client_events_per_s={rate:.0f}")


if __name__ == "__main__":
    main()
