"""Multivariate drift: MMD against direct sums and sklearn's kernel, DeLong against sklearn's
AUC and the structural components, and both tests on data with and without drift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score
from sklearn.metrics.pairwise import rbf_kernel as sklearn_rbf

from monitoring.engines import multivariate as mv

FAST = settings(max_examples=40, deadline=None)


def _naive_mmd2(x: np.ndarray, y: np.ndarray, width: float) -> float:
    def k(a, b):
        return np.exp(-np.sum((a - b) ** 2) / (2 * width**2))

    n, m = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(a, b) for a in x for b in y) / (n * m)
    return xx + yy - 2 * xy


@FAST
@given(st.integers(2, 12), st.integers(2, 12), st.integers(1, 3), st.integers(0, 1000))
def test_mmd_matches_the_direct_sums_and_sklearns_kernel(n, m, d, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(n, d)), rng.normal(0.5, 1, size=(m, d))
    pooled = np.vstack([x, y])
    width = mv.median_bandwidth(pooled)
    kernel = mv.rbf_kernel(pooled, pooled, width)
    np.testing.assert_allclose(kernel, sklearn_rbf(pooled, gamma=1 / (2 * width**2)), atol=1e-12)
    assert mv.mmd2_unbiased(kernel, n) == pytest.approx(_naive_mmd2(x, y, width), abs=1e-9)
    members = np.zeros((n + m, 3))
    perms = [rng.permutation(n + m) for _ in range(3)]
    for b, perm in enumerate(perms):
        members[perm[:n], b] = 1.0
    batched = mv._permuted_mmd2(kernel, n, members)
    for b, perm in enumerate(perms):
        order = np.concatenate([perm[:n], perm[n:]])
        direct = mv.mmd2_unbiased(kernel[np.ix_(order, order)], n)
        assert batched[b] == pytest.approx(direct, abs=1e-9)


def test_mmd_sees_a_change_in_correlation_that_no_single_column_shows():
    rng = np.random.default_rng(1)
    independent = rng.normal(size=(400, 2))
    z = rng.normal(size=400)
    correlated = np.column_stack([z, 0.95 * z + np.sqrt(1 - 0.95**2) * rng.normal(size=400)])
    drifted = mv.mmd_test(independent, correlated, n_permutations=100, seed=3)
    same = mv.mmd_test(independent, rng.normal(size=(400, 2)), n_permutations=100, seed=3)
    assert drifted.drifted and drifted.p_value < 0.05
    assert not same.drifted
    assert drifted.parameters["bandwidth"] > 0 and drifted.method == "mmd"


@FAST
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 6)), min_size=4, max_size=60))
def test_delong_auc_equals_sklearn_and_its_variance_the_structural_components(rows):
    labels = np.array([r[0] for r in rows])
    scores = np.array([r[1] for r in rows], dtype=float)
    if labels.sum() < 2 or (~labels).sum() < 2:
        return
    auc, variance = mv.delong_auc(labels, scores)
    assert auc == pytest.approx(roc_auc_score(labels, scores), abs=1e-9)
    pos, neg = scores[labels], scores[~labels]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    expected = np.var(v10, ddof=1) / pos.size + np.var(v01, ddof=1) / neg.size
    assert variance == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("model", ["hist_gradient_boosting", "logistic"])
def test_domain_classifier_flags_shift_and_not_sameness(model):
    rng = np.random.default_rng(4)
    reference = rng.normal(size=(800, 3))
    shifted = rng.normal(size=(800, 3)) + np.array([0.6, 0.0, 0.0])
    same = rng.normal(size=(800, 3))
    drifted = mv.domain_classifier_test(reference, shifted, model=model, n_splits=3)
    calm = mv.domain_classifier_test(reference, same, model=model, n_splits=3)
    assert drifted.drifted and drifted.parameters["ci_low"] > 0.55
    assert not calm.drifted and calm.statistic < 0.6
    assert drifted.parameters["ci_low"] <= drifted.statistic <= drifted.parameters["ci_high"]


def test_feature_matrix_codes_categories_over_both_sides():
    ref = pd.DataFrame({"x": [1.0, 2.0], "c": ["a", None]})
    cur = pd.DataFrame({"x": [3.0, np.nan], "c": ["b", "a"]})
    ref_m, cur_m = mv.feature_matrix(ref, cur, ["x", "c"], categorical=["c"])
    assert ref_m[0, 1] == cur_m[1, 1]  # "a" has one code on both sides
    assert np.isnan(ref_m[1, 1]) and np.isnan(cur_m[1, 0])


def test_logistic_domain_classifier_takes_complete_rows_when_values_are_missing():
    rng = np.random.default_rng(5)
    ref, cur = rng.normal(size=(300, 2)), rng.normal(size=(300, 2))
    holed = cur.copy()
    holed[::10, 0] = np.nan  # missing values, as production inputs have (it raised before)
    complete = holed[np.isfinite(holed).all(axis=1)]
    with_holes = mv.domain_classifier_test(ref, holed, model="logistic")
    assert with_holes == mv.domain_classifier_test(ref, complete, model="logistic")
    assert not with_holes.drifted
