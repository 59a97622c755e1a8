"""Univariate drift: every statistic against scipy, the binned approximations against the exact
values, method selection, and whole tables."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial import distance
from steward_client.summaries import (
    CategoricalLayout,
    CategoricalSummary,
    NumericLayout,
    NumericSummary,
)

from monitoring.engines import drift
from monitoring.engines.drift import DriftResult, choose_method, detect_drift
from monitoring.engines.univariate import wasserstein_sorted

FAST = settings(max_examples=80, deadline=None)

# Rounded values make ties, the hard case for every rank-based statistic.
sample = st.lists(
    st.floats(min_value=-100, max_value=100, allow_nan=False).map(lambda x: round(x, 1)),
    min_size=1,
    max_size=80,
)
categories = st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=1, max_size=80)


@pytest.mark.filterwarnings("ignore:ks_2samp. Exact calculation unsuccessful")
@FAST
@given(sample, sample)
def test_ks_equals_scipy(x, y):
    result = drift.ks(np.array(x), np.array(y))
    expected = stats.ks_2samp(x, y)
    assert result.statistic == pytest.approx(expected.statistic, abs=1e-9)
    assert result.p_value == pytest.approx(expected.pvalue, abs=1e-9)
    assert result.drifted == (expected.pvalue < 0.05)


@settings(max_examples=5, deadline=None)
@given(st.integers(0, 10_000), st.integers(10_001, 15_000), st.floats(0, 0.2))
def test_ks_equals_scipy_on_large_samples_with_the_asymptotic_formula(seed, size, shift):
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=12_000), 2)
    y = np.round(rng.normal(shift, 1, size=size), 2)
    result = drift.ks(x, y)
    expected = stats.ks_2samp(x, y)
    assert result.statistic == pytest.approx(expected.statistic, abs=1e-9)
    assert result.p_value == pytest.approx(expected.pvalue, abs=1e-9)


@FAST
@given(sample, sample)
def test_wasserstein_equals_scipy_normed_as_evidently(x, y):
    result = drift.wasserstein(np.array(x), np.array(y))
    raw = stats.wasserstein_distance(x, y)
    assert result.parameters["distance"] == pytest.approx(raw, abs=1e-9)
    assert result.statistic == pytest.approx(raw / max(np.std(x), 0.001), abs=1e-9)
    assert result.p_value is None
    assert result.drifted == (result.statistic >= 0.1)


@FAST
@given(sample, sample)
def test_the_quantile_form_of_wasserstein_equals_scipy(x, y):
    got = wasserstein_sorted(np.sort(x), np.sort(y))
    assert got == pytest.approx(stats.wasserstein_distance(x, y), abs=1e-9)


def _aligned(x: list[str], y: list[str]) -> tuple[np.ndarray, np.ndarray]:
    keys = sorted(set(x) | set(y))
    return np.array([x.count(k) for k in keys]), np.array([y.count(k) for k in keys])


@FAST
@given(categories, categories)
def test_chi_squared_goodness_of_fit_equals_scipy_chisquare(x, y):
    ref, cur = _aligned(x, y)
    result = drift.chi_squared(np.array(x), np.array(y))
    if ref.size < 2:  # scipy answers NaN for a single category; identical distributions
        assert (result.statistic, result.p_value) == (0.0, 1.0)
        return
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = stats.chisquare(cur, ref * cur.sum() / ref.sum())
    if np.isinf(expected.statistic):
        assert np.isinf(result.statistic) and result.p_value == 0.0
    else:
        assert result.statistic == pytest.approx(expected.statistic, abs=1e-9)
        assert result.p_value == pytest.approx(expected.pvalue, abs=1e-9)


@FAST
@given(categories, categories)
def test_chi_squared_homogeneity_equals_scipy_chi2_contingency(x, y):
    ref, cur = _aligned(x, y)
    result = drift.chi_squared(np.array(x), np.array(y), mode="homogeneity")
    if ref.size < 2:
        assert result.p_value == 1.0
        return
    expected = stats.chi2_contingency(np.vstack([ref, cur]), correction=False)
    assert result.statistic == pytest.approx(expected.statistic, abs=1e-9)
    assert result.p_value == pytest.approx(expected.pvalue, abs=1e-9)


@FAST
@given(categories, categories, st.sampled_from([None, 2.0]))
def test_jensen_shannon_equals_scipy(x, y, base):
    ref, cur = _aligned(x, y)
    result = drift.jensen_shannon(np.array(x), np.array(y), base=base)
    expected = distance.jensenshannon(ref / ref.sum(), cur / cur.sum(), base=base)
    assert result.statistic == pytest.approx(expected, abs=1e-9)


@FAST
@given(sample, sample)
def test_numeric_jensen_shannon_bins_as_evidently(x, y):
    result = drift.jensen_shannon(np.array(x), np.array(y), feature_type="numeric")
    if len(set(x)) > 20:
        edges = np.histogram_bin_edges(np.concatenate([x, y]), bins="sturges")
        ref, cur = np.histogram(x, edges)[0], np.histogram(y, edges)[0]
    else:
        keys = sorted(set(x) | set(y))
        ref = np.array([x.count(k) for k in keys])
        cur = np.array([y.count(k) for k in keys])
    expected = distance.jensenshannon(ref / len(x), cur / len(y))
    assert result.statistic == pytest.approx(expected, abs=1e-9)


def _psi_direct(ref: np.ndarray, cur: np.ndarray, eps: float = 1e-4) -> float:
    r, c = ref / ref.sum(), cur / cur.sum()
    r[r == 0], c[c == 0] = eps, eps
    return float(np.sum((c - r) * np.log(c / r)))


@FAST
@given(categories, categories)
def test_categorical_psi_equals_the_direct_formula(x, y):
    ref, cur = _aligned(x, y)
    result = drift.psi(np.array(x), np.array(y), feature_type="categorical")
    assert result.statistic == pytest.approx(_psi_direct(ref.astype(float), cur.astype(float)))


@FAST
@given(sample, sample)
def test_numeric_psi_equals_the_direct_formula_on_reference_deciles(x, y):
    ordered = np.sort(x)
    ranks = [int(np.ceil(j * len(x) / 10)) for j in range(1, 10)]
    edges = np.unique([ordered[max(k - 1, 0)] for k in ranks])
    ref = np.bincount(np.searchsorted(edges, x, side="right"), minlength=edges.size + 1)
    cur = np.bincount(np.searchsorted(edges, y, side="right"), minlength=edges.size + 1)
    result = drift.psi(np.array(x), np.array(y))
    assert result.statistic == pytest.approx(_psi_direct(ref * 1.0, cur * 1.0), abs=1e-9)


# --- summaries against raw values -------------------------------------------------------------


@pytest.fixture(scope="module")
def large_pair():
    rng = np.random.default_rng(11)
    reference = rng.normal(size=200_000)
    current = rng.normal(0.15, 1.1, size=150_000)
    layout = NumericLayout.from_reference(reference)
    return (
        reference,
        current,
        NumericSummary.build(reference, layout),
        NumericSummary.build(current, layout),
    )


def test_binned_statistics_are_close_to_the_exact_ones_on_large_samples(large_pair):
    reference, current, ref_summary, cur_summary = large_pair
    exact_ks, binned_ks = drift.ks(reference, current), drift.ks(ref_summary, cur_summary)
    assert binned_ks.statistic == pytest.approx(exact_ks.statistic, abs=0.002)
    assert binned_ks.statistic <= exact_ks.statistic + 1e-12  # a lower bound of the supremum
    exact_w = drift.wasserstein(reference, current)
    binned_w = drift.wasserstein(ref_summary, cur_summary)
    assert binned_w.statistic == pytest.approx(exact_w.statistic, rel=0.01)
    assert binned_w.parameters["reference_std"] == pytest.approx(np.std(reference), rel=1e-9)
    assert binned_w.parameters["source"] == "summary"
    assert binned_w.reference_digest == ref_summary.digest()
    assert binned_w.current_digest == cur_summary.digest()


def test_binned_psi_equals_the_exact_psi(large_pair):
    reference, current, ref_summary, cur_summary = large_pair
    exact = drift.psi(reference, current)
    binned = drift.psi(ref_summary, cur_summary)
    assert binned.statistic == pytest.approx(exact.statistic, abs=1e-9)


def test_binned_wasserstein_is_exact_for_discrete_data():
    rng = np.random.default_rng(2)
    reference = rng.integers(0, 30, size=20_000).astype(float)
    current = rng.integers(3, 30, size=10_000).astype(float)
    layout = NumericLayout.from_reference(reference)
    assert layout.discrete
    exact = drift.wasserstein(reference, current)
    binned = drift.wasserstein(
        NumericSummary.build(reference, layout), NumericSummary.build(current, layout)
    )
    assert binned.parameters["distance"] == pytest.approx(exact.parameters["distance"], abs=1e-9)


@FAST
@given(categories, categories)
def test_categorical_summaries_give_the_exact_statistics(x, y):
    layout = CategoricalLayout.from_reference(np.array(x))
    ref_summary = CategoricalSummary.build(np.array(x), layout)
    cur_summary = CategoricalSummary.build(np.array(y), layout)
    exact = drift.jensen_shannon(np.array(x), np.array(y))
    assert drift.jensen_shannon(ref_summary, cur_summary).statistic == pytest.approx(
        exact.statistic, abs=1e-9
    )
    exact_chi = drift.chi_squared(np.array(x), np.array(y))
    binned_chi = drift.chi_squared(ref_summary, cur_summary)
    assert binned_chi.p_value == pytest.approx(exact_chi.p_value, abs=1e-9)


# --- method selection -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("feature_type", "n_reference", "n_unique", "expected"),
    [
        ("numeric", 1000, None, "ks"),
        ("integer", 1001, None, "wasserstein"),
        ("numeric", 50_000, 4, "jensenshannon"),
        ("numeric", 500, 3, "chisquare"),
        ("categorical", 999, None, "chisquare"),
        ("boolean", 5000, None, "jensenshannon"),
    ],
)
def test_method_follows_type_and_reference_size(feature_type, n_reference, n_unique, expected):
    assert choose_method(feature_type, n_reference, 10, n_unique=n_unique) == expected


def test_override_wins_but_must_fit_the_type():
    assert choose_method("numeric", 10, 10, override="psi") == "psi"
    with pytest.raises(ValueError, match="does not apply"):
        choose_method("categorical", 10, 10, override="wasserstein")
    with pytest.raises(ValueError, match="no drift method"):
        choose_method("text", 10, 10)


# --- tables -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tables():
    rng = np.random.default_rng(7)
    n = 5000

    def table(shift: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "age": rng.normal(40 + 10 * shift, 10, n),
                "income": rng.lognormal(10, 1, n),
                "plan": rng.choice(
                    ["basic", "plus", "pro"], n, p=[0.5 - shift / 2, 0.3, 0.2 + shift / 2]
                ),
                "note": ["free text"] * n,
            }
        )

    schema = [
        {"name": "age", "type": "numeric"},
        {"name": "income", "type": "numeric"},
        {"name": "plan", "type": "categorical"},
        {"name": "note", "type": "text"},
        {"name": "absent", "type": "numeric"},
    ]
    return table(0.0), table(0.5), schema


def test_detect_drift_flags_the_shifted_columns_and_explains_the_skipped(tables):
    reference, current, schema = tables
    report = detect_drift(reference, current, schema)
    assert report.results["age"].drifted and report.results["age"].method == "wasserstein"
    assert not report.results["income"].drifted
    assert report.results["plan"].drifted and report.results["plan"].method == "jensenshannon"
    assert set(report.skipped) == {"note", "absent"}
    assert report.share_drifted == pytest.approx(2 / 3)
    assert report.dataset_drifted
    json.dumps(report.to_dict(), allow_nan=False)


def test_detect_drift_on_summaries_agrees_with_raw_values(tables):
    reference, current, schema = tables
    layouts = {
        "age": NumericLayout.from_reference(reference["age"]),
        "income": NumericLayout.from_reference(reference["income"]),
        "plan": CategoricalLayout.from_reference(reference["plan"]),
    }
    ref = {name: layout_summary(reference[name], lay) for name, lay in layouts.items()}
    cur = {name: layout_summary(current[name], lay) for name, lay in layouts.items()}
    exact = detect_drift(reference, current, schema)
    approx = detect_drift(ref, cur, schema)
    mixed = detect_drift(ref, current, schema)
    for name in layouts:
        assert approx.results[name].drifted == exact.results[name].drifted
        assert approx.results[name].score == pytest.approx(exact.results[name].score, rel=0.05)
        assert mixed.results[name].statistic == approx.results[name].statistic
        assert approx.results[name].reference_digest == ref[name].digest()


def layout_summary(values, layout):
    if isinstance(layout, NumericLayout):
        return NumericSummary.build(values, layout)
    return CategoricalSummary.build(values, layout)


def test_overrides_choose_method_threshold_and_options(tables):
    reference, current, schema = tables
    overrides = {"age": "ks", "plan": {"method": "psi", "threshold": 0.5}}
    report = detect_drift(reference, current, schema, overrides)
    assert report.results["age"].method == "ks" and report.results["age"].p_value < 0.05
    assert report.results["plan"].method == "psi" and report.results["plan"].threshold == 0.5


def test_drift_result_round_trips_through_json_even_when_infinite():
    result = drift.chi_squared(np.array(["a", "a", "b"]), np.array(["a", "c", "c"]))
    assert np.isinf(result.statistic)
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert DriftResult.from_dict(data) == result
    assert data["engine_version"] == drift.ENGINE_VERSION


def test_fingerprints_name_the_raw_data_regardless_of_row_order():
    x = np.array([3.0, 1.0, 2.0])
    a = drift.column_drift(x, x, "numeric", fingerprint=True)
    b = drift.column_drift(x[::-1], x, "numeric", fingerprint=True)
    assert a.reference_digest == b.reference_digest is not None


def test_missing_values_are_left_out_and_an_empty_side_is_refused():
    result = drift.ks(np.array([1.0, np.nan, 2.0, np.inf]), np.array([1.0, 2.0]))
    assert result.parameters["n_reference"] == 2
    with pytest.raises(ValueError, match="values on both sides"):
        drift.column_drift(np.array([np.nan]), np.array([1.0]), "numeric")


def test_prediction_drift_uses_the_same_methods():
    rng = np.random.default_rng(0)
    scores = drift.prediction_drift(rng.uniform(size=3000), rng.uniform(0.2, 1, size=3000))
    assert scores.method == "wasserstein" and scores.drifted and scores.column == "prediction"
    labels = drift.prediction_drift(
        np.array(["yes", "no"] * 100), np.array(["yes"] * 200), prediction_type="categorical"
    )
    assert labels.method == "chisquare" and labels.drifted
