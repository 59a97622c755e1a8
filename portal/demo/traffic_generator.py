"""Demo traffic: seeded prediction events and ground truth for one deployment.

Pure numpy and pandas: no ORM. Features are sampled (with a little jitter on continuous
columns) from the model's validation rows, predictions come from the fitted estimator the
version stores, and the true label or value of the sampled row is the ground truth. Two
injected stories make monitoring show something: a feature that drifts upward (the model
sees it, so its predictions follow) and a late fall in accuracy (the outcomes stop matching
what the model learned: a share of labels flips). Every random draw comes from a generator
seeded by the plan's key, so the same plan and end time give identical events. A third story
feeds data quality: one feature of one deployment arrives empty (null) in a share of recent
events, after the model has predicted on it (an upstream feed failing on the way to logging).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from portal.demo import catalog
from portal.demo.training import BINARY, REGRESSION, SEED, Problem

HOUR_S = 3600
DAYS = 31
# Events per hour at one endpoint, by environment (production is split by traffic share).
RATES = {catalog.PRODUCTION: 8.0, catalog.STAGING: 2.0, catalog.DEV: 1.0}
DRIFTED_FEATURE = "worst concave points"
GAP_FEATURE = "bmi"  # of the diabetes model's production deployment
ERRORS = ("upstream timeout", "feature store unavailable", "model server out of memory")


@dataclass(frozen=True)
class Drift:
    """`feature` moves up by `shift_sd` of its standard deviation over the last `days`,
    reaching the full shift after `ramp_days`."""

    feature: str
    days: float = 10.0
    shift_sd: float = 1.5
    ramp_days: float = 2.0


@dataclass(frozen=True)
class Decay:
    """Over the last `days`, up to `flip_share` of the outcomes disagree with the past
    (binary labels flip), reached after `ramp_days`: the model's accuracy falls."""

    days: float = 7.0
    flip_share: float = 0.4
    ramp_days: float = 1.0


@dataclass(frozen=True)
class Gap:
    """Over the last `days`, `share` of the events send `feature` as null."""

    feature: str
    days: float = 5.0
    share: float = 0.3


@dataclass(frozen=True)
class TrafficPlan:
    """What to generate for one deployment. `key` names the deployment stably (it seeds the
    generator and prefixes the request ids)."""

    key: str
    rate_per_hour: float
    days: int = DAYS
    drift: Drift | None = None
    decay: Decay | None = None
    gap: Gap | None = None
    error_share: float = 0.01
    cache_share: float = 0.12
    truth_share: float = 0.85

    @property
    def seed(self) -> int:
        digest = hashlib.sha256(f"{SEED}:{self.key}".encode()).digest()
        return int.from_bytes(digest[:8], "big")


@dataclass(frozen=True, eq=False)
class Traffic:
    """Generated events, one row each (ordered by time), and the features they carried.

    `events` columns: request_id, timestamp, prediction (label or None), score, scores (every
    class's probability {class: p} for multiclass, else None), latency_ms,
    status, error, cache_hit, cpu, memory, has_truth, truth_label, truth_value, truth_time,
    drift_shift (what was added to the drifted feature), flipped (the outcome was flipped)."""

    plan: TrafficPlan
    task: str
    features: pd.DataFrame
    events: pd.DataFrame

    def __len__(self) -> int:
        return len(self.events)

    @property
    def truth_count(self) -> int:
        return int(self.events["has_truth"].sum())

    def prediction_batches(self) -> Iterator[tuple[dt.date, bytes]]:
        """NDJSON bodies of prediction events, one per week of UTC days."""
        features = feature_records(self.features)
        events = self.events.to_dict("records")
        for day, index in _days(self.events["timestamp"]):
            lines = [_event_line(events[i], features[i]) for i in index]
            yield day, "\n".join(lines).encode()

    def ground_truth_batches(self) -> Iterator[tuple[dt.date, bytes]]:
        """NDJSON bodies of outcomes, one per week of the predictions they label."""
        truth = self.events[self.events["has_truth"].to_numpy()]
        for day, index in _days(truth["timestamp"]):
            rows = truth.iloc[index]
            yield day, "\n".join(_truth_line(row, self.task) for row in _rows(rows)).encode()


def plan_for(
    spec: catalog.DemoModel, *, environment: str, version: int, traffic_share: float = 100
) -> TrafficPlan:
    """The demo's plan for a deployment: production traffic of the breast-cancer model drifts
    on "worst concave points" and its canary (a minority share of production) loses accuracy,
    as does the heart-attack-risk production deployment."""
    rate = RATES[environment] * (float(traffic_share) / 100 if environment == "production" else 1)
    production = environment == catalog.PRODUCTION
    breast = spec.problem == "breast_cancer"
    canary = production and float(traffic_share) < 50
    drift = Drift(DRIFTED_FEATURE) if production and breast else None
    decay = None
    if production and spec.problem == "heart_attack":
        decay = Decay()
    elif canary and breast:  # the canary does worse than its baseline: a rollback suggestion
        decay = Decay(days=6.0, flip_share=0.3)
    gap = Gap(GAP_FEATURE) if production and spec.problem == "diabetes" else None
    key = f"demo-{spec.problem.replace('_', '-')}-{environment}-v{version}"
    return TrafficPlan(key=key, rate_per_hour=rate, drift=drift, decay=decay, gap=gap)


def generate(
    problem: Problem,
    rows: pd.DataFrame,
    estimator: BaseEstimator,
    plan: TrafficPlan,
    *,
    end: dt.datetime,
    decision_threshold: float | None = None,
) -> Traffic:
    """Hourly traffic over the `plan.days` days before `end` (an aware UTC datetime)."""
    rng = np.random.default_rng(plan.seed)
    times = _timestamps(rng, plan, end)
    n = len(times)
    age_days = (pd.Timestamp(end) - times).dt.total_seconds().to_numpy() / 86400
    picked = rng.integers(0, len(rows), size=n)
    features = _features(problem, rows, picked, rng)
    shift = np.zeros(n)
    if plan.drift is not None:
        column = plan.drift.feature
        ramp = _ramp(age_days, plan.drift.days, plan.drift.ramp_days)
        shift = ramp * plan.drift.shift_sd * float(rows[column].std())
        features[column] = features[column] + shift
    truth = rows[problem.target].to_numpy()[picked]
    flipped = np.zeros(n, dtype=bool)
    if plan.decay is not None and problem.task == BINARY:
        share = _ramp(age_days, plan.decay.days, plan.decay.ramp_days) * plan.decay.flip_share
        flipped = rng.random(n) < share
        truth = np.where(flipped, 1 - truth, truth)
    labels, scores, class_scores = _predict(problem, estimator, features, decision_threshold)
    if plan.gap is not None:
        # Drawn after everything else, so the other stories' events stay as they were.
        gap_rng = np.random.default_rng(plan.seed + 1)
        emptied = (age_days < plan.gap.days) & (gap_rng.random(n) < plan.gap.share)
        features[plan.gap.feature] = features[plan.gap.feature].astype(float).where(~emptied)
    failed = rng.random(n) < plan.error_share
    cache_hit = ~failed & (rng.random(n) < plan.cache_share)
    latency = np.where(cache_hit, rng.lognormal(np.log(1.5), 0.3, n), rng.lognormal(3.2, 0.45, n))
    latency = np.where(failed, rng.lognormal(np.log(800), 0.5, n), latency)
    has_truth = ~failed & (rng.random(n) < plan.truth_share)
    delay = pd.to_timedelta(rng.lognormal(np.log(24), 0.8, n), unit="h")
    truth_time = (times + delay).clip(upper=pd.Timestamp(end))
    regression = problem.task == REGRESSION
    events = pd.DataFrame(
        {
            "request_id": [f"{plan.key}-{i:06d}" for i in range(n)],
            "timestamp": times,
            "prediction": None if regression else labels,
            "score": scores,
            "scores": class_scores,
            "latency_ms": latency,
            "status": np.where(failed, "error", "ok"),
            "error": np.where(failed, np.array(ERRORS)[rng.integers(0, len(ERRORS), n)], ""),
            "cache_hit": cache_hit,
            "cpu": np.clip(rng.beta(2, 6, n), 0.01, 1.0),
            "memory": rng.normal(420, 35, n).clip(200),
            "has_truth": has_truth,
            "truth_label": None if regression else truth.astype(int).astype(str),
            "truth_value": truth.astype(float) if regression else np.nan,
            "truth_time": truth_time,
            "drift_shift": shift,
            "flipped": flipped,
        }
    )
    return Traffic(plan=plan, task=problem.task, features=features, events=events)


# --- helpers ------------------------------------------------------------------------------


def _timestamps(rng: np.random.Generator, plan: TrafficPlan, end: dt.datetime) -> pd.Series:
    """Poisson counts per hour with a daily rhythm, times uniform inside each hour."""
    hours = plan.days * 24
    last = pd.Timestamp(end).tz_convert("UTC").tz_localize(None).floor("h")
    starts = last - pd.to_timedelta(np.arange(hours, 0, -1), unit="h")
    rhythm = 1 + 0.6 * np.sin(2 * np.pi * (starts.hour.to_numpy() - 8) / 24)
    counts = rng.poisson(plan.rate_per_hour * rhythm)
    offsets = np.round(rng.random(int(counts.sum())) * HOUR_S * 1000).astype("timedelta64[ms]")
    base = np.repeat(starts.to_numpy().astype("datetime64[ms]"), counts)
    return pd.Series(base + offsets).dt.tz_localize("UTC")


def _ramp(age_days: np.ndarray, days: float, ramp_days: float) -> np.ndarray:
    """0 before the last `days`, rising linearly to 1 over `ramp_days`."""
    return np.clip((days - age_days) / ramp_days, 0.0, 1.0)


def _features(
    problem: Problem, rows: pd.DataFrame, picked: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """The picked rows' features; continuous columns get a jitter of 5% of their spread so
    values are not exact repeats. Whole-number and categorical columns are kept as they are."""
    frame = rows[problem.features].iloc[picked].reset_index(drop=True).copy()
    for name in problem.numeric_features:
        column = rows[name]
        if np.all(np.mod(column.to_numpy(dtype=float), 1) == 0):
            continue
        jitter = rng.normal(0, 0.05 * float(column.std()), len(frame))
        low = float(column.min())
        frame[name] = np.maximum(frame[name].to_numpy(dtype=float) + jitter, min(low, 0.0))
    return frame


def _predict(
    problem: Problem,
    estimator: BaseEstimator,
    features: pd.DataFrame,
    threshold: float | None,
) -> tuple[np.ndarray, np.ndarray, list[dict[str, float]] | None]:
    """(labels as text, scores, per-class scores): the positive class's probability against
    the deployment's threshold for binary models; the top class, its probability and every
    class's ({class: p}, for macro one-vs-rest ROC AUC) for multiclass; the predicted value
    for regression."""
    if problem.task == REGRESSION:
        values = np.asarray(estimator.predict(features), dtype=float)
        return np.full(len(values), None, dtype=object), values, None
    proba = estimator.predict_proba(features)
    classes = np.asarray(estimator.classes_)
    if problem.task == BINARY:
        cut = 0.5 if threshold is None else float(threshold)
        positive = proba[:, 1]
        return np.where(positive >= cut, classes[1], classes[0]).astype(str), positive, None
    top = proba.argmax(axis=1)
    names = [str(k) for k in classes]
    per_class = [dict(zip(names, map(float, row), strict=True)) for row in proba]
    return classes[top].astype(str), proba.max(axis=1), per_class


def feature_records(features: pd.DataFrame) -> list[dict[str, Any]]:
    """The features as the events carry them (integers as int, floats rounded, None)."""
    plain = features.astype(object)
    for name in features.columns:
        if pd.api.types.is_integer_dtype(features[name]):
            plain[name] = [int(v) for v in features[name]]
        elif pd.api.types.is_float_dtype(features[name]):
            rounded = [None if np.isnan(v) else round(float(v), 6) for v in features[name]]
            plain[name] = pd.Series(rounded, index=plain.index, dtype=object)  # None stays None
    return plain.to_dict("records")


def _days(times: pd.Series, days_per_batch: int = 7) -> Iterator[tuple[dt.date, np.ndarray]]:
    """Row positions grouped by runs of `days_per_batch` UTC days (a serving app sends
    batches; a week of demo traffic is far below the batch cap), keyed by their first day."""
    days = times.dt.floor("D")
    first = days.min()
    group = ((days - first).dt.days // days_per_batch).to_numpy()
    for key in np.unique(group):
        yield (
            (first + pd.Timedelta(days=int(key) * days_per_batch)).date(),
            np.flatnonzero(group == key),
        )


def _rows(frame: pd.DataFrame) -> Iterator[dict[str, Any]]:
    return iter(frame.to_dict("records"))


def _iso(value: pd.Timestamp) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _event_line(e: dict[str, Any], features: dict[str, Any]) -> str:
    record: dict[str, Any] = {
        "request_id": e["request_id"],
        "timestamp": _iso(e["timestamp"]),
        "features": features,
        "latency_ms": round(float(e["latency_ms"]), 3),
        "status": e["status"],
        "error": e["error"],
        "cache_hit": bool(e["cache_hit"]),
        "cpu": round(float(e["cpu"]), 4),
        "memory": round(float(e["memory"]), 1),
    }
    if e["status"] == "ok":
        if e["prediction"] is not None:
            record["prediction"] = e["prediction"]
        record["score"] = float(e["score"])
        if isinstance(e.get("scores"), dict):
            record["scores"] = e["scores"]
    return json.dumps(record)


def _truth_line(row: dict[str, Any], task: str) -> str:
    record: dict[str, Any] = {"request_id": row["request_id"], "timestamp": _iso(row["truth_time"])}
    if task == REGRESSION:
        record["value"] = float(row["truth_value"])
    else:
        record["label"] = row["truth_label"]
    return json.dumps(record)
