"""Spark summaries job: throughput on local Spark, and its distance from Steward's own engine.

Untimed: a seeded table of `rows` predictions of 4 deployments over 24 hours (7 numeric
features, one with 5% missing values, and 3 categorical ones, one with unseen values; a label
prediction) is written to Parquet in `--partitions` files, and layouts are built from a
separate reference sample. Timed: `steward_client.spark.run(spark, <parquet path>,
layouts=..., post=False)` (read, mapInPandas partials, group-by merge, collect), best of
`--repeat` runs, on a `local[2]` session started beforehand.

Then the engine's summaries of the same rows, built as monitoring/rollups/hourly.py builds
them from raw events (`rows_frame`, `feature_frame`, `row_keys`, one `summarize` per feature
and hour), are compared with the job's: counts, missing, min, max and the bounded sample must
be identical; `max_abs_diff` is the largest |Spark - engine| over every figure drift reads from
a summary (slot and category proportions, mean, standard deviation, min, max, sample values).

Usage: .venv/bin/python bench/scale_spark.py [--rows 1000000] [--partitions 8] [--repeat 2]
The last line is `RESULT spark_rows_per_s=<n> spark_max_abs_diff=<x>`. Goal: diff <= 1e-9.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
NUMERIC = [f"x{i}" for i in range(7)]
CATEGORIES = {
    "region": ["north", "south", "east", "west"],
    "plan": ["free", "pro", "team"],
    "device": ["ios", "android", "web"],
}
DEPLOYMENTS = [11, 12, 13, 14]
HOURS = 24
START = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def _setup() -> None:
    """The engine's modules import Django models: settings without a database connection."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "clients" / "python"))
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    import django

    django.setup()


def table(rows: int, seed: int = 7) -> pd.DataFrame:
    """The prediction table: deployment, timestamp, request_id, features, prediction."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, len(NUMERIC))).round(6), columns=NUMERIC)
    frame.loc[rng.random(rows) < 0.05, "x0"] = np.nan
    frame["x1"] = 250.0 + 40.0 * frame["x1"]
    for name, values in CATEGORIES.items():
        frame[name] = rng.choice(values + (["kiosk"] if name == "device" else []), size=rows)
    frame.insert(0, "deployment", rng.choice(DEPLOYMENTS, size=rows))
    seconds = rng.integers(0, HOURS * 3600, size=rows)
    frame.insert(1, "timestamp", pd.Timestamp(START) + pd.to_timedelta(seconds, unit="s"))
    frame.insert(2, "request_id", [f"r{seed}-{i}" for i in range(rows)])
    frame["prediction"] = np.where(rng.random(rows) < 0.3, "yes", "no")
    return frame


def layouts_payload(seed: int = 1) -> dict[str, Any]:
    from steward_client.summaries import CategoricalLayout, NumericLayout

    reference = table(20_000, seed=seed)
    features: dict[str, Any] = {
        name: NumericLayout.from_reference(reference[name]).to_dict() for name in NUMERIC
    }
    features |= {
        name: CategoricalLayout.from_reference(values).to_dict()
        for name, values in CATEGORIES.items()
    }
    prediction = CategoricalLayout.from_reference(["yes", "no"]).to_dict()
    return {
        "format": 1,
        "version": 1,
        "digest": "bench",
        "features": features,
        "prediction": prediction,
    }


def engine_summaries(frame: pd.DataFrame, payload: dict[str, Any]) -> dict[tuple, dict]:
    """{(deployment, hour, feature): summary dict} as the engine's hourly rollup builds them."""
    from steward_client.spark import parse_layouts
    from steward_client.summaries import summarize

    from monitoring.rollups.hourly import feature_frame, row_keys, rows_frame

    layouts = parse_layouts(payload)
    names = list(payload["features"])
    out = {}
    for deployment, part in frame.groupby("deployment"):
        records = part[names].to_dict("records")
        # Missing numbers are left out of the event's features, as a service sends them.
        events = [
            (rid, ts, _present(rec), label, None, None, "ok", None, None, None)
            for rid, ts, rec, label in zip(
                part["request_id"], part["timestamp"], records, part["prediction"], strict=True
            )
        ]
        events_frame = rows_frame(events)
        values = feature_frame(events_frame, list(layouts))
        keys = row_keys(events_frame)
        for hour, rows in events_frame.groupby("hour").indices.items():
            stamp = hour.strftime("%Y-%m-%dT%H:%M:%SZ")
            for name, layout in layouts.items():
                summary = summarize(values[name].to_numpy()[rows], layout, row_keys=keys[rows])
                out[(str(deployment), stamp, name)] = summary.to_dict()
    return out


def _present(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not (isinstance(v, float) and np.isnan(v))}


def _figures(summary: dict[str, Any]) -> np.ndarray:
    """The numbers drift reads from a summary."""
    counts = np.asarray(summary["counts"], dtype=np.float64)
    proportions = counts / counts.sum() if counts.sum() else counts
    if summary["kind"] == "categorical":
        return proportions
    count = summary["count"]
    extra = [summary["sum"] / count, np.sqrt(summary["m2"] / count)] if count else []
    extra += [v for v in (summary["min"], summary["max"]) if v is not None]
    return np.concatenate((proportions, extra, summary["sample"]["values"]))


def compare(spark_hours: dict[str, list[dict]], engine: dict[tuple, dict]) -> float:
    """The largest |Spark - engine| figure; raises if any count or the sample differ."""
    worst = 0.0
    seen = 0
    for deployment, entries in spark_hours.items():
        for entry in entries:
            built = dict(entry["features"]) | {"__prediction__": entry["prediction"]}
            for name, summary in built.items():
                expected = engine[(deployment, entry["hour"], name)]
                seen += 1
                exact = ("counts", "count", "missing", "invalid", "min", "max", "sample")
                for key in exact:
                    if summary.get(key) != expected.get(key):
                        raise AssertionError(f"{deployment} {entry['hour']} {name}: {key} differs")
                diff = np.abs(_figures(summary) - _figures(expected))
                worst = max(worst, float(diff.max()) if diff.size else 0.0)
    if seen != len(engine):
        raise AssertionError(f"{seen} summaries from Spark, {len(engine)} from the engine")
    return worst


def measure(
    rows: int = 1_000_000, *, partitions: int = 8, repeat: int = 2, spark: Any = None
) -> dict[str, Any]:
    """Run the job on `rows` rows; returns its throughput and its distance from the engine."""
    _setup()
    from pyspark.sql import SparkSession
    from steward_client.spark import run

    own = spark is None
    if own:
        spark = (
            SparkSession.builder.master("local[2]")
            .appName("steward-bench")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.memory", "2g")
            .getOrCreate()
        )
    frame = table(rows)
    payload = layouts_payload()
    layouts = {str(d): payload for d in DEPLOYMENTS}
    try:
        with tempfile.TemporaryDirectory(prefix="steward-spark-bench-") as folder:
            path = str(Path(folder) / "predictions")
            spark.createDataFrame(frame).repartition(partitions).write.parquet(path)
            times = []
            for _ in range(repeat):
                began = time.perf_counter()
                result = run(spark, path, layouts=layouts, post=False)
                times.append(time.perf_counter() - began)
        best = min(times)
        engine = engine_summaries(frame, payload)
        diff = compare(result.hours, engine)
    finally:
        if own:
            spark.stop()
    hours = sum(len(entries) for entries in result.hours.values())
    return {
        "rows": rows,
        "partitions": partitions,
        "hours": hours,
        "summaries": len(engine),
        "seconds": best,
        "rows_per_s": rows / best,
        "max_abs_diff": diff,
        "counted_rows": result.rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    figures = measure(args.rows, partitions=args.partitions, repeat=args.repeat)
    print(f"{'rows':>10} {'files':>6} {'hours':>6} {'summaries':>10} {'seconds':>8} {'rows/s':>10}")
    print(
        f"{figures['rows']:>10} {figures['partitions']:>6} {figures['hours']:>6} "
        f"{figures['summaries']:>10} {figures['seconds']:>8.2f} {figures['rows_per_s']:>10.0f}"
    )
    print(
        f"max |Spark - engine| over proportions, mean, std, min, max, sample: "
        f"{figures['max_abs_diff']:.3g}"
    )
    print(
        f"RESULT spark_rows_per_s={figures['rows_per_s']:.0f} "
        f"spark_max_abs_diff={figures['max_abs_diff']:.3g}"
    )


if __name__ == "__main__":
    main()
