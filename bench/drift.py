"""Drift benchmark: Steward's engine against a plain numpy/scipy baseline and Evidently.

For each size, 20 numeric and 5 categorical features (seeded synthetic data; some columns
shifted, one with missing values, one with four distinct values, one with a new category), the
script times in one run:

- Steward, exact path on raw columns (`detect_drift` on the DataFrames, reference sorted cold);
- a plain numpy/scipy baseline computing the same statistic per column as Steward chose
  (scipy.stats.wasserstein_distance / np.std, ks_2samp, np.unique + jensenshannon, chisquare);
- Steward from precomputed summaries (the reference profile is built once and reused);
- Evidently's `Report([DataDriftPreset()])`, in its own virtual environment (Evidently 0.7
  needs pandas < 3): bench/.venv-evidently, made by this script from
  bench/requirements-evidently.txt, fed the same data through a Parquet file.

Steward and the baseline are timed as the median of three runs, Evidently once (it is slow);
Evidently's time covers `Dataset.from_pandas` and `Report.run`, not reading the Parquet file.
It then compares, column by column, Steward's score with Evidently's where both used the same
method, and reports a 30-day window computed by merging 720 hourly summaries.

Usage: .venv/bin/python bench/drift.py [--quick] [--sizes 200000,1000000] [--no-evidently]
The last line is `RESULT drift_speedup_vs_evidently=<x> drift_vs_numpy=<y> max_abs_diff=<z>`,
taken at the largest size: Evidently's seconds over Steward's exact seconds, Steward's exact
seconds over the baseline's, and the largest |Steward - Evidently| over all sizes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from harness import side_python
from scipy import stats
from scipy.spatial import distance

from monitoring.engines import (
    CategoricalLayout,
    NumericLayout,
    detect_drift,
    merge_all,
    summarize,
)

BENCH = Path(__file__).resolve().parent
EVIDENTLY_VENV = BENCH / ".venv-evidently"
REQUIREMENTS = BENCH / "requirements-evidently.txt"
NUMERIC = [f"num_{i:02d}" for i in range(20)]
CATEGORICAL = [f"cat_{i}" for i in range(5)]
SCHEMA = {**dict.fromkeys(NUMERIC, "numeric"), **dict.fromkeys(CATEGORICAL, "categorical")}
HOURS = 720
EVIDENTLY_METHODS = {
    "K-S p_value": "ks",
    "Wasserstein distance (normed)": "wasserstein",
    "Jensen-Shannon distance": "jensenshannon",
    "chi-square p_value": "chisquare",
    "Z-test p_value": "z",
    "PSI": "psi",
}

EVIDENTLY_RUNNER = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
import evidently
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset

reference = pd.read_parquet(sys.argv[1])
current = pd.read_parquet(sys.argv[2])
numeric, categorical = json.loads(sys.argv[3]), json.loads(sys.argv[4])
start = time.perf_counter()
definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
snapshot = Report([DataDriftPreset()]).run(
    Dataset.from_pandas(current, data_definition=definition),
    Dataset.from_pandas(reference, data_definition=definition),
)
seconds = time.perf_counter() - start
values = {}
for metric in snapshot.dict()["metrics"]:
    config = metric["config"]
    if config.get("type", "").endswith("ValueDrift"):
        values[config["column"]] = {"method": config["method"], "value": metric["value"]}
print(json.dumps({"seconds": seconds, "version": evidently.__version__, "values": values}))
"""


# --- data -------------------------------------------------------------------------------------


def _numeric_column(rng: np.random.Generator, i: int, n: int, current: bool) -> np.ndarray:
    shifted = current and i % 3 == 0 and i < 15
    if i == 19:  # four distinct values: compared as categories
        probabilities = [0.4, 0.3, 0.2, 0.1] if not shifted and not current else [0.3] * 3 + [0.1]
        return rng.choice([0.0, 1.0, 2.0, 3.0], size=n, p=probabilities)
    shape = i % 4
    shift = 0.25 if shifted else 0.0
    if shape == 0:
        values = rng.normal(10 + shift * 3, 3, n)
    elif shape == 1:
        values = rng.lognormal(1 + shift, 0.5, n)
    elif shape == 2:
        values = rng.uniform(0, 100 * (1 + shift), n)
    else:
        values = np.round(rng.gamma(2 + 4 * shift, 2, n), 2)  # ties
    if i == 18:
        values[rng.uniform(size=n) < 0.02] = np.nan
    return values


def _categorical_column(rng: np.random.Generator, j: int, n: int, current: bool) -> np.ndarray:
    size = 6 + 2 * j
    labels = np.array([f"{chr(97 + j)}_{k:02d}" for k in range(size)] + ["new"])
    weights = 1.0 / np.arange(1, size + 1)
    if current and j < 2:
        weights = weights[::-1]
    weights = np.append(weights, weights.sum() * 0.01 if current and j == 2 else 0.0)
    return labels[rng.choice(size + 1, size=n, p=weights / weights.sum())]


def make_table(n: int, seed: int, *, current: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {}
    for i, name in enumerate(NUMERIC):
        columns[name] = _numeric_column(rng, i, n, current)
    for j, name in enumerate(CATEGORICAL):
        columns[name] = _categorical_column(rng, j, n, current)
    return pd.DataFrame(columns)


# --- engines under test -----------------------------------------------------------------------


def median_time(run: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _baseline_counts(r: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ref_keys, ref_counts = np.unique(r, return_counts=True)
    cur_keys, cur_counts = np.unique(c, return_counts=True)
    keys = np.union1d(ref_keys, cur_keys)
    ref = np.zeros(keys.size)
    cur = np.zeros(keys.size)
    ref[np.searchsorted(keys, ref_keys)] = ref_counts
    cur[np.searchsorted(keys, cur_keys)] = cur_counts
    return ref, cur


def numpy_baseline(
    reference: dict[str, np.ndarray], current: dict[str, np.ndarray], methods: dict[str, str]
) -> dict[str, float]:
    """The same statistic per column, written plainly with numpy and scipy."""
    scores = {}
    for name, method in methods.items():
        r, c = reference[name], current[name]
        if r.dtype.kind == "f":
            r, c = r[np.isfinite(r)], c[np.isfinite(c)]
        if method == "wasserstein":
            scores[name] = stats.wasserstein_distance(r, c) / max(float(np.std(r)), 0.001)
        elif method == "ks":
            scores[name] = stats.ks_2samp(r, c).pvalue
        else:
            ref, cur = _baseline_counts(r, c)
            if method == "jensenshannon":
                scores[name] = distance.jensenshannon(ref / ref.sum(), cur / cur.sum())
            else:
                expected = ref * cur.sum() / ref.sum()
                with np.errstate(divide="ignore", invalid="ignore"):
                    scores[name] = stats.chisquare(cur, expected).pvalue
    return scores


def reference_profile(reference: pd.DataFrame) -> tuple[dict, dict]:
    """Layouts and summaries of the reference: computed once, stored, reused for every window."""
    layouts: dict[str, Any] = {
        name: NumericLayout.from_reference(reference[name]) for name in NUMERIC
    }
    layouts |= {name: CategoricalLayout.from_reference(reference[name]) for name in CATEGORICAL}
    return layouts, {name: summarize(reference[name], lay) for name, lay in layouts.items()}


def current_summaries(current: pd.DataFrame, layouts: dict) -> dict:
    return {name: summarize(current[name], layout) for name, layout in layouts.items()}


# --- Evidently --------------------------------------------------------------------------------


def evidently_python() -> Path | None:
    return side_python(EVIDENTLY_VENV, REQUIREMENTS, "evidently", "Evidently (pandas < 3)")


def run_evidently(python: Path, reference: pd.DataFrame, current: pd.DataFrame) -> dict | None:
    with tempfile.TemporaryDirectory() as tmp:
        ref_path, cur_path = Path(tmp) / "reference.parquet", Path(tmp) / "current.parquet"
        reference.to_parquet(ref_path)
        current.to_parquet(cur_path)
        command = [str(python), "-c", EVIDENTLY_RUNNER, str(ref_path), str(cur_path)]
        command += [json.dumps(NUMERIC), json.dumps(CATEGORICAL)]
        done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        print("Evidently failed:\n" + done.stderr.strip()[-3000:])
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(steward: dict, evidently: dict) -> tuple[float, dict[str, int], list[str]]:
    """Largest |Steward - Evidently| over columns where both used the same method."""
    largest, shared, differing = 0.0, {}, []
    for name, theirs in evidently["values"].items():
        method = EVIDENTLY_METHODS.get(theirs["method"], theirs["method"])
        ours = steward[name]
        if ours.method != method:
            differing.append(f"{name}: Steward {ours.method}, Evidently {method}")
            continue
        shared[method] = shared.get(method, 0) + 1
        largest = max(largest, abs(ours.score - float(theirs["value"])))
    return largest, shared, differing


# --- report -----------------------------------------------------------------------------------


def row(label: str, seconds: float | None, steward: float) -> str:
    if seconds is None:
        return f"| {label:<44} | {'n/a':>10} | {'':>14} |"
    ratio = f"{seconds / steward:.2f}x" if steward else ""
    return f"| {label:<44} | {seconds:>10.3f} | {ratio:>14} |"


def bench_size(n: int, python: Path | None, seed: int) -> dict[str, Any]:
    reference = make_table(n, seed, current=False)
    current = make_table(n, seed + 1, current=True)
    steward_s, report = median_time(lambda: detect_drift(reference, current, SCHEMA))
    methods = {name: result.method for name, result in report.results.items()}
    ref_arrays = {c: reference[c].to_numpy() for c in NUMERIC}
    ref_arrays |= {c: reference[c].to_numpy(dtype=str) for c in CATEGORICAL}
    cur_arrays = {c: current[c].to_numpy() for c in NUMERIC}
    cur_arrays |= {c: current[c].to_numpy(dtype=str) for c in CATEGORICAL}
    numpy_s, baseline = median_time(lambda: numpy_baseline(ref_arrays, cur_arrays, methods))
    numpy_diff = max(abs(baseline[c] - report.results[c].score) for c in methods)
    profile_s, (layouts, ref_summaries) = median_time(lambda: reference_profile(reference), 1)
    build_s, cur_summaries = median_time(lambda: current_summaries(current, layouts))
    summary_s, approx = median_time(lambda: detect_drift(ref_summaries, cur_summaries, SCHEMA))
    evidently = run_evidently(python, reference, current) if python else None
    print(f"\n## {n:,} reference rows x {n:,} current rows, 20 numeric + 5 categorical features")
    print(f"| {'engine':<44} | {'seconds':>10} | {'/ Steward exact':>14} |")
    print(f"|{'-' * 46}|{'-' * 12}|{'-' * 16}|")
    print(row("Steward, exact on raw columns", steward_s, steward_s))
    print(row("numpy/scipy baseline, same statistics", numpy_s, steward_s))
    print(row("Steward, drift from precomputed summaries", summary_s, steward_s))
    print(row("  (building the current window's summaries)", build_s, steward_s))
    print(row("  (reference profile, built once)", profile_s, steward_s))
    print(
        row("Evidently Report([DataDriftPreset()])", evidently and evidently["seconds"], steward_s)
    )
    counts = {m: list(methods.values()).count(m) for m in sorted(set(methods.values()))}
    print(f"Steward methods: {counts}; drifted columns: {report.n_drifted} of {len(methods)}")
    print(f"max |Steward exact - numpy baseline| = {numpy_diff:.3g}")
    approx_diff = max(abs(approx.results[c].score - report.results[c].score) for c in methods)
    flips = sum(approx.results[c].drifted != report.results[c].drifted for c in methods)
    print(
        f"summaries vs exact: max |score difference| = {approx_diff:.3g}, verdicts differ: {flips}"
    )
    result: dict[str, Any] = {"n": n, "steward": steward_s, "numpy": numpy_s, "evidently": None}
    if evidently:
        largest, shared, differing = compare(report.results, evidently)
        print(f"Evidently {evidently['version']}: shared methods {shared}; max |Steward - "
              f"Evidently| = {largest:.3g}")  # fmt: skip
        for line in differing:
            print(f"  method differs: {line}")
        result |= {"evidently": evidently["seconds"], "diff": largest}
    result |= {"layouts": layouts, "ref_summaries": ref_summaries, "current": current}
    return result


def thirty_days(last: dict[str, Any]) -> None:
    """Split the largest current table into 720 hourly windows, summarise each, merge them into
    one 30-day summary per column and compute its drift."""
    current, layouts = last["current"], last["layouts"]
    n = len(current)
    bounds = np.linspace(0, n, HOURS + 1).astype(int)
    keys = np.arange(n, dtype=np.uint64)
    columns = {name: current[name] for name in SCHEMA}
    start = time.perf_counter()
    hourly = {
        name: [
            summarize(columns[name].iloc[a:b], layout, row_keys=keys[a:b])
            if name in NUMERIC
            else summarize(columns[name].iloc[a:b], layout)
            for a, b in itertools.pairwise(bounds)
        ]
        for name, layout in layouts.items()
    }
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    window = {name: merge_all(parts) for name, parts in hourly.items()}
    merge_s = time.perf_counter() - start
    start = time.perf_counter()
    report = detect_drift(last["ref_summaries"], window, SCHEMA)
    drift_s = time.perf_counter() - start
    whole = {
        name: summarize(current[name], layout, row_keys=keys if name in NUMERIC else None)
        for name, layout in layouts.items()
    }
    same_counts = all(np.array_equal(window[c].counts, whole[c].counts) for c in SCHEMA)
    same_sample = all(
        np.array_equal(window[c].sample_values, whole[c].sample_values) for c in NUMERIC
    )
    print(f"\n## 30-day window from {HOURS} hourly summaries ({n:,} rows, {n // HOURS:,} per hour)")
    print(f"building {HOURS * len(SCHEMA):,} hourly summaries: {build_s:.3f} s (once per hour, "
          f"{build_s / HOURS * 1000:.1f} ms an hour)")  # fmt: skip
    print(f"merging them into one window summary per column: {merge_s:.3f} s")
    print(f"drift of the 30-day window from the merged summaries: {drift_s * 1000:.1f} ms; "
          f"drifted columns: {report.n_drifted} of {len(report.results)}")  # fmt: skip
    print(f"merged counts identical to one summary of all rows: {same_counts}; "
          f"bounded samples identical: {same_sample}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (1,000 and 20,000)")
    parser.add_argument("--sizes", help="comma-separated row counts (default 200000,1000000)")
    parser.add_argument("--no-evidently", action="store_true", help="skip Evidently")
    parser.add_argument("--seed", type=int, default=20_260_101)
    args = parser.parse_args()
    sizes = [1_000, 20_000] if args.quick else [200_000, 1_000_000]
    if args.sizes:
        sizes = [int(s) for s in args.sizes.split(",")]
    python = None if args.no_evidently else evidently_python()
    if python is None:
        print("Evidently is not part of this run: no comparison with it can be reported.")
    results = [bench_size(n, python, args.seed) for n in sizes]
    thirty_days(results[-1])
    last = results[-1]
    speedup = f"{last['evidently'] / last['steward']:.1f}" if last["evidently"] else "n/a"
    diffs = [r["diff"] for r in results if r.get("diff") is not None]
    max_diff = f"{max(diffs):.3g}" if diffs else "n/a"
    ratio = last["steward"] / last["numpy"]
    print(f"\nRESULT drift_speedup_vs_evidently={speedup} drift_vs_numpy={ratio:.2f} "
          f"max_abs_diff={max_diff}")  # fmt: skip


if __name__ == "__main__":
    main()
