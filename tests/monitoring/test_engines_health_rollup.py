"""The daily health rollup (`monitoring.engines.health.daily_health`) against a plain pandas
computation of the same figures, on generated hourly rows."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from monitoring.engines.health import DAY_SECONDS, HOURLY_FIELDS, daily_health, health_rollup

START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
MAYBE_FLOAT = st.one_of(st.none(), st.floats(min_value=0.0, max_value=5_000.0))


@st.composite
def hourly_rows(draw: Any) -> list[dict[str, Any]]:
    hours = draw(st.lists(st.integers(min_value=0, max_value=24 * 5 - 1), unique=True, max_size=40))
    rows = []
    for hour in hours:
        count = draw(st.integers(min_value=0, max_value=500))
        cache_reported = draw(st.integers(min_value=0, max_value=count))
        rows.append(
            {
                # Some rows in another time zone: the day is the UTC day all the same.
                "hour": (START + dt.timedelta(hours=hour)).astimezone(
                    dt.timezone(dt.timedelta(hours=draw(st.sampled_from([0, -5, 9]))))
                ),
                "count": count,
                "errors": draw(st.integers(min_value=0, max_value=count)),
                "latency_count": draw(st.integers(min_value=0, max_value=count)),
                "latency_mean_ms": draw(MAYBE_FLOAT),
                "latency_p50_ms": draw(MAYBE_FLOAT),
                "latency_p95_ms": draw(MAYBE_FLOAT),
                "latency_p99_ms": draw(MAYBE_FLOAT),
                "cache_hits": draw(st.integers(min_value=0, max_value=cache_reported)),
                "cache_reported": cache_reported,
                "cpu_mean": draw(MAYBE_FLOAT),
                "memory_mean": draw(MAYBE_FLOAT),
            }
        )
    return rows


def pandas_daily(rows: list[dict[str, Any]]) -> dict[dt.date, dict[str, float | None]]:
    """The same figures with pandas group-bys: sums per UTC day, ratios, weighted means."""
    frame = pd.DataFrame.from_records(rows, columns=list(HOURLY_FIELDS))
    if frame.empty:
        return {}
    frame["day"] = pd.to_datetime(frame["hour"], utc=True).dt.date
    sums = frame.groupby("day")[["count", "errors", "cache_hits", "cache_reported"]].sum()

    def weighted(value: str, weight: str) -> pd.Series:
        known = frame[value].notna() & (frame[weight] > 0)
        part = frame[known]
        total = part[weight].groupby(part["day"]).sum()
        return (part[value] * part[weight]).groupby(part["day"]).sum() / total

    columns = {
        "requests": sums["count"],
        "errors": sums["errors"],
        "requests_per_second": sums["count"] / DAY_SECONDS,
        "error_rate": sums["errors"] / sums["count"].where(sums["count"] > 0),
        "cache_hit_rate": sums["cache_hits"]
        / sums["cache_reported"].where(sums["cache_reported"] > 0),
        "cpu_mean": weighted("cpu_mean", "count"),
        "memory_mean": weighted("memory_mean", "count"),
        **{
            name: weighted(name, "latency_count")
            for name in ("latency_mean_ms", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms")
        },
    }
    out = pd.DataFrame(columns).reindex(sums.index)
    return {
        day: {k: None if pd.isna(v) else float(v) for k, v in values.items()}
        for day, values in out.to_dict("index").items()
    }


@settings(max_examples=150, deadline=None)
@given(hourly_rows())
def test_daily_health_equals_a_pandas_group_by(rows):
    got = daily_health(rows)
    expected = pandas_daily(rows)
    assert list(got) == sorted(expected)
    for day, figures in expected.items():
        rollup = got[day].to_dict()
        for name, value in figures.items():
            if value is None:
                assert rollup[name] is None, (day, name)
            else:
                assert math.isclose(rollup[name], value, rel_tol=1e-9, abs_tol=1e-9), (day, name)


def test_an_empty_span_has_counts_of_zero_and_no_rates():
    rollup = health_rollup([], DAY_SECONDS)
    assert (rollup.requests, rollup.errors, rollup.requests_per_second) == (0, 0, 0.0)
    assert rollup.error_rate is None and rollup.latency_p95_ms is None and rollup.cpu_mean is None


def test_a_day_is_the_utc_day_of_the_hour():
    late = {name: 0 for name in HOURLY_FIELDS} | {
        "hour": dt.datetime(2026, 3, 1, 23, tzinfo=dt.UTC).astimezone(
            dt.timezone(dt.timedelta(hours=9))
        ),
        "count": 4,
        "errors": 1,
        "latency_mean_ms": None,
        "latency_p50_ms": None,
        "latency_p95_ms": None,
        "latency_p99_ms": None,
        "cpu_mean": None,
        "memory_mean": None,
    }
    assert list(daily_health([late])) == [dt.date(2026, 3, 1)]
    assert daily_health([late])[dt.date(2026, 3, 1)].error_rate == 0.25
