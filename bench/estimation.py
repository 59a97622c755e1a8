"""Label-free estimation benchmark: Steward's CBPE against NannyML's CBPE on the same data.

Seeded synthetic binary data with known calibration: a score x (a weighted sum of three
features) whose true P(y = 1 | x) is sigmoid(2x), while the model scores sigmoid(3x) (right
ranking, over-confident probabilities that the reference calibration must fix). A reference
of `--reference` rows, then `--days` days of `--per-day` rows; over the last third of the days
the inputs drift towards the decision boundary (covariate shift: accuracy falls, P(y | x) does
not change). Labels exist for every day, so the estimates can be scored.

Both estimate each day's accuracy without labels:
- Steward: `calibration_fit` on the reference, then per day the 24 hourly `binary_counts`,
  merged (as the monitoring job stores and merges them) and `binary_estimate`d;
- NannyML: `CBPE(..., chunk_period="D")` fit on the reference and `estimate`d on the analysis
  rows, in its own virtual environment (bench/.venv-nannyml, made by this script from
  bench/requirements-nannyml.txt, as bench/drift.py does for Evidently), fed through Parquet.

Each time covers the fit and the estimate, not reading the data (Steward: median of three).
The score of an estimator is the MAE of its estimated daily accuracy against the realised one.

Usage: .venv/bin/python bench/estimation.py [--quick] [--no-nannyml]
The last line is `RESULT cbpe_mae=<x> nannyml_cbpe_mae=<y> cbpe_speedup_vs_nannyml=<z>`;
goals: cbpe_mae <= nannyml_cbpe_mae + 0.005 and a speed-up of at least 10.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from harness import side_python

from monitoring.engines import estimation as est

BENCH = Path(__file__).resolve().parent
NANNYML_VENV = BENCH / ".venv-nannyml"
REQUIREMENTS = BENCH / "requirements-nannyml.txt"
START = pd.Timestamp("2026-01-01", tz="UTC")

NANNYML_RUNNER = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
import nannyml as nml
reference = pd.read_parquet(sys.argv[1])
analysis = pd.read_parquet(sys.argv[2])
started = time.perf_counter()
estimator = nml.CBPE(
    y_pred_proba="score", y_pred="predicted", y_true="y", timestamp_column_name="timestamp",
    metrics=["accuracy"], chunk_period="D", problem_type="classification_binary",
)
estimator.fit(reference)
results = estimator.estimate(analysis.drop(columns="y")).filter(period="analysis").to_df()
seconds = time.perf_counter() - started
days = [str(pd.Timestamp(d).date()) for d in results[("chunk", "start_date")]]
values = [float(v) for v in results[("accuracy", "value")]]
print(json.dumps({"seconds": seconds, "version": nml.__version__, "days": days, "values": values}))
"""


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def frame(rng: np.random.Generator, n: int, day: int, spread: float) -> pd.DataFrame:
    """`n` rows of day `day` (0 = the reference's day) with inputs of the given spread."""
    features = rng.normal(0.0, spread, size=(n, 3))
    x = features @ np.array([0.6, 0.3, 0.1]) / np.sqrt(0.46)
    y = (rng.random(n) < _sigmoid(2 * x)).astype(int)
    score = _sigmoid(3 * x)
    seconds = np.sort(rng.uniform(0, 86_400, n))
    return pd.DataFrame(
        {
            "timestamp": START + pd.Timedelta(days=day) + pd.to_timedelta(seconds, unit="s"),
            "f0": features[:, 0],
            "f1": features[:, 1],
            "f2": features[:, 2],
            "score": score,
            "predicted": (score >= 0.5).astype(int),
            "y": y,
        }
    )


def dataset(reference_rows: int, days: int, per_day: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(20260305)
    reference = frame(rng, reference_rows, -1, 1.5)
    shift_from = days - days // 3
    parts = []
    for day in range(days):
        # Over the last third the inputs gather towards the boundary (spread 1.5 -> 0.5).
        progress = max(0, day - shift_from + 1) / max(days - shift_from, 1)
        parts.append(frame(rng, per_day, day, 1.5 - progress))
    return reference, pd.concat(parts, ignore_index=True)


def realised_daily(analysis: pd.DataFrame) -> pd.Series:
    day = analysis["timestamp"].dt.date.astype(str)
    return (analysis["predicted"] == analysis["y"]).groupby(day).mean()


def steward(reference: pd.DataFrame, analysis: pd.DataFrame) -> dict[str, Any]:
    """Fit, count per hour (one vectorised pass, as the monitoring job does) and estimate each
    day's accuracy from its 24 merged hourly counts (median of 3 runs)."""
    hours = analysis["timestamp"].dt.floor("h")
    scores = analysis["score"].to_numpy()
    hour_index, hour_values = pd.factorize(hours, sort=True)
    hour_days = [str(hour.date()) for hour in hour_values]
    runs, values = [], {}
    for _ in range(3):
        started = time.perf_counter()
        calibration = est.calibration_fit(reference["score"].to_numpy(), reference["y"].to_numpy())
        hourly = est.binary_counts_grouped(
            scores, hour_index, len(hour_values), calibration=calibration, threshold=0.5
        )
        per_day: dict[str, list[est.Counts]] = {}
        for day, counts in zip(hour_days, hourly, strict=True):
            per_day.setdefault(day, []).append(counts)
        values = {
            day: est.binary_estimate(est.merge_counts(parts))["accuracy"]["value"]
            for day, parts in per_day.items()
        }
        runs.append(time.perf_counter() - started)
    return {"seconds": statistics.median(runs), "values": values, "calibrated": calibration.used}


def nannyml_python() -> Path | None:
    return side_python(NANNYML_VENV, REQUIREMENTS, "nannyml", "NannyML")


def nannyml(python: Path, reference: pd.DataFrame, analysis: pd.DataFrame) -> dict | None:
    with tempfile.TemporaryDirectory() as tmp:
        ref_path, cur_path = Path(tmp) / "reference.parquet", Path(tmp) / "analysis.parquet"
        naive = {"timestamp": lambda f: f["timestamp"].dt.tz_localize(None)}
        reference.assign(**naive).to_parquet(ref_path)
        analysis.assign(**naive).to_parquet(cur_path)
        done = subprocess.run(
            [str(python), "-c", NANNYML_RUNNER, str(ref_path), str(cur_path)],
            capture_output=True,
            text=True,
        )
    if done.returncode != 0:
        print("NannyML failed:\n" + done.stderr.strip()[-3000:])
        return None
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    answer["values"] = dict(zip(answer.pop("days"), answer["values"], strict=True))
    return answer


def mae(values: dict[str, float], realised: pd.Series) -> float:
    return float(np.mean([abs(values[day] - realised[day]) for day in realised.index]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 days of 2,000 rows")
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--per-day", type=int, default=5_000)
    parser.add_argument("--reference", type=int, default=20_000)
    parser.add_argument("--no-nannyml", action="store_true", help="skip NannyML")
    args = parser.parse_args()
    days, per_day = (30, 2_000) if args.quick else (args.days, args.per_day)
    reference, analysis = dataset(args.reference, days, per_day)
    realised = realised_daily(analysis)
    ours = steward(reference, analysis)
    python = None if args.no_nannyml else nannyml_python()
    theirs = nannyml(python, reference, analysis) if python else None

    print(
        f"\n{days} days x {per_day:,} rows, reference {args.reference:,} rows; "
        f"realised daily accuracy {realised.min():.3f} .. {realised.max():.3f}"
    )
    print(f"{'estimator':<34}{'seconds':>10}{'MAE':>10}{'max |err|':>11}")
    rows = [("Steward CBPE (hourly counts)", ours)]
    if theirs:
        rows.append((f"NannyML {theirs['version']} CBPE", theirs))
    for name, result in rows:
        errors = [abs(result["values"][day] - realised[day]) for day in realised.index]
        print(f"{name:<34}{result['seconds']:>10.3f}{np.mean(errors):>10.4f}{max(errors):>11.4f}")
    print(f"Steward calibration applied: {ours['calibrated']}")
    ours_mae = mae(ours["values"], realised)
    if theirs:
        their_mae = f"{mae(theirs['values'], realised):.4f}"
        speedup = f"{theirs['seconds'] / ours['seconds']:.1f}"
    else:
        their_mae = speedup = "n/a"
    print(
        f"\nRESULT cbpe_mae={ours_mae:.4f} nannyml_cbpe_mae={their_mae} "
        f"cbpe_speedup_vs_nannyml={speedup}"
    )


if __name__ == "__main__":
    main()
