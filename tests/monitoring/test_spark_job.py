"""The Spark job (`steward_client.spark`) on local Spark: its hourly summaries equal those the
engine builds from the same events sent raw (monitoring/rollups/hourly.py's path), counts
exactly and sums to 1e-9, with every hour spread over several partitions so that merging is
exercised; its hours' health and performance equal those summary mode builds from the same
rows; and the payload it posts is the summaries contract's."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from steward_client.client import Steward
from steward_client.health import empty_health
from steward_client.summaries import (
    CategoricalLayout,
    CategoricalSummary,
    NumericLayout,
    layout_from_dict,
    summarize,
    summary_from_dict,
)
from steward_client.summary_mode import hourly_summaries

from monitoring.rollups.hourly import feature_frame, row_keys, rows_frame
from monitoring.rollups.profiles import PREDICTION_FEATURE
from tests.conftest import REQUIRE_SERVICES

START = dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
HOURS = 3
PARTITIONS = 6


def _unavailable(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} and REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark (two cores) for the whole run: starting one takes seconds."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        _unavailable("pyspark is not installed (the client's `spark` extra)")
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        _unavailable("no Java runtime for Spark (java not on PATH, JAVA_HOME unset)")
    # The executors' Python is this one (with numpy, pandas, pyarrow and the client).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("steward-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    yield session
    session.stop()


def _layouts_payload(layouts: dict[str, Any], digest: str) -> dict[str, Any]:
    return {
        "format": 1,
        "version": 1,
        "digest": digest,
        "features": {
            name: layout.to_dict() for name, layout in layouts.items() if name != "__prediction__"
        },
        "prediction": layouts["__prediction__"].to_dict(),
    }


def _events(seed: int, rows: int, *, regression: bool) -> pd.DataFrame:
    """Events of one deployment over `HOURS` hours: numbers with missing values and a large
    offset, categories with missing and unseen values, a feature some events omit."""
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 12, rows).round(1)
    age[rng.random(rows) < 0.1] = np.nan
    income = 1e6 + rng.gamma(2.0, 300.0, rows)
    city = rng.choice(["Lyon", "Paris", "Nice", "Brest", "Oslo"], rows).astype(object)
    city[rng.random(rows) < 0.08] = None
    score = rng.random(rows)
    return pd.DataFrame(
        {
            "request_id": [f"req-{seed}-{i}" for i in range(rows)],
            "timestamp": [
                START + dt.timedelta(seconds=int(s)) for s in rng.integers(0, HOURS * 3600, rows)
            ],
            "age": age,
            "income": income,
            "city": city,
            "prediction": score if regression else np.where(score > 0.6, "yes", "no"),
        }
    )


def _reference_layouts(regression: bool) -> dict[str, Any]:
    rng = np.random.default_rng(99)
    return {
        "age": NumericLayout.from_reference(rng.normal(40, 12, 2000), n_bins=20, sample_size=32),
        "income": NumericLayout.from_reference(1e6 + rng.gamma(2.0, 300.0, 2000), n_bins=20),
        "city": CategoricalLayout.from_reference(["Lyon", "Paris", "Nice", "Brest"] * 10),
        # In the layouts, never in the table: missing in every row.
        "tenure": NumericLayout.from_reference(rng.integers(0, 30, 500)),
        "__prediction__": (
            NumericLayout.from_reference(rng.random(1000), n_bins=10)
            if regression
            else CategoricalLayout.from_reference(["yes", "no", "no"])
        ),
    }


def engine_hours(events: pd.DataFrame, layouts: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{hour: {feature: summary dict}} built as the engine's hourly rollup builds them from raw
    events (`summaries_build`: rows_frame, feature_frame, row_keys, one summary per hour).
    A missing value is left out of the event's features, or sent as null (one in ten)."""
    regression = isinstance(layouts[PREDICTION_FEATURE], NumericLayout)
    names = [c for c in events.columns if c not in ("request_id", "timestamp", "prediction")]
    tuples = []
    for row in events.to_dict("records"):
        features: dict[str, Any] = {}
        for name in names:
            if not pd.isna(row[name]):
                features[name] = row[name]
            elif row["request_id"].endswith("7"):
                features[name] = None
        tuples.append(
            (
                row["request_id"],
                row["timestamp"],
                features,
                None if regression else row["prediction"],
                row["prediction"] if regression else None,
                12.0,
                "ok",
                None,
                None,
                None,
            )
        )
    frame = rows_frame(tuples)
    values = feature_frame(frame, list(layouts), numeric_prediction=regression)
    keys = row_keys(frame)
    out = {}
    for hour, rows in frame.groupby("hour").indices.items():
        out[hour.strftime("%Y-%m-%dT%H:%M:%SZ")] = {
            name: summarize(values[name].to_numpy()[rows], layout, row_keys=keys[rows]).to_dict()
            for name, layout in layouts.items()
        }
    return out


def assert_summary_equal(spark_summary: dict[str, Any], engine_summary: dict[str, Any]) -> None:
    """Everything exact but the floating-point sum and centred second moment (1e-9). The job
    posts packed summaries (without layouts): one compared with an engine's plain `to_dict()`
    is read on the engine's layout first."""
    if spark_summary.get("encoding") == "packed" and "layout" in engine_summary:
        layout = layout_from_dict(engine_summary["layout"])
        spark_summary = summary_from_dict(spark_summary, layout).to_dict()
    inexact = {"sum", "m2"}
    for key in inexact & set(engine_summary):
        assert spark_summary[key] == pytest.approx(engine_summary[key], rel=1e-9, abs=1e-9)
    assert {k: v for k, v in spark_summary.items() if k not in inexact} == {
        k: v for k, v in engine_summary.items() if k not in inexact
    }


def assert_entries_equal(entries: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    """Two runs' hour entries: equal but for the rounding of sums (rows met in another order)."""
    assert [(e["hour"], e["count"]) for e in entries] == [(e["hour"], e["count"]) for e in expected]
    for mine, reference in zip(entries, expected, strict=True):
        assert set(mine["features"]) == set(reference["features"])
        for name, summary in reference["features"].items():
            assert_summary_equal(mine["features"][name], summary)
        assert_summary_equal(mine["prediction"], reference["prediction"])


@pytest.fixture(scope="module")
def table(spark) -> dict[str, Any]:
    """Two deployments (a classifier and a regression) in one table of six partitions, each
    hour's rows spread over all of them."""
    classifier = _events(1, 900, regression=False)
    regression = _events(2, 500, regression=True)
    layouts = {"3": _reference_layouts(False), "8": _reference_layouts(True)}
    frames = []
    for deployment, events in (("3", classifier), ("8", regression)):
        part = events.drop(columns=["prediction"]).assign(deployment=int(deployment))
        part["prediction"] = events["prediction"].astype(str if deployment == "3" else float)
        frames.append(part)
    data = pd.concat(frames, ignore_index=True)
    data["city"] = data["city"].astype(object).where(data["city"].notna(), None)
    schema = (
        "request_id string, timestamp timestamp, age double, income double, city string, "
        "deployment long, prediction string"
    )
    # One prediction column for both: labels, and scores as text (parsed back exactly).
    data["prediction"] = [v if isinstance(v, str) else repr(v) for v in data["prediction"]]
    frame = spark.createDataFrame(data, schema).repartition(PARTITIONS)
    return {
        "frame": frame,
        "events": {"3": classifier, "8": regression},
        "layouts": layouts,
        "payloads": {
            key: _layouts_payload(value, f"digest-{key}") for key, value in layouts.items()
        },
    }


@pytest.fixture(scope="module")
def built(spark, table) -> Any:
    """The job's result on the table, without posting (built once for several tests)."""
    from steward_client.spark import run

    return run(spark, table["frame"], layouts=table["payloads"], post=False)


def test_every_hour_spans_several_partitions(spark, table):
    from pyspark.sql import functions as F

    spread = (
        table["frame"]
        .withColumn("partition", F.spark_partition_id())
        .groupBy(F.date_trunc("hour", "timestamp").alias("hour"))
        .agg(F.countDistinct("partition").alias("partitions"))
        .collect()
    )
    assert len(spread) == HOURS
    assert all(row["partitions"] > 1 for row in spread)


def test_spark_summaries_equal_the_engines_on_the_same_events(table, built):
    result = built

    assert set(result.hours) == {"3", "8"}
    for deployment, entries in result.hours.items():
        expected = engine_hours(table["events"][deployment], table["layouts"][deployment])
        assert [entry["hour"] for entry in entries] == sorted(expected)
        events = table["events"][deployment]
        hours = events["timestamp"].map(lambda t: t.strftime("%Y-%m-%dT%H:00:00Z"))
        for entry in entries:
            assert entry["count"] == int((hours == entry["hour"]).sum())
            engine = expected[entry["hour"]]
            assert set(entry["features"]) == set(engine) - {PREDICTION_FEATURE}
            for name, summary in entry["features"].items():
                assert_summary_equal(summary, engine[name])
            assert_summary_equal(entry["prediction"], engine[PREDICTION_FEATURE])
    assert result.rows == 1400
    # Missing values were summarised as missing, unseen categories as "other".
    first = result.hours["3"][0]["features"]
    assert first["age"]["missing"] > 0 and first["city"]["missing"] > 0
    city_layout = layout_from_dict(table["payloads"]["3"]["features"]["city"])
    city = summary_from_dict(first["city"], city_layout)
    assert isinstance(city, CategoricalSummary) and city.other > 0
    assert first["city"]["unseen_examples"] == ["Oslo"]
    assert first["tenure"]["count"] == 0
    assert first["tenure"]["missing"] == result.hours["3"][0]["count"]
    assert result.hours["8"][0]["prediction"]["kind"] == "numeric"


def test_features_in_a_struct_column_and_a_one_deployment_table(spark, table, built):
    """The features nested in a `features` struct, the timestamp as ISO text, and the
    deployment given rather than read from a column: the same summaries."""
    from pyspark.sql import functions as F
    from steward_client.spark import run

    nested = (
        table["frame"]
        .where(F.col("deployment") == 3)
        .select(
            F.date_format("timestamp", "yyyy-MM-dd'T'HH:mm:ss'Z'").alias("ts"),
            F.col("request_id").alias("rid"),
            F.struct("age", "income", "city").alias("features"),
            F.col("prediction").alias("label"),
        )
    )
    flat = built.hours["3"]
    result = run(
        spark,
        nested,
        layouts={"3": table["payloads"]["3"]},
        deployment=3,
        timestamp="ts",
        request_id="rid",
        prediction="label",
        post=False,
    )
    assert list(result.hours) == ["3"]
    assert_entries_equal(result.hours["3"], flat)


def test_a_parquet_path_is_read(spark, table, built, tmp_path):
    from steward_client.spark import run

    path = tmp_path / "predictions"
    table["frame"].write.parquet(str(path))
    result = run(spark, str(path), layouts=table["payloads"], post=False)
    assert result.rows == 1400
    assert set(result.hours) == set(built.hours)
    for deployment, entries in built.hours.items():
        assert_entries_equal(result.hours[deployment], entries)


def test_rows_of_deployments_without_layouts_are_left_out(spark, table):
    from steward_client.spark import run

    result = run(spark, table["frame"], layouts={"8": table["payloads"]["8"]}, post=False)
    assert list(result.hours) == ["8"] and result.rows == 500


def test_posts_the_contract_payload_in_batches_after_asking_for_the_layouts(spark, table):
    """Steward is asked for each deployment's version and its layouts, then receives the
    hours in batches of `hours_per_request` with the layouts' digest."""
    from steward_client.spark import run

    seen: list[tuple[str, str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        seen.append((request.method, request.url.path, body))
        path = request.url.path
        if path.startswith("/api/v1/deployments/") and request.method == "GET":
            deployment = path.rstrip("/").rsplit("/", 1)[-1]
            return httpx.Response(
                200, json={"id": int(deployment), "version": 40 + int(deployment)}
            )
        if path.startswith("/api/v1/versions/"):
            version = int(path.split("/")[4])
            return httpx.Response(200, json=table["payloads"][str(version - 40)])
        return httpx.Response(200, json={"hours": len(body["hours"])})

    client = Steward("http://steward.test", "token", transport=httpx.MockTransport(answer))
    result = run(spark, table["frame"], client=client, hours_per_request=2)

    posts = [(path, body) for method, path, body in seen if method == "POST"]
    assert [path for path, _ in posts] == [
        "/api/v1/deployments/3/summaries/",
        "/api/v1/deployments/3/summaries/",
        "/api/v1/deployments/8/summaries/",
        "/api/v1/deployments/8/summaries/",
    ]
    for path, body in posts:
        deployment = path.split("/")[4]
        assert set(body) == {"format", "layout_digest", "hours"}
        assert body["format"] == 1 and body["layout_digest"] == f"digest-{deployment}"
        for entry in body["hours"]:
            assert set(entry) == {"hour", "count", "features", "prediction"}
            assert dt.datetime.fromisoformat(entry["hour"]).minute == 0
    assert sum(len(body["hours"]) for _, body in posts) == 2 * HOURS
    assert result.answers["3"] == [{"hours": 2}, {"hours": 1}]
    gets = {path for method, path, _ in seen if method == "GET"}
    assert gets == {
        "/api/v1/deployments/3/",
        "/api/v1/deployments/8/",
        "/api/v1/versions/43/layouts/",
        "/api/v1/versions/48/layouts/",
    }


def test_a_refused_post_raises_the_clients_error(spark, table):
    from steward_client.errors import StewardError
    from steward_client.spark import post_hours

    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(409, json={"detail": "layout digest-x is not the deployed one"})

    client = Steward("http://steward.test", "token", transport=httpx.MockTransport(refuse))
    with pytest.raises(StewardError, match="digest-x"):
        post_hours(client, 3, "digest-x", [{"hour": "2026-12-01T10:00:00Z", "count": 0}])


def test_spark_row_keys_are_the_engines():
    from steward_client.spark import request_row_keys

    frame = rows_frame(
        [(f"r{i}", START, {}, None, None, None, "ok", None, None, None) for i in range(50)]
    )
    assert np.array_equal(request_row_keys(frame["request_id"].to_numpy()), row_keys(frame))


@pytest.mark.django_db(transaction=True)
def test_summaries_posted_to_a_live_steward_are_the_engines(spark, live_server):
    """End to end: the job asks a live Steward for the layouts (and the binary decision), posts
    its hours, and the hourly rows Steward stores equal the engine's summaries of the same
    events; the table's latencies, errors and labels give the hourly health and the daily
    performance that summary mode's hours of the same rows give."""
    from django.urls import Resolver404, resolve

    try:
        resolve("/api/v1/deployments/1/summaries/")
    except Resolver404:
        pytest.skip("the summaries endpoint (#14 part 1) is not on this branch yet")
    from steward_client.health import health_figures
    from steward_client.spark import parse_layouts, run

    from monitoring.engines.health import HOURLY_FIELDS
    from monitoring.models import DailyPerformance, HourlyHealth, HourlySummary
    from monitoring.rollups import jobs
    from tests import factories
    from tests.client.conftest import client_for
    from tests.monitoring import deployment_rollups as rollups

    model = factories.registered_model()
    deployment, _, _ = rollups.monitored_deployment(model=model, n_features=4, target=True)
    events = rollups.frame_for(rollups.feature_schema(4), 400, seed=5)
    events.loc[events.index % 9 == 0, "num_0"] = np.nan
    start = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) - 3 * HOUR
    events["timestamp"] = [start + dt.timedelta(seconds=18 * i) for i in range(400)]  # 2 hours
    events["request_id"] = [f"live-{i}" for i in range(400)]
    events["prediction"] = np.where(events.index % 3 == 0, "1", "0")
    events["score"] = np.linspace(0.01, 0.99, 400)
    events["label"] = np.where(events.index % 5 == 0, None, np.where(events.index % 2, "1", "0"))
    events["latency_ms"] = 5.0 + (events.index % 17) * 3.5
    events["status"] = np.where(events.index % 23 == 0, "error", "ok")
    frame = spark.createDataFrame(events).repartition(3)

    with client_for(live_server, model.owner) as client:
        payload = client.get(f"versions/{deployment.version_id}/layouts/")
        decision = client.performance_settings(deployment.pk)
        result = run(spark, frame, client=client, deployment=deployment.pk)

    assert result.rows == 400 and len(result.hours[str(deployment.pk)]) == 2
    # The posted hours are stale until the monitoring job folds them in (as events are).
    jobs.deployment_monitor(deployment=deployment, start=start, end=start + 3 * HOUR)
    expected = engine_hours(events, parse_layouts(payload))
    stored = {
        (row.hour.strftime("%Y-%m-%dT%H:%M:%SZ"), row.feature): row.summary
        for row in HourlySummary.objects.filter(deployment=deployment)
    }
    assert set(stored) == {(hour, name) for hour, names in expected.items() for name in names}
    for (hour, name), summary in stored.items():
        assert_summary_equal(summary, expected[hour][name])
    summarised = hourly_summaries(events, payload, **decision)
    health = {
        row["hour"].strftime("%Y-%m-%dT%H:%M:%SZ"): row
        for row in HourlyHealth.objects.filter(deployment=deployment).values(*HOURLY_FIELDS)
    }
    assert set(health) == {entry["hour"] for entry in summarised}
    for entry in summarised:
        figures = health_figures(entry["health"])
        assert health[entry["hour"]]["errors"] == figures["errors"] > 0
        for name in HOURLY_FIELDS[1:]:
            stored_figure, figure = health[entry["hour"]][name], figures[name]
            assert stored_figure == (
                figure if figure is None else pytest.approx(figure, rel=1e-9)
            ), name
    days = DailyPerformance.objects.filter(deployment=deployment)
    errors = sum(entry["health"]["errors"] for entry in summarised)
    assert sum(day.predictions for day in days) == 400 - errors  # the "ok" predictions
    labelled = sum(entry["performance"]["labelled"] for entry in summarised)
    assert sum(day.labelled for day in days) == labelled > 250
    assert all(day.metrics["roc_auc"] is not None for day in days)


def test_a_task_pools_batches_and_emits_before_holding_too_many(monkeypatch, table):
    """Stage 1 and 2 as plain functions: batches pooled by `BUFFER_ROWS`, partials emitted
    every `MAX_HELD_SUMMARIES`, and the merge of everything emitted equals the engine's."""
    from steward_client import spark as job

    monkeypatch.setattr(job, "BUFFER_ROWS", 250)
    monkeypatch.setattr(job, "MAX_HELD_SUMMARIES", 12)
    events = table["events"]["3"]
    layouts = table["layouts"]["3"]
    names = ["age", "income", "city", "tenure", PREDICTION_FEATURE]
    columns = {name: f"c{i}" for i, name in enumerate(names) if name != "tenure"}
    frame = pd.DataFrame(
        {
            "deployment": "3",
            "hour": events["timestamp"].map(lambda t: int(t.timestamp()) // 3600 * 3600),
            "request_id": events["request_id"],
        }
        | {columns[n]: events[n if n != PREDICTION_FEATURE else "prediction"] for n in columns}
    )
    plan = job._Plan(layouts={"3": table["payloads"]["3"]}, columns=columns)

    class Broadcast:
        value = plan

    batches = [frame.iloc[i : i + 100] for i in range(0, len(frame), 100)]
    emitted = list(job._partials(Broadcast, iter(batches)))
    assert len(emitted) > 2  # pooled in fours, flushed more than once
    partials = pd.concat(emitted, ignore_index=True)
    entries = [
        json.loads(job._merge_hour(group)["entry"].iloc[0])
        for _, group in partials.groupby("hour", sort=True)
    ]
    expected = engine_hours(events, layouts)
    assert [entry["hour"] for entry in entries] == sorted(expected)
    for entry in entries:
        for name, summary in entry["features"].items():
            assert_summary_equal(summary, expected[entry["hour"]][name])
        assert_summary_equal(entry["prediction"], expected[entry["hour"]][PREDICTION_FEATURE])


# --- health and performance: the hours equal summary mode's on the same rows -----------------

CLASSES = ["a", "b", "c"]
DECISION = {"positive_label": "yes", "threshold": 0.6}


def _outcome_columns(events: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Health columns (latency with gaps, some "error" statuses, one `error` text on an "ok"
    row, cache hits reported or not) and ground truth known for four rows in five."""
    rng = np.random.default_rng(seed)
    rows = len(events)
    latency = rng.gamma(2.0, 20.0, rows)
    latency[rng.random(rows) < 0.1] = np.nan
    latency[:3] = 0.0  # at most ZERO_MS: counted apart in the sketch
    status = np.where(rng.random(rows) < 0.05, "error", "ok").astype(object)
    error = np.full(rows, None, dtype=object)
    status[7], error[7] = "ok", "upstream timeout"
    cache = rng.choice([True, False, None], rows).astype(object)
    return events.assign(latency_ms=latency, status=status, error=error, cache_hit=cache)


def _binary_events() -> pd.DataFrame:
    events = _events(11, 700, regression=False).drop(columns=["prediction"])
    rng = np.random.default_rng(12)
    score = rng.random(len(events))
    truth = np.where(rng.random(len(events)) < score, "yes", "no").astype(object)
    truth[rng.random(len(events)) < 0.2] = None
    events = events.assign(prediction=np.where(score >= 0.6, "yes", "no"), score=score)
    return _outcome_columns(events.assign(label=truth, scores=None), 13)


def _multiclass_events() -> pd.DataFrame:
    events = _events(21, 500, regression=False).drop(columns=["prediction"])
    rng = np.random.default_rng(22)
    probabilities = rng.dirichlet([1.0, 1.0, 1.0], len(events))
    scores = [dict(zip(CLASSES, map(float, row), strict=True)) for row in probabilities]
    predicted = [CLASSES[int(i)] for i in probabilities.argmax(axis=1)]
    truth = np.asarray(rng.choice(CLASSES, len(events)), dtype=object)
    truth[rng.random(len(events)) < 0.2] = None
    events = events.assign(prediction=predicted, score=np.nan, label=truth, scores=scores)
    return _outcome_columns(events, 23)


def _classifier_payload(task: str, digest: str, classes: list[str]) -> dict[str, Any]:
    layouts = _reference_layouts(False)
    layouts["__prediction__"] = CategoricalLayout.from_reference(classes * 3)
    return {**_layouts_payload(layouts, digest), "task": task}


@pytest.fixture(scope="module")
def labelled(spark) -> dict[str, Any]:
    """A binary deployment (labels, scores, a non-default decision) and a multiclass one (per
    class scores in a map column) in one table of six partitions, with health columns."""
    events = {"5": _binary_events(), "6": _multiclass_events()}
    frames = [part.assign(deployment=int(key)) for key, part in events.items()]
    data = pd.concat(frames, ignore_index=True)
    schema = (
        "request_id string, timestamp timestamp, age double, income double, city string, "
        "prediction string, score double, label string, scores map<string,double>, "
        "latency_ms double, status string, error string, cache_hit boolean, deployment long"
    )
    frame = spark.createDataFrame(data[schema_names(schema)], schema).repartition(PARTITIONS)
    payloads = {
        "5": _classifier_payload("binary", "digest-5", ["yes", "no"]),
        "6": _classifier_payload("multiclass", "digest-6", CLASSES),
    }
    return {"frame": frame, "events": events, "payloads": payloads}


def schema_names(schema: str) -> list[str]:
    return [part.strip().split(" ")[0] for part in schema.split(", ")]


def summary_mode_hours(events: pd.DataFrame, payload: dict[str, Any], **options: Any) -> dict:
    """{hour: entry} as summary mode builds them from the same rows."""
    return {entry["hour"]: entry for entry in hourly_summaries(events, payload, **options)}


def assert_close(mine: Any, reference: Any, where: str = "") -> None:
    """Equal JSON values: integers, text and structure exactly, floats to 1e-9."""
    if isinstance(reference, dict):
        assert isinstance(mine, dict) and set(mine) == set(reference), where
        for key in reference:
            assert_close(mine[key], reference[key], f"{where}.{key}")
    elif isinstance(reference, list):
        assert isinstance(mine, list) and len(mine) == len(reference), where
        for index, (a, b) in enumerate(zip(mine, reference, strict=True)):
            assert_close(a, b, f"{where}[{index}]")
    elif isinstance(reference, float):
        assert mine == pytest.approx(reference, rel=1e-9, abs=1e-9), where
    else:
        assert type(mine) is type(reference) and mine == reference, where


def test_labelled_hours_span_several_partitions(labelled):
    from pyspark.sql import functions as F

    spread = (
        labelled["frame"]
        .withColumn("partition", F.spark_partition_id())
        .groupBy("deployment", F.date_trunc("hour", "timestamp"))
        .agg(F.countDistinct("partition").alias("partitions"))
        .collect()
    )
    assert len(spread) == 2 * HOURS and all(row["partitions"] > 1 for row in spread)


def test_health_and_performance_equal_summary_modes_on_the_same_rows(spark, labelled):
    from steward_client.spark import run

    result = run(
        spark,
        labelled["frame"],
        layouts=labelled["payloads"],
        decisions={5: DECISION},
        post=False,
    )

    assert set(result.hours) == {"5", "6"}
    for deployment, entries in result.hours.items():
        options = DECISION if deployment == "5" else {}
        events = labelled["events"][deployment]
        expected = summary_mode_hours(events, labelled["payloads"][deployment], **options)
        assert [entry["hour"] for entry in entries] == sorted(expected)
        for entry in entries:
            reference = expected[entry["hour"]]
            assert entry["count"] == reference["count"]
            assert_close(entry["health"], reference["health"], f"{deployment} health")
            assert_close(entry["performance"], reference["performance"], f"{deployment} perf")
    # Not vacuous: errors, latencies, cache reports, scored labels and per-class bins are there.
    binary = result.hours["5"]
    assert sum(entry["health"]["errors"] for entry in binary) > 10
    assert binary[0]["health"]["latency"]["zero"] + binary[0]["health"]["cache_reported"] > 0
    assert all("scores" in entry["performance"] for entry in binary)
    assert {"yes", "not yes"} <= set(binary[0]["performance"]["confusion"]["no"])
    multiclass = result.hours["6"]
    assert all(set(entry["performance"]["class_scores"]) == set(CLASSES) for entry in multiclass)
    labelled_rows = sum(entry["performance"]["labelled"] for entry in binary + multiclass)
    assert 800 < labelled_rows < 1200


def test_a_regression_is_scored_by_its_prediction_column_and_columns_can_be_renamed(spark):
    """A regression table without a `score` column: its prediction is the score, as for its
    summary; the ground truth and latency columns under other names."""
    from steward_client.spark import run

    events = _outcome_columns(_events(31, 400, regression=True), 32)
    events["value"] = events["prediction"] + np.random.default_rng(33).normal(0, 0.2, 400)
    events.loc[events.index % 6 == 0, "value"] = np.nan
    payload = {**_layouts_payload(_reference_layouts(True), "digest-9"), "task": "regression"}
    renamed = events.drop(columns=["cache_hit"]).rename(
        columns={"value": "truth", "latency_ms": "took_ms"}
    )
    frame = spark.createDataFrame(renamed).repartition(PARTITIONS)

    result = run(
        spark,
        frame,
        layouts={9: payload},
        deployment=9,
        value="truth",
        latency_ms="took_ms",
        post=False,
    )

    expected = summary_mode_hours(
        events.drop(columns=["cache_hit"]).assign(score=events["prediction"]), payload
    )
    entries = result.hours["9"]
    assert [entry["hour"] for entry in entries] == sorted(expected)
    for entry in entries:
        assert_close(entry["health"], expected[entry["hour"]]["health"], "health")
        assert_close(entry["performance"], expected[entry["hour"]]["performance"], "perf")
    assert sum(entry["performance"]["errors"]["n"] for entry in entries) > 250
    assert sum(entry["health"]["latency"]["count"] for entry in entries) > 300


def test_an_unknown_column_option_is_refused(spark, labelled):
    from steward_client.spark import run

    with pytest.raises(TypeError, match="latency"):
        run(spark, labelled["frame"], layouts=labelled["payloads"], latency="x", post=False)


def test_a_table_without_health_or_truth_posts_neither_and_loses_nothing(table, built):
    """Without those columns the entries carry no `health` (Steward reads a missing one as
    `empty_health(count)`, what summary mode builds from such rows) and no `performance`."""
    for deployment, entries in built.hours.items():
        payload = {**table["payloads"][deployment], "task": "binary"}
        expected = summary_mode_hours(table["events"][deployment], payload)
        for entry in entries:
            assert "health" not in entry and "performance" not in entry
            assert expected[entry["hour"]]["health"] == empty_health(entry["count"])
            assert "performance" not in expected[entry["hour"]]


def test_each_binary_deployment_is_decided_by_its_own_label_and_threshold():
    from steward_client.spark import deployment_outcomes

    layouts = {"7": {"task": "binary"}, "8": {"task": "binary"}, "9": {"task": None}}
    decisions = {7: {"positive_label": "yes", "threshold": 0.0}}
    outcomes = deployment_outcomes(layouts, decisions)
    assert sorted(outcomes) == ["7", "8"]  # no task: no performance counted
    assert (outcomes["7"].positive_label, outcomes["7"].threshold) == ("yes", 0.0)
    assert (outcomes["8"].positive_label, outcomes["8"].threshold) == ("1", 0.5)
