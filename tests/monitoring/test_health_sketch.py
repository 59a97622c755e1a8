"""The mergeable health contribution and its latency sketch (steward_client.health), against
numpy's own quantiles and means."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from steward_client.health import (
    QUANTILES,
    RELATIVE_ERROR,
    ZERO_MS,
    health_contribution,
    health_figures,
    health_problems,
    merge_health,
)

LATENCIES = st.lists(
    st.floats(min_value=0.0, max_value=1e6, allow_nan=False), min_size=1, max_size=300
)


@settings(max_examples=150, deadline=None)
@given(LATENCIES)
def test_sketch_percentiles_are_within_the_stated_error_of_numpys(latencies):
    values = np.asarray(latencies)
    figures = health_figures(health_contribution(count=values.size, latency_ms=values))
    exact = np.quantile(values, QUANTILES, method="linear")
    got = [figures["latency_p50_ms"], figures["latency_p95_ms"], figures["latency_p99_ms"]]
    for estimate, truth in zip(got, exact, strict=True):
        assert abs(estimate - truth) <= RELATIVE_ERROR * truth + ZERO_MS + 1e-9 * truth


@settings(max_examples=100, deadline=None)
@given(LATENCIES, LATENCIES)
def test_merging_two_contributions_equals_the_contribution_of_both(a, b):
    left, right = np.asarray(a), np.asarray(b)
    merged = merge_health(
        health_contribution(count=left.size, latency_ms=left),
        health_contribution(count=right.size, latency_ms=right),
    )
    whole = health_contribution(count=left.size + right.size, latency_ms=np.r_[left, right])
    assert merged["latency"]["buckets"] == whole["latency"]["buckets"]
    assert merged["latency"]["sum"] == pytest.approx(whole["latency"]["sum"], rel=1e-12)
    merged["latency"]["sum"] = whole["latency"]["sum"]
    assert merged == whole


def test_counts_and_means_are_exact_and_missing_values_are_ignored():
    rng = np.random.default_rng(3)
    latency = rng.lognormal(3, 1, 500)
    latency[::10] = np.nan
    cpu = rng.uniform(0, 1, 500)
    cpu[::7] = np.nan
    errors = rng.random(500) < 0.1
    cache = np.array([True, False, None, True, None] * 100, dtype=object)
    figures = health_figures(
        health_contribution(count=500, errors=errors, latency_ms=latency, cache_hit=cache, cpu=cpu)
    )
    assert figures["count"] == 500 and figures["errors"] == int(errors.sum())
    assert figures["latency_count"] == 450
    assert figures["latency_mean_ms"] == pytest.approx(np.nanmean(latency), rel=1e-12)
    assert figures["cpu_mean"] == pytest.approx(np.nanmean(cpu), rel=1e-12)
    assert (figures["cache_hits"], figures["cache_reported"]) == (200, 300)
    assert figures["memory_mean"] is None and figures["latency_p50_ms"] is not None


def test_an_hour_without_latencies_has_no_percentiles():
    figures = health_figures(health_contribution(count=3))
    assert figures["latency_p50_ms"] is None and figures["latency_mean_ms"] is None


def test_inconsistent_contributions_are_named_field_by_field():
    good = health_contribution(count=10, latency_ms=np.arange(10.0), errors=np.ones(10, bool))
    assert health_problems(good, 10) == []
    bad = merge_health(good, good)
    bad["latency"]["count"] += 1
    bad["errors"] = 25
    fields = {field for field, _ in health_problems(bad, 20)}
    assert fields == {"errors", "latency.count"}
    assert health_problems(good, 11)[0][0] == "count"


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("x", 1, "latency.buckets.x"),
        ("²", 1, "latency.buckets.²"),
        ("--3", 1, "latency.buckets.--3"),
        ("7", -1, "latency.buckets.7"),
        ("7", True, "latency.buckets.7"),
        ("7", 1.0, "latency.buckets.7"),
    ],
)
def test_a_malformed_latency_bucket_is_named(key, value, field):
    contribution = health_contribution(count=10, latency_ms=np.arange(1.0, 11.0))
    buckets = contribution["latency"]["buckets"]
    assert health_problems(contribution, 10) == [] and len(buckets) > 1
    buckets[key] = value
    assert field in {where for where, _ in health_problems(contribution, 10)}
