"""A PySpark job: hourly per-feature summaries of a table of predictions, posted to Steward.

Raw predictions stay in the data lake; Steward receives, per deployment and UTC hour, one
mergeable summary per feature (and one of the prediction), built on the layouts of the
deployed version's reference profile (`GET /api/v1/versions/{id}/layouts/`) and posted to
`POST /api/v1/deployments/{id}/summaries/`. The summaries equal those Steward builds itself from
the same events sent raw: same layouts, same row keys (a hash of the request id) for the
bounded sample, same arithmetic (`steward_client.summaries`).

An hour's entry also carries, as summary mode builds them from the same rows
(`steward_client.summary_mode.hour_health` / `hour_performance`, the very functions): its
`health` when the table has any of the health columns (`latency_ms`, `status`, `error`,
`cache_hit`, `cpu`, `memory`), and its `performance` counts when it has ground truth (`label`
for a classifier, `value` for a regression) and the layouts name the model's `task`; binary
predictions are decided by the deployment's positive label and threshold
(`Steward.performance_settings`). Without those columns the entry has neither (Steward reads a
missing health as the hour's count alone, which is what such rows give).

Two stages, no shuffle of raw rows:
1. `mapInPandas` over the table: each task summarises the rows it holds, per (deployment,
   hour), on the broadcast layouts (partial summaries, a few KB each), and builds the health
   and performance partials of those rows (carried as JSON beside the hour's row count).
2. a group-by on (deployment, hour) with `applyInPandas`: the partials of an hour are merged
   with `merge_all`, `merge_health` and `merge_performance` into the hour's entry of the
   summaries payload.
The driver then posts each deployment's hours in batches.

Run it as `spark-submit steward_client/spark.py --table s3://bucket/predictions/ --steward-url
https://steward.example.org --token ...` or call `run(spark, table, client=...)`; docs/spark.md
describes a cluster set-up. The table's columns (names configurable): `deployment` (the
deployment id; or pass `deployment=` for a table of one deployment), `timestamp` (a timestamp,
or ISO-8601 text), `request_id`, one column per feature (or a `features` struct or map column)
and `prediction` (the score of a regression, the label otherwise); optionally summary mode's
health columns, `label` / `value` (ground truth), `score` (a binary model's score of its
positive label; a regression without it is scored by `prediction`) and `scores` (a
multiclass model's {class: probability}, a map or struct column or its JSON text), each
renamed by an option (`OUTCOME_COLUMNS`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import itertools
import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from steward_client.health import merge_health
from steward_client.performance import (
    BINARY,
    REGRESSION,
    merge_all_performance,
    merge_performance,
)
from steward_client.summaries import (
    CategoricalLayout,
    Layout,
    NumericLayout,
    Summary,
    merge,
    merge_all,
    summarize,
    summary_from_dict,
    to_packed,
)
from steward_client.summary_mode import HEALTH_COLUMNS, Outcomes, hour_health, hour_performance

if TYPE_CHECKING:  # pyspark is the `spark` extra; the pure helpers below do without it.
    from pyspark.sql import DataFrame, SparkSession

    from steward_client.client import Steward

PAYLOAD_FORMAT = 1
PREDICTION_FEATURE = "__prediction__"
HOUR_SECONDS = 3600
# Hours per POST: a request stays a few MB even with a hundred features.
HOURS_PER_REQUEST = 100
# Partial summaries a task holds before emitting them (memory stays bounded when a task's rows
# span many hours and deployments); stage 2 merges whatever is emitted.
MAX_HELD_SUMMARIES = 20_000
# Rows of a task's Arrow batches summarised together.
BUFFER_ROWS = 200_000

PARTIAL_SCHEMA = (
    "deployment string, hour long, feature string, rows long, summary string, "
    "health string, performance string"
)
HOUR_SCHEMA = "deployment string, hour long, entry string"


# --- pure helpers (pandas only) ---------------------------------------------------------------


def layout_from_dict(data: Mapping[str, Any]) -> Layout:
    """A layout from its `to_dict()`: numeric layouts have edges, categorical ones categories."""
    if data.get("edges") is not None:
        return NumericLayout.from_dict(dict(data))
    return CategoricalLayout.from_dict(dict(data))


def parse_layouts(payload: Mapping[str, Any]) -> dict[str, Layout]:
    """{feature: layout} of a layouts response, the prediction under `__prediction__` (as the
    engine names it)."""
    if payload.get("format") != PAYLOAD_FORMAT:
        raise ValueError(f"unsupported layouts format {payload.get('format')!r}")
    layouts = {name: layout_from_dict(data) for name, data in payload["features"].items()}
    if payload.get("prediction") is not None:
        layouts[PREDICTION_FEATURE] = layout_from_dict(payload["prediction"])
    return layouts


def request_row_keys(request_ids: Any) -> np.ndarray:
    """One uint64 per row from its request id, as Steward's hourly rollup computes it
    (`monitoring.rollups.hourly.row_keys`): the bounded samples take the same rows."""
    series = pd.Series(np.asarray(request_ids, dtype=object), dtype=object)
    keys: np.ndarray = pd.util.hash_pandas_object(series, index=False).to_numpy()
    return keys


def hour_summaries(
    frame: pd.DataFrame, layouts: Mapping[str, Layout], *, columns: Mapping[str, str]
) -> Iterator[tuple[int, int, dict[str, Summary]]]:
    """(hour as epoch seconds, rows, {feature: summary}) for each hour of `frame`, which has an
    `hour` column (epoch seconds), a `request_id` column and, for each feature of `layouts`, the
    column `columns[feature]` (a feature whose column is absent is missing in every row)."""
    if frame.empty:
        return
    keys = request_row_keys(frame["request_id"])
    for hour, rows in frame.groupby("hour", sort=True).indices.items():
        built: dict[str, Summary] = {}
        for name, layout in layouts.items():
            column = columns.get(name)
            if column is None or column not in frame:
                values: Any = np.full(len(rows), np.nan)
            else:
                values = frame[column].to_numpy()[rows]
            built[name] = summarize(values, layout, row_keys=keys[rows])
        yield int(hour), len(rows), built


def class_scores(value: Any) -> dict[str, Any] | None:
    """A row's {class: probability} as the job reads it: the JSON text Spark makes of a map
    or struct column (or a dict already); None when the row has none."""
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else None


def hour_extras(
    frame: pd.DataFrame, *, health: bool, outcomes: Outcomes | None
) -> Iterator[tuple[int, dict[str, Any] | None, dict[str, Any] | None]]:
    """(hour, health, performance) for each hour of `frame`, built by summary mode's
    `hour_health` and `hour_performance` (None for what is not asked). `frame` has an `hour`
    column and summary mode's column names: `latency_ms`, `status`, `error`, `cache_hit`, `cpu`,
    `memory`, `label`, `value`, `prediction` (the label as text), `score`, `scores`; a
    regression without `score` is scored by `prediction_value` (its prediction column)."""
    if frame.empty or not (health or outcomes is not None):
        return
    if outcomes is not None and "scores" in frame:
        frame = frame.assign(scores=frame["scores"].map(class_scores))
    score = "score"
    if "score" not in frame and outcomes is not None and outcomes.task == REGRESSION:
        score = "prediction_value"
    for hour, rows in frame.groupby("hour", sort=True).indices.items():
        part = frame.iloc[rows]
        yield (
            int(hour),
            hour_health(part) if health else None,
            None if outcomes is None else hour_performance(part, outcomes, score=score),
        )


def deployment_outcomes(
    layouts: Mapping[str, Mapping[str, Any]],
    decisions: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Outcomes]:
    """Per deployment whose layouts name the model's `task`, how its hours' performance is
    counted (on summary mode's column names): the positive label and decision threshold of
    `decisions` ({id: `Steward.performance_settings(id)`}), else "1" and 0.5."""
    chosen = {str(key): value for key, value in (decisions or {}).items()}
    outcomes = {}
    for key, payload in layouts.items():
        if payload.get("task") is None:
            continue
        decision = chosen.get(str(key)) or {}
        threshold = decision.get("threshold")  # 0.0 is a threshold, not a missing one
        outcomes[str(key)] = Outcomes(
            task=str(payload["task"]),
            positive_label=str(decision.get("positive_label") or "1"),
            threshold=0.5 if threshold is None else float(threshold),
        )
    return outcomes


def hour_entry(
    hour: int,
    rows: int,
    summaries: Mapping[str, Summary],
    *,
    health: dict[str, Any] | None = None,
    performance: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One entry of the summaries payload's `hours` list, its summaries in the packed form
    (`summaries.to_packed`); `health` and `performance` only when given (Steward reads a
    missing health as the hour's count and nothing else)."""
    prediction = summaries.get(PREDICTION_FEATURE)
    entry = {
        "hour": dt.datetime.fromtimestamp(hour, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "count": int(rows),
        "features": {
            name: to_packed(summary)
            for name, summary in sorted(summaries.items())
            if name != PREDICTION_FEATURE
        },
        "prediction": None if prediction is None else to_packed(prediction),
    }
    if health is not None:
        entry["health"] = health
    if performance is not None:
        entry["performance"] = performance
    return entry


# --- the two Spark stages (functions run on executors) ---------------------------------------


@dataclass
class _Plan:
    """What the executors need, broadcast once: per deployment its layouts (as dicts) and the
    input column of each feature."""

    layouts: dict[str, dict[str, Any]]
    columns: dict[str, str]
    health: bool = False  # the table has a health column: every hour carries its health
    outcomes: dict[str, Outcomes] = field(default_factory=dict)  # performance, per deployment
    parsed: dict[str, dict[str, Layout]] = field(default_factory=dict, repr=False)

    def layouts_of(self, deployment: str) -> dict[str, Layout]:
        if deployment not in self.parsed:
            self.parsed[deployment] = parse_layouts(self.layouts[deployment])
        return self.parsed[deployment]


@dataclass
class _HourPartial:
    """What a task holds of one (deployment, hour) besides summaries: its rows, and the health
    and performance of those rows when the table carries them."""

    rows: int = 0
    health: dict[str, Any] | None = None
    performance: dict[str, Any] | None = None

    def add(
        self, rows: int, health: dict[str, Any] | None, performance: dict[str, Any] | None
    ) -> None:
        """Merge in the partial of more rows of the same hour."""
        self.rows += rows
        if health is not None:
            self.health = health if self.health is None else merge_health(self.health, health)
        self.performance = merge_performance(self.performance, performance)


def _partials(plan: Any, batches: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """Stage 1: the partial summaries of one task's rows per (deployment, hour, feature).
    Arrow batches are pooled up to `BUFFER_ROWS` rows and summarised together (a summary
    costs about a millisecond whatever its rows, so fewer, larger ones are cheaper); pools
    are merged, and what is held is emitted every `MAX_HELD_SUMMARIES`."""
    held: dict[tuple[str, int, str | None], Any] = {}
    summaries_held = 0
    pool: list[pd.DataFrame] = []
    pooled = 0
    for batch in itertools.chain(batches, [None]):
        if batch is not None:
            pool.append(batch)
            pooled += len(batch)
            if pooled < BUFFER_ROWS:
                continue
        if not pool:
            break
        rows_frame = pool[0] if len(pool) == 1 else pd.concat(pool, ignore_index=True)
        pool, pooled = [], 0
        summaries_held += _summarise_into(held, plan.value, rows_frame)
        if summaries_held >= MAX_HELD_SUMMARIES:
            yield _partial_frame(held)
            held, summaries_held = {}, 0
    if held:
        yield _partial_frame(held)


def _summarise_into(
    held: dict[tuple[str, int, str | None], Any], plan: _Plan, frame: pd.DataFrame
) -> int:
    """Add the summaries of `frame`'s rows to `held` (merging); returns how many keys it added."""
    added = 0
    for deployment, rows in frame.groupby("deployment", sort=False).indices.items():
        part = frame.iloc[rows]
        layouts = plan.layouts_of(deployment)
        outcomes = plan.outcomes.get(deployment)
        extras = {
            hour: (health, performance)
            for hour, health, performance in hour_extras(
                part, health=plan.health, outcomes=outcomes
            )
        }
        for hour, count, built in hour_summaries(part, layouts, columns=plan.columns):
            partial = held.setdefault((deployment, hour, None), _HourPartial())
            partial.add(count, *extras.get(hour, (None, None)))
            for name, summary in built.items():
                key = (deployment, hour, name)
                previous = held.get(key)
                held[key] = summary if previous is None else merge(previous, summary)
                added += previous is None
    return added


def _json_or_none(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _partial_frame(held: Mapping[tuple[str, int, str | None], Any]) -> pd.DataFrame:
    """The held partials as rows of `PARTIAL_SCHEMA`: a feature's summary, or (feature null)
    the hour's row count with its health and performance."""
    records: list[tuple[str, int, str | None, int, str | None, str | None, str | None]] = []
    for (deployment, hour, name), value in held.items():
        if name is None:
            health, performance = _json_or_none(value.health), _json_or_none(value.performance)
            records.append((deployment, hour, None, value.rows, None, health, performance))
        else:
            summary = json.dumps(value.to_dict())
            records.append((deployment, hour, name, 0, summary, None, None))
    return pd.DataFrame.from_records(
        records,
        columns=["deployment", "hour", "feature", "rows", "summary", "health", "performance"],
    )


def _merge_hour(group: pd.DataFrame) -> pd.DataFrame:
    """Stage 2: one (deployment, hour)'s partials merged into its payload entry."""
    by_feature: dict[str, list[Summary]] = {}
    rows = 0
    healths: list[dict[str, Any]] = []
    performances: list[dict[str, Any]] = []
    for name, count, text, health, performance in zip(
        group["feature"],
        group["rows"],
        group["summary"],
        group["health"],
        group["performance"],
        strict=True,
    ):
        if isinstance(name, str):
            by_feature.setdefault(name, []).append(summary_from_dict(json.loads(text)))
            continue
        rows += int(count)  # a row count (feature null), with its health and performance
        healths += [json.loads(health)] if isinstance(health, str) else []
        performances += [json.loads(performance)] if isinstance(performance, str) else []
    merged = {name: merge_all(parts) for name, parts in by_feature.items()}
    deployment, hour = str(group["deployment"].iloc[0]), int(group["hour"].iloc[0])
    entry = hour_entry(
        hour,
        rows,
        merged,
        health=functools.reduce(merge_health, healths) if healths else None,
        performance=merge_all_performance(performances),
    )
    return pd.DataFrame({"deployment": [deployment], "hour": [hour], "entry": [json.dumps(entry)]})


# --- reading the table and talking to Steward ------------------------------------------------


def read_table(spark: SparkSession, table: Any, *, source_format: str = "parquet") -> DataFrame:
    """A DataFrame as it is; a path or URI (holding `/` or `:`) read with `source_format`;
    anything else a table name of the catalog."""
    from pyspark.sql import DataFrame

    if isinstance(table, DataFrame):
        return table
    text = str(table)
    if "/" in text or ":" in text:
        return spark.read.format(source_format).load(text)
    return spark.table(text)


def fetch_layouts(client: Steward, deployment_id: int | str) -> dict[str, Any]:
    """The layouts payload of a deployment's version (`GET versions/{id}/layouts/`)."""
    version = client.get_deployment(int(deployment_id))["version"]
    return dict(client.get(f"versions/{version}/layouts/"))


def post_hours(
    client: Steward,
    deployment_id: int | str,
    layout_digest: str,
    hours: list[dict[str, Any]],
    *,
    hours_per_request: int = HOURS_PER_REQUEST,
) -> list[Any]:
    """POST the hour entries of one deployment in batches; returns Steward's answers. Posting
    an hour again replaces it (Steward does not double-count), so a failed run can be rerun."""
    answers = []
    for start in range(0, len(hours), hours_per_request):
        body = summaries_payload(layout_digest, hours[start : start + hours_per_request])
        answers.append(client.post(f"deployments/{int(deployment_id)}/summaries/", body))
    return answers


def summaries_payload(layout_digest: str, hours: list[dict[str, Any]]) -> dict[str, Any]:
    """The body of `POST /api/v1/deployments/{id}/summaries/`."""
    return {"format": PAYLOAD_FORMAT, "layout_digest": layout_digest, "hours": hours}


def _column_exists(frame: DataFrame, name: str) -> bool:
    return name in frame.columns


def _feature_column(frame: DataFrame, name: str, features_column: str) -> Any:
    """The Spark column of feature `name`: a top-level column, else a field of the struct or
    map `features_column`, else null."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import MapType, StructType

    if _column_exists(frame, name):
        return F.col(f"`{name}`")
    if _column_exists(frame, features_column):
        kind = frame.schema[features_column].dataType
        if isinstance(kind, StructType) and name in kind.fieldNames():
            return F.col(f"`{features_column}`").getField(name)
        if isinstance(kind, MapType):
            return F.col(f"`{features_column}`").getItem(name)
    return None


def _binary_decisions(
    client: Steward,
    layouts: Mapping[str, Mapping[str, Any]],
    frame: DataFrame,
    names: Mapping[str, str],
) -> dict[str | int, Mapping[str, Any]]:
    """How Steward decides each binary deployment's prediction, asked only when the table has
    a label column (nothing else needs it)."""
    if not _column_exists(frame, names["label"]):
        return {}
    return {
        key: client.performance_settings(int(key))
        for key, payload in layouts.items()
        if payload.get("task") == BINARY
    }


@dataclass
class RunResult:
    """What a run did: per deployment, the hour entries built (and Steward's answers when
    posted)."""

    hours: dict[str, list[dict[str, Any]]]
    answers: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(entry["count"] for entries in self.hours.values() for entry in entries)


# Summary mode's names of the health and ground-truth columns, each renamed by a keyword
# argument of `build_hours` / `run` (and a CLI option: `--latency-ms`, `--label`, ...).
OUTCOME_COLUMNS = (*HEALTH_COLUMNS, "label", "value", "score", "scores")


def _outcome_names(renamed: Mapping[str, str]) -> dict[str, str]:
    """{summary mode's name: the table's column} for `OUTCOME_COLUMNS`."""
    unknown = sorted(set(renamed) - set(OUTCOME_COLUMNS))
    if unknown:
        raise TypeError(f"unknown column option(s): {', '.join(unknown)}")
    return {name: renamed.get(name, name) for name in OUTCOME_COLUMNS}


def _performance_columns(
    frame: DataFrame, names: Mapping[str, str], *, prediction: str
) -> list[Any]:
    """The columns `hour_extras` counts performance from, under summary mode's names: labels
    as Spark's text of them (`1`, not pandas' `1.0` of a nullable integer), a map or struct of
    class scores as JSON, and a regression's prediction as `prediction_value` when the table
    has no score column."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import MapType, StructType

    out = []
    for name in ("label", "value", "score", "scores"):
        source = names[name]
        if not _column_exists(frame, source):
            continue
        column = F.col(f"`{source}`")
        if name == "label":
            column = column.cast("string")
        elif name == "scores" and isinstance(frame.schema[source].dataType, MapType | StructType):
            column = F.to_json(column)
        out.append(column.alias(name))
    if _column_exists(frame, prediction):
        out.append(F.col(f"`{prediction}`").cast("string").alias("prediction"))
        if not _column_exists(frame, names["score"]):
            out.append(F.col(f"`{prediction}`").alias("prediction_value"))
    return out


def build_hours(
    spark: SparkSession,
    table: Any,
    layouts: Mapping[str, Mapping[str, Any]],
    *,
    deployment: int | str | None = None,
    deployment_column: str = "deployment",
    timestamp: str = "timestamp",
    request_id: str = "request_id",
    prediction: str = "prediction",
    features_column: str = "features",
    source_format: str = "parquet",
    decisions: Mapping[str, Mapping[str, Any]] | None = None,
    **outcome_columns: str,
) -> DataFrame:
    """The DataFrame (deployment, hour, entry) of merged hour entries (JSON text), one row per
    deployment and hour of `table` whose deployment has layouts in `layouts` ({deployment id:
    layouts payload}); lazy, nothing runs until it is read. `outcome_columns` renames the
    health and ground-truth columns (`OUTCOME_COLUMNS`: `latency_ms="latency"`, `label=...`);
    `decisions` gives binary deployments' positive label and threshold
    (`deployment_outcomes`)."""
    from pyspark.sql import functions as F

    frame = read_table(spark, table, source_format=source_format)
    if deployment is not None:
        frame = frame.withColumn(deployment_column, F.lit(str(deployment)))
    known = sorted(str(key) for key in layouts)
    frame = frame.where(F.col(deployment_column).cast("string").isin(known))
    names = sorted(
        {name for payload in layouts.values() for name in payload["features"]}
        | {PREDICTION_FEATURE}
    )
    stamp = F.col(timestamp)
    if dict(frame.dtypes).get(timestamp) == "string":
        stamp = F.to_timestamp(stamp)
    # The hour as epoch seconds, computed by Spark: independent of the session's time zone.
    seconds = F.unix_micros(stamp.cast("timestamp")) / 1_000_000
    selected = [
        F.col(deployment_column).cast("string").alias("deployment"),
        (F.floor(seconds / HOUR_SECONDS) * HOUR_SECONDS).cast("long").alias("hour"),
        F.col(request_id).cast("string").alias("request_id"),
    ]
    columns: dict[str, str] = {}
    for index, name in enumerate(names):
        source = (
            (F.col(f"`{prediction}`") if _column_exists(frame, prediction) else None)
            if name == PREDICTION_FEATURE
            else _feature_column(frame, name, features_column)
        )
        if source is not None:
            columns[name] = f"c{index}"
            selected.append(source.alias(f"c{index}"))
    names_of = _outcome_names(outcome_columns)
    health = [
        F.col(f"`{names_of[name]}`").alias(name)
        for name in HEALTH_COLUMNS
        if _column_exists(frame, names_of[name])
    ]
    truth = _column_exists(frame, names_of["label"]) or _column_exists(frame, names_of["value"])
    outcomes = deployment_outcomes(layouts, decisions) if truth else {}
    if outcomes:
        selected += _performance_columns(frame, names_of, prediction=prediction)
    plan = spark.sparkContext.broadcast(
        _Plan(
            layouts={str(k): dict(v) for k, v in layouts.items()},
            columns=columns,
            health=bool(health),
            outcomes=outcomes,
        )
    )
    selected += health
    partials = frame.select(*selected).mapInPandas(
        lambda batches: _partials(plan, batches), PARTIAL_SCHEMA
    )
    return partials.groupBy("deployment", "hour").applyInPandas(_merge_hour, HOUR_SCHEMA)


def run(
    spark: SparkSession,
    table: Any,
    *,
    client: Steward | None = None,
    layouts: Mapping[str | int, Mapping[str, Any]] | None = None,
    deployment: int | str | None = None,
    deployment_column: str = "deployment",
    timestamp: str = "timestamp",
    request_id: str = "request_id",
    prediction: str = "prediction",
    features_column: str = "features",
    source_format: str = "parquet",
    post: bool = True,
    hours_per_request: int = HOURS_PER_REQUEST,
    decisions: Mapping[str | int, Mapping[str, Any]] | None = None,
    **outcome_columns: str,
) -> RunResult:
    """Summarise `table` (a DataFrame, a path or a table name) per deployment and hour and, with
    `post`, send the hours to Steward through `client`. `layouts` ({deployment id: layouts
    payload}) defaults to asking Steward for each deployment found in the table. When the
    table has ground truth, `decisions` ({deployment id: {"positive_label", "threshold"}})
    defaults to asking Steward for each binary deployment's (`Steward.performance_settings`).
    `outcome_columns` renames summary mode's health and ground-truth columns
    (`OUTCOME_COLUMNS`, e.g. `latency_ms="latency"`, `label="truth"`)."""
    from pyspark.sql import functions as F

    if layouts is None:
        if client is None:
            raise ValueError("pass a client (or the layouts) to know each deployment's layouts")
        if deployment is not None:
            ids = [str(deployment)]
        else:
            frame = read_table(spark, table, source_format=source_format)
            ids = [
                str(row[0])
                for row in frame.select(F.col(deployment_column).cast("string"))
                .distinct()
                .collect()
                if row[0] is not None
            ]
        layouts = {deployment_id: fetch_layouts(client, deployment_id) for deployment_id in ids}
    by_id = {str(key): dict(value) for key, value in layouts.items()}
    if decisions is None and client is not None:
        frame = read_table(spark, table, source_format=source_format)
        decisions = _binary_decisions(client, by_id, frame, _outcome_names(outcome_columns))
    hours = build_hours(
        spark,
        table,
        by_id,
        deployment=deployment,
        deployment_column=deployment_column,
        timestamp=timestamp,
        request_id=request_id,
        prediction=prediction,
        features_column=features_column,
        source_format=source_format,
        decisions={str(key): value for key, value in (decisions or {}).items()},
        **outcome_columns,
    )
    # Streamed to the driver partition by partition (no sort job: hours are few and small).
    collected: dict[str, list[dict[str, Any]]] = {}
    for row in hours.toLocalIterator(prefetchPartitions=True):
        collected.setdefault(row["deployment"], []).append(json.loads(row["entry"]))
    for entries in collected.values():
        entries.sort(key=lambda entry: entry["hour"])
    result = RunResult(hours=dict(sorted(collected.items())))
    if post:
        if client is None:
            raise ValueError("pass a client to post the summaries (or post=False)")
        for deployment_id, entries in collected.items():
            result.answers[deployment_id] = post_hours(
                client,
                deployment_id,
                by_id[deployment_id]["digest"],
                entries,
                hours_per_request=hours_per_request,
            )
    return result


def main(argv: list[str] | None = None) -> int:
    """`spark-submit steward_client/spark.py --table ... --steward-url ... --token ...`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", required=True, help="a path/URI (Parquet by default) or name")
    parser.add_argument("--format", default="parquet", help="the Spark source of a path")
    parser.add_argument("--steward-url", help="the site root (default: $STEWARD_URL)")
    parser.add_argument("--token", help="an API token (default: $STEWARD_TOKEN)")
    parser.add_argument("--deployment", help="the deployment id of a one-deployment table")
    parser.add_argument("--deployment-column", default="deployment")
    parser.add_argument("--timestamp", default="timestamp")
    parser.add_argument("--request-id", default="request_id")
    parser.add_argument("--prediction", default="prediction")
    parser.add_argument("--features-column", default="features")
    for name in OUTCOME_COLUMNS:
        parser.add_argument(f"--{name.replace('_', '-')}", default=name, help="a column's name")
    parser.add_argument("--hours-per-request", type=int, default=HOURS_PER_REQUEST)
    parser.add_argument("--dry-run", action="store_true", help="build, print counts, post none")
    args = parser.parse_args(argv)

    from pyspark.sql import SparkSession

    # Under spark-submit this file is `__main__`: run the installed module's functions, so the
    # executors unpickle them by reference to `steward_client.spark`.
    from steward_client import spark as job
    from steward_client.client import Steward

    spark = SparkSession.builder.appName("steward-summaries").getOrCreate()
    with Steward(args.steward_url, args.token) as client:
        result = job.run(
            spark,
            args.table,
            client=client,
            deployment=args.deployment,
            deployment_column=args.deployment_column,
            timestamp=args.timestamp,
            request_id=args.request_id,
            prediction=args.prediction,
            features_column=args.features_column,
            source_format=args.format,
            post=not args.dry_run,
            hours_per_request=args.hours_per_request,
            **{name: getattr(args, name) for name in OUTCOME_COLUMNS},
        )
    for deployment_id, entries in sorted(result.hours.items()):
        rows = sum(entry["count"] for entry in entries)
        print(f"deployment {deployment_id}: {len(entries)} hours, {rows} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
