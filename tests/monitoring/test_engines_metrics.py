"""Performance and fairness metrics against scikit-learn and scipy on random data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn import metrics as skm

from monitoring.engines import metrics

FAST = settings(max_examples=80, deadline=None)

binary_rows = st.lists(
    st.tuples(st.integers(0, 1), st.integers(0, 1), st.floats(0, 1).map(lambda p: round(p, 2))),
    min_size=1,
    max_size=80,
)


def _columns(rows):
    return tuple(np.array(col) for col in zip(*rows, strict=True))


@FAST
@given(binary_rows)
def test_binary_label_metrics_equal_sklearn(rows):
    y, pred, _ = _columns(rows)
    assert metrics.accuracy(y, pred) == pytest.approx(skm.accuracy_score(y, pred), abs=1e-9)
    kw = {"zero_division": 0.0}
    assert metrics.precision(y, pred) == pytest.approx(skm.precision_score(y, pred, **kw))
    assert metrics.recall(y, pred) == pytest.approx(skm.recall_score(y, pred, **kw), abs=1e-9)
    assert metrics.f1(y, pred) == pytest.approx(skm.f1_score(y, pred, **kw), abs=1e-9)


@pytest.mark.filterwarnings("ignore:ks_2samp. Exact calculation unsuccessful")
@FAST
@given(binary_rows)
def test_score_metrics_equal_sklearn_and_scipy(rows):
    y, _, score = _columns(rows)
    assert metrics.log_loss(y, score) == pytest.approx(
        skm.log_loss(y, score, labels=[0, 1]), abs=1e-9
    )
    if len(set(y.tolist())) < 2:
        assert metrics.roc_auc(y, score) is None and metrics.ks_score(y, score) is None
        return
    auc = skm.roc_auc_score(y, score)
    assert metrics.roc_auc(y, score) == pytest.approx(auc, abs=1e-9)
    assert metrics.gini_norm(y, score) == pytest.approx(2 * auc - 1, abs=1e-9)
    expected_ks = stats.ks_2samp(score[y == 1], score[y == 0]).statistic
    assert metrics.ks_score(y, score) == pytest.approx(expected_ks, abs=1e-9)


def test_binary_metrics_threshold_scores_into_labels():
    y = np.array([1, 0, 1, 0, 1])
    score = np.array([0.9, 0.4, 0.6, 0.7, 0.2])
    result = metrics.binary_metrics(y, scores=score, threshold=0.5)
    assert result["accuracy"] == pytest.approx(skm.accuracy_score(y, score >= 0.5))
    assert result["roc_auc"] == pytest.approx(skm.roc_auc_score(y, score))
    assert set(result) >= {"precision", "recall", "f1", "gini_norm", "log_loss", "ks"}


multiclass_rows = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 10_000)), min_size=2, max_size=60
)


@FAST
@given(multiclass_rows)
def test_multiclass_metrics_equal_sklearn(rows):
    y, pred, seeds = _columns(rows)
    assert metrics.macro_f1(y, pred) == pytest.approx(
        skm.f1_score(y, pred, average="macro", zero_division=0.0), abs=1e-9
    )
    proba = np.random.default_rng(int(seeds[0])).dirichlet(np.ones(4), size=y.size)
    assert metrics.multiclass_log_loss(y, proba, labels=[0, 1, 2, 3]) == pytest.approx(
        skm.log_loss(y, proba, labels=[0, 1, 2, 3]), abs=1e-9
    )


@FAST
@given(multiclass_rows, st.booleans())
def test_multiclass_roc_auc_equals_sklearns_macro_one_vs_rest(rows, tied):
    y, _, seeds = _columns(rows)
    proba = np.random.default_rng(int(seeds[0])).dirichlet(np.ones(4), size=y.size)
    if tied:  # coarse scores: many ties within and across classes
        proba = np.round(proba, 1)
        proba[:, 3] = 1 - proba[:, :3].sum(axis=1)
        proba = np.clip(proba, 0, 1) / np.clip(proba, 0, 1).sum(axis=1, keepdims=True)
    columns = {str(k): proba[:, k] for k in range(4)}
    got = metrics.multiclass_roc_auc(y.astype(str), columns)
    present = np.unique(y)
    if present.size < 4:
        # sklearn refuses a class absent from the truth; ours leaves it out of the mean.
        expected = [skm.roc_auc_score(y == k, proba[:, k]) for k in present]
        if present.size < 2:
            assert got is None
            return
        assert got == pytest.approx(np.mean(expected), abs=1e-9)
        return
    assert got == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=[0, 1, 2, 3]),
        abs=1e-9,
    )
    result = metrics.multiclass_metrics(y.astype(str), y.astype(str), class_scores=columns)
    assert result["roc_auc"] == pytest.approx(got)


regression_rows = st.lists(
    st.tuples(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3)), min_size=1, max_size=60
)


@FAST
@given(regression_rows)
def test_regression_metrics_equal_sklearn(rows):
    y, pred = _columns(rows)
    assert metrics.mae(y, pred) == pytest.approx(skm.mean_absolute_error(y, pred), abs=1e-9)
    assert metrics.rmse(y, pred) == pytest.approx(skm.root_mean_squared_error(y, pred), abs=1e-9)
    assert metrics.mape(y, pred) == pytest.approx(
        skm.mean_absolute_percentage_error(y, pred), rel=1e-9
    )
    if y.size >= 2:
        assert metrics.r2(y, pred) == pytest.approx(skm.r2_score(y, pred), abs=1e-9)


@FAST
@given(
    st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1), st.sampled_from("xyz")), min_size=1)
)
def test_fairness_rates_equal_a_direct_groupby(rows):
    y, pred, group = _columns(rows)
    report = metrics.fairness(y, pred, group)
    frame = pd.DataFrame({"g": group, "sel": pred == 1, "ok": y == pred})
    direct = frame.groupby("g").agg(rate=("sel", "mean"), acc=("ok", "mean"))
    for rates in report.groups:
        assert rates.selection_rate == pytest.approx(direct.loc[rates.group, "rate"])
        assert rates.accuracy == pytest.approx(direct.loc[rates.group, "acc"])
    top, low = direct["rate"].max(), direct["rate"].min()
    assert report.demographic_parity_difference == pytest.approx(top - low)
    if top > 0:
        assert report.disparate_impact_ratio == pytest.approx(low / top)
    else:
        assert report.disparate_impact_ratio is None


def test_metrics_by_day_split_rows_on_utc_days():
    stamps = np.array(
        ["2026-01-01T10:00", "2026-01-01T23:59", "2026-01-02T00:00", "2026-01-03T12:00"],
        dtype="datetime64[s]",
    )
    y = np.array([1, 0, 1, 1])
    pred = np.array([1, 1, 1, 0])
    days = metrics.by_window(
        stamps, 86_400, lambda rows: {"acc": metrics.accuracy(y[rows], pred[rows])}
    )
    assert [d["acc"] for _, d in days] == [0.5, 1.0, 0.0]
    assert days[1][0] == np.datetime64("2026-01-02", "s").astype(np.int64)
