"""Performance from merged hourly counts (`steward_client.performance`, the engines'
`metrics_from_counts`) against scikit-learn on the same rows: hours counted apart and merged
give the metrics of all rows at once."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm
from steward_client.performance import (
    AUC_BINS,
    merge_all_performance,
    performance_counts,
    score_bins,
)

from monitoring.engines import metrics

FAST = settings(max_examples=60, deadline=None)
TOL = 1e-9


def _hours(rows: pd.DataFrame, cuts: list[int], task: str, **decision) -> dict:
    """The rows counted in pieces (as hours would be) and merged."""
    bounds = sorted({0, len(rows), *(c % (len(rows) + 1) for c in cuts)})
    parts = [rows.iloc[a:b] for a, b in itertools.pairwise(bounds)]
    return merge_all_performance([performance_counts(task, part, **decision) for part in parts])


classified = st.lists(
    st.tuples(st.sampled_from(["yes", "no"]), st.floats(0, 1).map(lambda p: round(p, 3))),
    min_size=1,
    max_size=120,
)


@FAST
@given(classified, st.lists(st.integers(0, 200), max_size=4), st.sampled_from([0.3, 0.5, 0.72]))
def test_binary_counts_give_sklearns_label_metrics_and_exact_log_loss(rows, cuts, threshold):
    truth = np.array([t for t, _ in rows])
    scores = np.array([s for _, s in rows])
    frame = pd.DataFrame({"label": truth, "prediction_label": None, "prediction_score": scores})
    counts = _hours(frame, cuts, "binary", positive="yes", threshold=threshold)
    got = metrics.metrics_from_counts("binary", counts, positive="yes")
    y, predicted = truth == "yes", scores >= threshold
    kw = {"zero_division": 0.0}
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, predicted), abs=TOL)
    assert got["precision"] == pytest.approx(skm.precision_score(y, predicted, **kw), abs=TOL)
    assert got["recall"] == pytest.approx(skm.recall_score(y, predicted, **kw), abs=TOL)
    assert got["f1"] == pytest.approx(skm.f1_score(y, predicted, **kw), abs=TOL)
    assert got["log_loss"] == pytest.approx(skm.log_loss(y, scores, labels=[0, 1]), abs=TOL)


@FAST
@given(classified, st.lists(st.integers(0, 200), max_size=4))
def test_binned_roc_auc_is_within_its_stated_bound_of_sklearn(rows, cuts):
    truth = np.array([t == "yes" for t, _ in rows])
    scores = np.array([s for _, s in rows])
    frame = pd.DataFrame({"label": np.where(truth, "yes", "no"), "prediction_score": scores})
    counts = _hours(frame, cuts, "binary", positive="yes")
    got = metrics.metrics_from_counts("binary", counts, positive="yes")
    if truth.all() or not truth.any():
        assert got["roc_auc"] is None and got["ks"] is None
        return
    # Pairs of both classes in one bin count one half: the error is at most half their share.
    pos, neg = np.asarray(counts["scores"]["positive"]), np.asarray(counts["scores"]["negative"])
    bound = 0.5 * float(np.sum(pos * neg)) / (pos.sum() * neg.sum())
    assert abs(got["roc_auc"] - skm.roc_auc_score(truth, scores)) <= bound + TOL
    assert got["gini_norm"] == pytest.approx(2 * got["roc_auc"] - 1, abs=TOL)
    from scipy import stats

    exact_ks = stats.ks_2samp(scores[truth], scores[~truth]).statistic
    assert got["ks"] <= exact_ks + TOL  # a sup over fewer points


def test_binned_auc_equals_sklearn_when_scores_sit_in_distinct_bins():
    rng = np.random.default_rng(3)
    scores = (rng.permutation(AUC_BINS)[:150] + 0.5) / AUC_BINS
    truth = rng.random(150) < scores
    frame = pd.DataFrame({"label": np.where(truth, "1", "0"), "prediction_score": scores})
    assert len(set(score_bins(scores))) == 150
    got = metrics.metrics_from_counts("binary", performance_counts("binary", frame), positive="1")
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(truth, scores), abs=TOL)


def test_binary_counts_from_sent_labels_when_some_row_has_no_score():
    frame = pd.DataFrame(
        {
            "label": ["1", "0", "1", "0"],
            "prediction_label": ["1", "1", "0", "0"],
            "prediction_score": [0.9, None, 0.2, 0.1],
        }
    )
    counts = performance_counts("binary", frame)
    assert counts["confusion"] == {"0": {"0": 1, "1": 1}, "1": {"0": 1, "1": 1}}
    assert "scores" not in counts
    got = metrics.metrics_from_counts("binary", counts, positive="1")
    assert got["accuracy"] == 0.5 and "roc_auc" not in got


def test_a_binary_hour_that_cannot_be_decided_leaves_the_day_without_metrics():
    undecided = pd.DataFrame(
        {"label": ["1", "0"], "prediction_label": ["1", None], "prediction_score": [0.9, None]}
    )
    decided = pd.DataFrame({"label": ["1"], "prediction_label": ["1"]})
    counts = performance_counts("binary", undecided)
    assert counts == {"labelled": 2}  # as a raw day with such rows has no figures
    merged = merge_all_performance([performance_counts("binary", decided), counts])
    assert merged == {"labelled": 3}
    assert metrics.metrics_from_counts("binary", merged, positive="1") == {}


multiclass_rows = st.lists(
    st.tuples(st.sampled_from("abcd"), st.sampled_from(["a", "b", "c", "e", None])),
    min_size=1,
    max_size=120,
)


@FAST
@given(multiclass_rows, st.lists(st.integers(0, 200), max_size=4))
def test_multiclass_counts_give_sklearns_accuracy_and_macro_f1(rows, cuts):
    frame = pd.DataFrame(rows, columns=["label", "prediction_label"])
    counts = _hours(frame, cuts, "multiclass")
    got = metrics.metrics_from_counts("multiclass", counts, positive="1")
    assert counts["labelled"] == len(frame)
    decided = frame.dropna(subset=["prediction_label"])
    if decided.empty:
        assert got == {}
        return
    y, pred = decided["label"].to_numpy(), decided["prediction_label"].to_numpy()
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=TOL)
    assert got["macro_f1"] == pytest.approx(
        skm.f1_score(y, pred, average="macro", zero_division=0.0), abs=TOL
    )


regression_rows = st.lists(
    st.tuples(
        st.floats(-1e4, 1e4, allow_nan=False).map(lambda v: round(v, 3)),
        st.one_of(st.none(), st.floats(-1e4, 1e4, allow_nan=False).map(lambda v: round(v, 3))),
    ),
    min_size=1,
    max_size=120,
)


@FAST
@given(regression_rows, st.lists(st.integers(0, 200), max_size=4))
def test_regression_error_sums_give_sklearns_mae_rmse_r2_and_mape(rows, cuts):
    frame = pd.DataFrame(rows, columns=["value", "prediction_score"])
    counts = _hours(frame, cuts, "regression")
    got = metrics.metrics_from_counts("regression", counts, positive="1")
    scored = frame.dropna()
    if scored.empty:
        assert got == {}
        return
    y, pred = scored["value"].to_numpy(float), scored["prediction_score"].to_numpy(float)
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(y, pred), rel=TOL, abs=TOL)
    assert got["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(y, pred)), rel=TOL, abs=TOL)
    assert got["mape"] == pytest.approx(
        skm.mean_absolute_percentage_error(y, pred), rel=TOL, abs=TOL
    )
    assert got["r2"] == pytest.approx(metrics.r2(y, pred), rel=1e-6, abs=1e-6)
    if np.ptp(y) > 1:  # sklearn's R² of a constant truth follows another convention
        assert got["r2"] == pytest.approx(skm.r2_score(y, pred), rel=1e-6, abs=1e-6)


def test_a_day_whose_hours_do_not_all_carry_scores_has_no_score_metrics():
    scored = pd.DataFrame({"label": ["1", "0"], "prediction_score": [0.8, 0.3]})
    labelled_only = pd.DataFrame({"label": ["1", "0"], "prediction_label": ["0", "0"]})
    merged = merge_all_performance(
        [performance_counts("binary", scored), performance_counts("binary", labelled_only)]
    )
    assert "scores" not in merged and merged["labelled"] == 4
    got = metrics.metrics_from_counts("binary", merged, positive="1")
    assert got["accuracy"] == 0.75 and "roc_auc" not in got
    # Hours without labelled rows take nothing away.
    nothing = performance_counts("binary", scored.iloc[0:0])
    assert merge_all_performance([performance_counts("binary", scored), nothing])["scores"]


def _class_score_frame(seed: int, n: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Labelled multiclass rows carrying every class's probability; the first 40 rows leave
    class "c" out of their objects (it scores 0 there), as an hour that never named it."""
    rng = np.random.default_rng(seed)
    classes = np.array(["a", "b", "c"])
    proba = np.round(rng.dirichlet([1.0, 1.0, 1.0], n), 3)
    proba[:40, 2] = 0.0
    proba = proba / proba.sum(axis=1, keepdims=True)
    truth = classes[(rng.random(n)[:, None] > np.cumsum(proba, axis=1)).sum(axis=1).clip(0, 2)]
    truth[:3] = classes  # every class occurs, so sklearn's macro one-vs-rest is defined
    rows = [
        {k: float(p) for k, p in zip(classes, row, strict=True) if not (i < 40 and k == "c")}
        for i, row in enumerate(proba)
    ]
    frame = pd.DataFrame(
        {
            "label": truth,
            "prediction_label": classes[proba.argmax(axis=1)],
            "prediction_score": proba.max(axis=1),
            "prediction_scores": rows,
        }
    )
    return frame, truth, proba


@pytest.mark.parametrize("seed", range(5))
def test_multiclass_class_score_bins_give_sklearns_macro_ovr_auc_within_the_bin_bound(seed):
    frame, truth, proba = _class_score_frame(seed, 300)
    counts = _hours(frame, [40, 90, 200], "multiclass")
    got = metrics.metrics_from_counts("multiclass", counts, positive="1")
    expected = skm.roc_auc_score(truth, proba, multi_class="ovr", average="macro")
    # Per class, pairs of both kinds in one bin count one half: the macro error is at most
    # the mean of the classes' half shares of such pairs.
    bounds = []
    for k in ("a", "b", "c"):
        pos = np.asarray(counts["class_scores"][k]["positive"])
        neg = np.asarray(counts["class_scores"][k]["negative"])
        assert pos.sum() == np.sum(truth == k) and pos.sum() + neg.sum() == len(frame)
        bounds.append(0.5 * float(np.sum(pos * neg)) / (pos.sum() * neg.sum()))
    assert abs(got["roc_auc"] - expected) <= np.mean(bounds) + TOL
    assert counts == _hours(frame, [], "multiclass") | {"labelled": len(frame)}


def test_multiclass_class_score_bins_equal_sklearn_when_scores_sit_in_distinct_bins():
    rng = np.random.default_rng(7)
    n = 150
    first = (rng.permutation(AUC_BINS)[:n] + 0.5) / AUC_BINS
    proba = np.stack([first, 1 - first], axis=1)
    truth = np.where(rng.random(n) < first, "x", "y")
    frame = pd.DataFrame(
        {
            "label": truth,
            "prediction_label": np.where(first >= 0.5, "x", "y"),
            "prediction_scores": [{"x": a, "y": b} for a, b in proba],
        }
    )
    got = metrics.metrics_from_counts(
        "multiclass", performance_counts("multiclass", frame), positive="1"
    )
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(truth == "x", first), abs=TOL)


def test_a_multiclass_hour_without_class_scores_leaves_the_day_without_roc_auc():
    frame, _, _ = _class_score_frame(0, 100)
    plain = frame.drop(columns="prediction_scores")
    merged = merge_all_performance(
        [performance_counts("multiclass", frame), performance_counts("multiclass", plain)]
    )
    assert "class_scores" not in merged
    assert "roc_auc" not in metrics.metrics_from_counts("multiclass", merged, positive="1")


def test_posted_hours_may_carry_the_class_score_bins_a_client_counts():
    from monitoring.rollups.posted_checks import performance_problems

    frame, _, _ = _class_score_frame(1, 120)
    counts = performance_counts("multiclass", frame)
    assert performance_problems(counts, "multiclass") == []
    assert performance_problems(counts, "binary")[0][0] == ".class_scores"
    counts["class_scores"]["a"]["positive"][0] += 1
    assert performance_problems(counts, "multiclass") == [
        (".class_scores.a", "its counts must add up to the confusion's counts")
    ]


def test_summary_mode_counts_the_class_score_bins_of_a_scores_column():
    from steward_client.summary_mode import Outcomes, hour_performance

    frame, _, _ = _class_score_frame(2, 120)
    hour = pd.DataFrame(
        {
            "label": frame["label"],
            "prediction": frame["prediction_label"],
            "score": frame["prediction_score"],
            "scores": frame["prediction_scores"],
            "status": "ok",
        }
    )
    counts = hour_performance(hour, Outcomes(task="multiclass"))
    assert counts == performance_counts("multiclass", frame)
    assert "class_scores" in counts
