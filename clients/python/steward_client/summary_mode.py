"""Summary mode: build Steward's hourly summaries locally and post them instead of events.

`hourly_summaries(frame, layouts)` turns a DataFrame of predictions into the `hours` entries of
`POST /api/v1/deployments/{id}/summaries/`, exactly as Steward summarises the same events sent
raw (monitoring/rollups/hourly.py): rows in time order, one hour per UTC hour, the bounded
sample keyed by a hash of each request id, the prediction from the score column for a numeric
prediction layout and from the label otherwise, and the health contribution of
`steward_client.health`. `SummaryLogger` does the same for a serving process: it keeps each
hour's merged summaries in memory and posts them, so raw events never leave the host.

Needs the `ml` extra (numpy, pandas).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from steward_client.health import health_contribution, merge_health
from steward_client.performance import merge_performance, performance_counts
from steward_client.summaries import (
    PACKED,
    CategoricalLayout,
    Layout,
    NumericLayout,
    Summary,
    merge,
    summarize,
    summary_from_dict,
    to_packed,
)

log = logging.getLogger(__name__)
FORMAT = 1
# The columns an hour's health is built from (`hour_health`), each optional.
HEALTH_COLUMNS = ("latency_ms", "status", "error", "cache_hit", "cpu", "memory")


def layouts_from(layouts: Mapping[str, Any]) -> tuple[dict[str, Layout], Layout | None]:
    """The feature layouts and the prediction's layout of a `GET .../layouts/` answer."""

    def one(data: Mapping[str, Any]) -> Layout:
        if "edges" in data:
            return NumericLayout.from_dict(dict(data))
        return CategoricalLayout.from_dict(dict(data))

    features = {name: one(data) for name, data in layouts["features"].items()}
    prediction = layouts.get("prediction")
    return features, None if prediction is None else one(prediction)


def row_keys(request_ids: Any) -> np.ndarray:
    """One uint64 per row from its request id (as text), as Steward's rollups hash them."""
    ids = pd.Series([str(value) for value in request_ids], dtype=object)
    keys: np.ndarray = pd.util.hash_pandas_object(ids, index=False).to_numpy()
    return keys


def _column(frame: pd.DataFrame, name: str | None) -> np.ndarray | None:
    if name is None or name not in frame.columns:
        return None
    values: np.ndarray = frame[name].to_numpy()
    return values


def _errors(frame: pd.DataFrame) -> np.ndarray:
    """Steward counts an event as an error when its status is "error"; a non-empty `error`
    text makes the status "error" at ingestion."""
    flags = np.zeros(len(frame), dtype=bool)
    if "status" in frame.columns:
        flags |= (frame["status"] == "error").to_numpy(dtype=bool)
    if "error" in frame.columns:
        text = frame["error"]
        flags |= (text.notna() & (text.astype(str) != "") & (text.astype(str) != "False")).to_numpy(
            dtype=bool
        )
    return flags


def _prediction_values(frame: pd.DataFrame, layout: Layout, prediction: str, score: str) -> Any:
    if isinstance(layout, NumericLayout):
        source = score if score in frame.columns else prediction
        if source not in frame.columns:
            return np.full(len(frame), np.nan)
        return pd.to_numeric(frame[source], errors="coerce").to_numpy(dtype=np.float64)
    if prediction not in frame.columns:
        return np.full(len(frame), None, dtype=object)
    # Steward stores a label as text.
    return np.asarray([None if pd.isna(v) else str(v) for v in frame[prediction]], dtype=object)


@dataclass(frozen=True)
class Outcomes:
    """Where an hour's ground truth is and how Steward decides a binary prediction: the
    `label` (classifiers) and `value` (regression) columns, the model's task, and the
    deployment's positive label and decision threshold (`Steward.performance_settings`)."""

    task: str | None = None
    label: str = "label"
    value: str = "value"
    positive_label: str = "1"
    threshold: float = 0.5

    def present(self, frame: pd.DataFrame) -> bool:
        return self.task is not None and (self.label in frame or self.value in frame)


def hour_performance(
    part: pd.DataFrame,
    outcomes: Outcomes,
    *,
    prediction: str = "prediction",
    score: str = "score",
    scores: str = "scores",
) -> dict[str, Any] | None:
    """The hour's performance counts over its "ok" rows, as Steward counts the same events
    joined with their ground truth (errors are never joined); None when the rows carry no
    ground truth column or the task is unknown. `scores` holds a multiclass model's
    {class: probability} per row."""
    if not outcomes.present(part):
        return None
    ok = part[~_errors(part)]
    empty = pd.Series(None, index=ok.index, dtype=object)
    rows = pd.DataFrame(
        {
            "label": ok.get(outcomes.label, empty),
            "value": pd.to_numeric(ok[outcomes.value], errors="coerce")
            if outcomes.value in ok
            else empty,
            "prediction_label": ok.get(prediction, empty),
            "prediction_score": pd.to_numeric(ok[score], errors="coerce") if score in ok else empty,
            # A multiclass model's {class: probability} per row, under the wire's name.
            "prediction_scores": ok.get(scores, empty),
        },
        index=ok.index,
    )
    rows["label"] = rows["label"].map(lambda v: None if pd.isna(v) else str(v))
    assert outcomes.task is not None
    return performance_counts(
        outcomes.task, rows, positive=outcomes.positive_label, threshold=outcomes.threshold
    )


def hour_health(part: pd.DataFrame) -> dict[str, Any]:
    """The hour's health contribution from the optional columns `latency_ms`, `status` /
    `error` (an error row), `cache_hit`, `cpu` and `memory` of its rows."""
    return health_contribution(
        count=len(part),
        errors=_errors(part),
        latency_ms=_numbers(part, "latency_ms"),
        cache_hit=_column(part, "cache_hit"),
        cpu=_numbers(part, "cpu"),
        memory=_numbers(part, "memory"),
    )


def _hour_entry(
    part: pd.DataFrame,
    features: dict[str, Layout],
    prediction_layout: Layout | None,
    *,
    request_id: str,
    prediction: str,
    score: str,
    outcomes: Outcomes,
    packed: bool,
) -> dict[str, Any]:
    keys = row_keys(part[request_id])
    encode = to_packed if packed else _plain
    summaries = {
        name: encode(
            summarize(
                _column(part, name) if name in part.columns else np.full(len(part), np.nan),
                layout,
                row_keys=keys,
            )
        )
        for name, layout in features.items()
    }
    predicted = None
    if prediction_layout is not None:
        values = _prediction_values(part, prediction_layout, prediction, score)
        predicted = encode(summarize(values, prediction_layout, row_keys=keys))
    entry = {
        "count": len(part),
        "features": summaries,
        "prediction": predicted,
        "health": hour_health(part),
    }
    performance = hour_performance(part, outcomes, prediction=prediction, score=score)
    if performance is not None:
        entry["performance"] = performance
    return entry


def _plain(summary: Summary) -> dict[str, Any]:
    return summary.to_dict()


def _numbers(frame: pd.DataFrame, name: str) -> np.ndarray | None:
    if name not in frame.columns:
        return None
    values: np.ndarray = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64)
    return values


def hourly_summaries(
    frame: pd.DataFrame,
    layouts: Mapping[str, Any],
    *,
    timestamp: str = "timestamp",
    request_id: str = "request_id",
    prediction: str = "prediction",
    score: str = "score",
    label: str = "label",
    value: str = "value",
    positive_label: str = "1",
    threshold: float = 0.5,
    packed: bool = True,
) -> list[dict[str, Any]]:
    """The `hours` entries of a summaries post for one deployment's rows in `frame`.

    Summaries are in the packed form (`summaries.to_packed`: arrays as base64, no layout;
    several times faster for Steward to read); `packed=False` gives the plain JSON form
    (`to_dict()`, layout included), which Steward accepts too.

    `layouts` is the answer of `Steward.layouts(version_id)`. One column per feature (a feature
    without a column counts as missing in every row), plus `timestamp` (datetimes, naive ones
    read as UTC), `request_id`, the `prediction` label and/or `score`, and the optional health
    columns `latency_ms`, `status` ("ok" / "error") or `error`, `cache_hit`, `cpu`, `memory`.
    A multiclass model's `scores` column ({class: probability} per row) adds per-class score
    bins to the hours' performance, for macro one-vs-rest ROC AUC.

    When the frame carries ground truth (a `label` column for a classifier, `value` for a
    regression; empty where unknown), each hour also gets its performance counts
    (`steward_client.performance`), the model's task taken from `layouts`. A binary model's
    predictions are decided as Steward decides them: pass the deployment's `positive_label`
    and decision `threshold` (`Steward.performance_settings(deployment_id)` gives both).
    """
    outcomes = Outcomes(
        task=layouts.get("task"),
        label=label,
        value=value,
        positive_label=positive_label,
        threshold=threshold,
    )
    features, prediction_layout = layouts_from(layouts)
    stamps = pd.to_datetime(frame[timestamp], utc=True)
    ordered = frame.assign(_stamp=stamps).sort_values("_stamp", kind="mergesort")
    hours = ordered["_stamp"].dt.floor("h")
    out = []
    for hour, rows in ordered.groupby(hours, sort=True).indices.items():
        entry = _hour_entry(
            ordered.iloc[rows],
            features,
            prediction_layout,
            request_id=request_id,
            prediction=prediction,
            score=score,
            outcomes=outcomes,
            packed=packed,
        )
        out.append({"hour": _iso_hour(hour), **entry})
    return out


def _iso_hour(hour: Any) -> str:
    return str(pd.Timestamp(hour).tz_convert("UTC").strftime("%Y-%m-%dT%H:00:00Z"))


def merge_entries(
    a: dict[str, Any], b: dict[str, Any], layouts: Mapping[str, Any]
) -> dict[str, Any]:
    """Two `hours` entries of the same hour merged (the rows behind both), in the form of `a`
    (packed or plain). `layouts` is the answer of `Steward.layouts(version_id)` the entries
    were built on (packed summaries leave their layouts out)."""
    features, prediction_layout = layouts_from(layouts)

    def both(
        x: dict[str, Any] | None, y: dict[str, Any] | None, layout: Layout | None
    ) -> dict[str, Any] | None:
        if x is None or y is None:
            return x or y
        assert layout is not None, "a summary without a layout"
        merged: Summary = merge(summary_from_dict(x, layout), summary_from_dict(y, layout))
        return to_packed(merged) if x.get("encoding") == PACKED else merged.to_dict()

    merged = {
        "hour": a["hour"],
        "count": a["count"] + b["count"],
        "features": {
            name: both(a["features"][name], b["features"][name], features[name])
            for name in a["features"]
        },
        "prediction": both(a["prediction"], b["prediction"], prediction_layout),
        "health": merge_health(a["health"], b["health"]),
    }
    if "performance" in a or "performance" in b:
        merged["performance"] = merge_performance(a.get("performance"), b.get("performance"))
    return merged


class SummaryLogger:
    """The logger in summary mode: `log()` keeps rows in memory, and every `flush_rows` rows or
    `max_delay` seconds (and at `flush()` / `close()`) they are summarised per hour, merged into
    that hour's running summaries and each changed hour is posted whole. The server keeps one
    posted summary per (hour, source) and replaces it, so posting an hour's running summary
    again never double-counts. Only the newest `keep_hours` hours are kept once posted; rows
    arriving later for an older hour are posted under a source of their own (they add up).

    `source` names this process (default: host name and process id): several hosts posting
    the same hour add up. Only the raw rows of the current batch are held, never a whole hour.
    """

    def __init__(
        self,
        client: Any,
        deployment_id: int,
        *,
        version_id: int | None = None,
        source: str | None = None,
        flush_rows: int = 10_000,
        max_delay: float = 60.0,
        keep_hours: int = 3,
    ) -> None:
        self.client = client
        self.deployment_id = deployment_id
        if version_id is None:
            version_id = int(client.get_deployment(deployment_id)["version"])
        self.layouts = client.layouts(version_id)
        # How the deployment decides a binary prediction, for rows logged with their label.
        self.decision = client.performance_settings(deployment_id)
        self.source = source or f"{socket.gethostname()}-{os.getpid()}"
        self.flush_rows = flush_rows
        self.max_delay = max_delay
        self.keep_hours = keep_hours
        self.hours: dict[str, dict[str, Any]] = {}
        self.posted = 0
        self._rows: list[dict[str, Any]] = []
        self._oldest = 0.0
        self._lock = threading.Lock()
        self._closed = False
        self._forgotten: set[str] = set()

    def log(
        self,
        request_id: str,
        features: Mapping[str, Any],
        prediction: Any = None,
        score: float | None = None,
        latency_ms: float | None = None,
        *,
        status: str | None = None,
        error: str | None = None,
        timestamp: float | dt.datetime | str | None = None,
        **extra: Any,
    ) -> None:
        """Keep one prediction (the signature of `PredictionLogger.log`). Ground truth known
        at the time goes in `extra` as `label=` (classifiers) or `value=` (regression), and
        the hour's performance counts are posted with its summaries."""
        stamp = time.time() if timestamp is None else timestamp
        if isinstance(stamp, int | float):
            stamp = dt.datetime.fromtimestamp(float(stamp), tz=dt.UTC)
        row = {
            **features,
            "request_id": request_id,
            "timestamp": stamp,
            "prediction": prediction,
            "score": score,
            "latency_ms": latency_ms,
            "status": "error" if error else (status or "ok"),
            **extra,
        }
        with self._lock:
            if self._closed:
                raise RuntimeError("the logger is closed")
            if not self._rows:
                self._oldest = time.monotonic()
            self._rows.append(row)
            due = len(self._rows) >= self.flush_rows or (
                time.monotonic() - self._oldest >= self.max_delay
            )
        if due:
            self.flush()

    def flush(self) -> int:
        """Summarise the rows held, merge them into their hours and post the changed hours.
        Returns the number of hours posted."""
        with self._lock:
            rows, self._rows = self._rows, []
            if not rows:
                return 0
            entries = hourly_summaries(
                pd.DataFrame(rows),
                self.layouts,
                positive_label=self.decision["positive_label"],
                threshold=self.decision["threshold"],
            )
            changed, late = [], []
            for entry in entries:
                if entry["hour"] in self._forgotten:
                    late.append(entry)
                    continue
                known = self.hours.get(entry["hour"])
                self.hours[entry["hour"]] = (
                    entry if known is None else merge_entries(known, entry, self.layouts)
                )
                changed.append(self.hours[entry["hour"]])
            digest = self.layouts["digest"]
            if changed:
                self.client.post_summaries(self.deployment_id, digest, changed, source=self.source)
            if late:
                # The running summary of a forgotten hour is gone: late rows go under a source
                # of their own, which adds to the hour instead of replacing it.
                source = f"{self.source}/late-{uuid.uuid4().hex[:12]}"
                self.client.post_summaries(self.deployment_id, digest, late, source=source)
            self.posted += len(changed) + len(late)
            self._forget()
            return len(changed)

    def _forget(self) -> None:
        if len(self.hours) <= self.keep_hours:
            return
        for hour in sorted(self.hours)[: -self.keep_hours]:
            del self.hours[hour]
            self._forgotten.add(hour)

    def close(self) -> int:
        posted = self.flush()
        self._closed = True
        return posted

    def __enter__(self) -> SummaryLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
