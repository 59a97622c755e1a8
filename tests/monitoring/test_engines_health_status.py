"""Service health figures, data quality counts, and statuses with their reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from steward_client.summaries import (
    CategoricalLayout,
    CategoricalSummary,
    NumericLayout,
    NumericSummary,
)

from monitoring.engines import health, quality, status


def test_service_health_figures():
    rng = np.random.default_rng(0)
    stamps = np.sort(rng.uniform(0, 600, size=1200))
    latency = rng.gamma(2, 50, size=1200)
    codes = np.where(rng.uniform(size=1200) < 0.03, 503, 200)
    hits = rng.uniform(size=1200) < 0.4
    result = health.service_health(
        timestamps=stamps, latencies_ms=latency, statuses=codes, cache_hits=hits,
        cpu=np.full(1200, 0.5), window_seconds=600,
    )  # fmt: skip
    assert result.count == 1200 and result.requests_per_second == pytest.approx(2.0)
    p50, p95, p99 = np.quantile(latency, [0.5, 0.95, 0.99], method="linear")
    assert (result.latency_p50_ms, result.latency_p95_ms, result.latency_p99_ms) == (p50, p95, p99)
    assert result.error_rate == pytest.approx(np.mean(codes >= 500))
    assert result.cache_hit_rate == pytest.approx(hits.mean())
    assert result.cpu_mean == 0.5 and result.memory_mean is None
    assert result.seconds_since_last(700.0) == pytest.approx(700.0 - stamps.max())


def test_health_by_day_and_an_empty_window():
    stamps = np.array(["2026-03-01T01:00", "2026-03-01T02:00", "2026-03-02T05:00"], "datetime64[s]")
    days = health.health_by_window(timestamps=stamps, latencies_ms=np.array([10.0, 30.0, 5.0]))
    assert [d.count for _, d in days] == [2, 1]
    assert days[0][1].latency_p50_ms == 20.0
    empty = health.service_health(timestamps=np.array([], dtype=float))
    assert empty.count == 0 and empty.latency_p95_ms is None and empty.error_rate is None


def test_accuracy_reason_in_words():
    verdict = status.accuracy_status(0.81)
    assert verdict.level is status.Level.AT_RISK
    assert verdict.reason == "accuracy 0.81 is below the at-risk threshold 0.85"
    assert status.accuracy_status(0.7).level is status.Level.FAILING
    assert status.accuracy_status(0.9).level is status.Level.GOOD
    assert status.accuracy_status(None).level is status.Level.UNKNOWN


def test_health_takes_the_worst_check_and_names_it():
    verdict = status.health_status(error_rate=0.08, latency_p95_ms=700, seconds_since_last=10)
    assert verdict.level is status.Level.FAILING
    assert verdict.reason == "error rate 0.08 is above the failing threshold 0.05"
    at_risk = status.health_status(error_rate=0.0, latency_p95_ms=700.0)
    assert at_risk.reason == "p95 latency 700 ms is above the at-risk threshold 500 ms"


def test_thresholds_are_per_deployment():
    strict = status.Thresholds.from_dict({"drift_share_at_risk": 0.1})
    verdicts = status.deployment_status(accuracy=0.9, drift_share=0.12, thresholds=strict)
    assert verdicts["drift"].level is status.Level.AT_RISK
    assert verdicts["service_health"].level is status.Level.UNKNOWN
    with pytest.raises(ValueError, match="unknown status thresholds"):
        status.Thresholds.from_dict({"nonsense": 1})


def test_weighted_drift_share_counts_important_features_more():
    drifted = {"a": True, "b": False, "c": False}
    assert status.weighted_drift_share(drifted, None) == pytest.approx(1 / 3)
    assert status.weighted_drift_share(drifted, {"a": 3, "b": 1}) == pytest.approx(0.75)


def test_quality_from_raw_values_and_from_summaries_agree():
    reference = pd.Series([1.0, 2.0, 3.0, 4.0])
    current = pd.Series([0.5, 2.0, None, "oops", 9.0, 3.0], dtype=object)
    raw = quality.column_quality(reference, current, "numeric")
    assert (raw.missing, raw.type_errors, raw.out_of_range, raw.n_values) == (1, 1, 2, 4)
    layout = NumericLayout.from_reference(reference)
    summarised = quality.quality_from_summaries(
        NumericSummary.build(reference, layout), NumericSummary.build(current, layout), "numeric"
    )
    assert summarised.to_dict() == raw.to_dict()


def test_unseen_categories_and_type_errors():
    reference = np.array(["a", "b", "b"])
    current = np.array(["a", "c", "d", "d", None], dtype=object)
    raw = quality.column_quality(reference, current, "categorical")
    assert (raw.unseen, raw.unseen_examples, raw.missing) == (3, ("c", "d"), 1)
    assert raw.unseen_share == pytest.approx(0.75)
    layout = CategoricalLayout.from_reference(reference)
    summarised = quality.quality_from_summaries(
        CategoricalSummary.build(reference, layout),
        CategoricalSummary.build(current, layout),
        "categorical",
    )
    assert (summarised.unseen, summarised.unseen_examples) == (3, ("c", "d"))
    assert quality.type_errors(np.array([1.0, 2.5, 3.0]), "integer") == 1
    assert quality.type_errors(np.array(["yes", "No", "maybe", None], dtype=object), "boolean") == 1
    assert quality.type_errors(pd.Series(["2026-01-01", "later"]), "datetime") == 1


def test_drift_axis_takes_the_worst_of_share_weighted_share_and_prediction_drift():
    calm = status.drift_status(0.1, weighted_share=0.05, prediction_drifted=False)
    assert calm.level == status.Level.GOOD
    important = status.drift_status(0.1, weighted_share=0.3)
    assert important.level == status.Level.AT_RISK
    assert "importance-weighted drifted share 0.3" in important.reason
    moved = status.drift_status(0.0, prediction_drifted=True)
    assert moved.level == status.Level.AT_RISK and "predictions drifted" in moved.reason
    assert status.drift_status(0.1, weighted_share=0.6).level == status.Level.FAILING
    assert status.drift_status(None).level == status.Level.UNKNOWN


def test_regression_defaults_judge_r2_on_its_own_scale():
    regression = status.Thresholds.from_dict({}, task="regression")
    assert (regression.accuracy_at_risk, regression.accuracy_failing) == (0.3, 0.0)
    assert status.accuracy_status(0.45, regression, metric="r2").level == status.Level.GOOD
    assert status.accuracy_status(-0.2, regression, metric="r2").level == status.Level.FAILING
    stored = status.Thresholds.from_dict({"accuracy_at_risk": 0.5}, task="regression")
    assert stored.accuracy_at_risk == 0.5 and stored.accuracy_failing == 0.0
    assert status.Thresholds.from_dict({}, task="binary").accuracy_at_risk == 0.85


def test_rows_that_drift_together_put_the_drift_axis_at_risk():
    verdict = status.drift_status(0.0, rows_drifted=True)
    assert verdict.level == status.Level.AT_RISK
    assert "multivariate test" in verdict.reason
    assert status.drift_status(0.0, rows_drifted=False).level == status.Level.GOOD
