"""Multivariate drift: maximum mean discrepancy with a permutation test, and a domain classifier.

Both look at the rows as a whole, so they catch a change in how features move together that
no single column shows. Both are seeded and deterministic.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import cdist, pdist
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from monitoring.engines.drift import DriftResult

MMD_THRESHOLD = 0.05
CLASSIFIER_THRESHOLD = 0.55


def _matrix(values: Any) -> np.ndarray:
    matrix = np.asarray(values, dtype=np.float64)
    return matrix.reshape(-1, 1) if matrix.ndim == 1 else matrix


def _subsample(matrix: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    if matrix.shape[0] <= limit:
        return matrix
    return matrix[np.sort(rng.choice(matrix.shape[0], size=limit, replace=False))]


def feature_matrix(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: Sequence[str],
    categorical: Sequence[str] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Two float matrices over `columns`; `categorical` columns become integer codes over the
    union of both sides' categories (missing stays NaN)."""
    ref_parts, cur_parts = [], []
    for name in columns:
        if name in categorical:
            both = pd.concat([reference[name], current[name]], ignore_index=True)
            codes, _ = pd.factorize(both.astype(object), use_na_sentinel=True)
            codes = np.where(codes < 0, np.nan, codes.astype(np.float64))
            ref_parts.append(codes[: len(reference)])
            cur_parts.append(codes[len(reference) :])
        else:
            ref_parts.append(pd.to_numeric(reference[name], errors="coerce").to_numpy(np.float64))
            cur_parts.append(pd.to_numeric(current[name], errors="coerce").to_numpy(np.float64))
    return np.column_stack(ref_parts), np.column_stack(cur_parts)


def matrix_digest(matrix: Any, columns: Sequence[str]) -> str:
    """sha256 of what a multivariate test compared: the column names as JSON, a newline, then
    the matrix as little-endian float64, row by row (NaN where a value was missing)."""
    digest = hashlib.sha256(json.dumps(list(columns)).encode() + b"\n")
    digest.update(np.ascontiguousarray(_matrix(matrix), dtype="<f8").tobytes())
    return digest.hexdigest()


# --- maximum mean discrepancy -----------------------------------------------------------------


def median_bandwidth(pooled: np.ndarray) -> float:
    """The median heuristic: the median Euclidean distance between distinct pairs of rows
    (1.0 when that median is 0, so that identical rows do not divide by zero)."""
    distances = pdist(pooled)
    median = float(np.median(distances)) if distances.size else 0.0
    return median if median > 0 else 1.0


def rbf_kernel(x: np.ndarray, y: np.ndarray, bandwidth: float) -> np.ndarray:
    """k(a, b) = exp(-|a - b|^2 / (2 bandwidth^2)), equal to sklearn's rbf_kernel with
    gamma = 1 / (2 bandwidth^2)."""
    distances: np.ndarray = cdist(x, y, "sqeuclidean")
    return np.exp(-distances / (2.0 * bandwidth * bandwidth))


def mmd2_unbiased(kernel: np.ndarray, n: int) -> float:
    """Gretton et al.'s unbiased estimate of MMD^2 from the pooled kernel matrix whose first
    `n` rows are the reference: mean k(x, x') + mean k(y, y') - 2 mean k(x, y), the first two
    over distinct pairs."""
    m = kernel.shape[0] - n
    xx = kernel[:n, :n]
    yy = kernel[n:, n:]
    xy = kernel[:n, n:]
    within_x = (xx.sum() - np.trace(xx)) / (n * (n - 1))
    within_y = (yy.sum() - np.trace(yy)) / (m * (m - 1))
    return float(within_x + within_y - 2.0 * xy.sum() / (n * m))


def _permuted_mmd2(kernel: np.ndarray, n: int, members: np.ndarray) -> np.ndarray:
    """MMD^2 for each column of `members` (N x B, 1.0 where a row plays the reference), all
    permutations at once with one matrix product."""
    total_n = kernel.shape[0]
    m = total_n - n
    diagonal = np.diag(kernel)
    sum_xx: np.ndarray = np.einsum("ib,ib->b", members, kernel @ members)
    sum_x_all = members.T @ kernel.sum(axis=1)
    sum_xy = sum_x_all - sum_xx
    sum_yy = kernel.sum() - 2 * sum_xy - sum_xx
    trace_x = members.T @ diagonal
    trace_y = diagonal.sum() - trace_x
    mmd2: np.ndarray = (
        (sum_xx - trace_x) / (n * (n - 1))
        + (sum_yy - trace_y) / (m * (m - 1))
        - 2 * sum_xy / (n * m)
    )
    return mmd2


def mmd_test(
    reference: Any,
    current: Any,
    *,
    n_permutations: int = 200,
    max_samples: int = 1000,
    bandwidth: float | None = None,
    standardize: bool = True,
    threshold: float = MMD_THRESHOLD,
    seed: int = 0,
) -> DriftResult:
    """MMD^2 (unbiased) with an RBF kernel and a permutation test.

    Rows with a missing value are dropped; each side is subsampled (seeded) to `max_samples`
    rows, since the kernel matrix is quadratic; columns are standardised with the reference's
    mean and standard deviation; the bandwidth is the median heuristic on the pooled rows. The
    p-value is (1 + #{permuted >= observed}) / (1 + n_permutations); drift when p < threshold.
    """
    rng = np.random.default_rng(seed)
    ref, cur = _matrix(reference), _matrix(current)
    ref = _subsample(ref[np.isfinite(ref).all(axis=1)], max_samples, rng)
    cur = _subsample(cur[np.isfinite(cur).all(axis=1)], max_samples, rng)
    n, m = ref.shape[0], cur.shape[0]
    if n < 2 or m < 2:
        raise ValueError("MMD needs at least two complete rows on each side")
    if standardize:
        scale = ref.std(axis=0)
        scale[scale == 0] = 1.0
        center = ref.mean(axis=0)
        ref, cur = (ref - center) / scale, (cur - center) / scale
    pooled = np.vstack((ref, cur))
    width = median_bandwidth(pooled) if bandwidth is None else float(bandwidth)
    kernel = rbf_kernel(pooled, pooled, width)
    observed = mmd2_unbiased(kernel, n)
    members = np.zeros((n + m, n_permutations))
    for b in range(n_permutations):
        members[rng.permutation(n + m)[:n], b] = 1.0
    permuted = _permuted_mmd2(kernel, n, members)
    p_value = (1 + int(np.count_nonzero(permuted >= observed))) / (1 + n_permutations)
    return DriftResult(
        method="mmd",
        statistic=observed,
        p_value=p_value,
        threshold=threshold,
        drifted=p_value < threshold,
        parameters={
            "kernel": "rbf",
            "bandwidth": width,
            "n_permutations": n_permutations,
            "standardize": standardize,
            "seed": seed,
            "n_reference": n,
            "n_current": m,
        },
    )


# --- domain classifier ------------------------------------------------------------------------


def delong_auc(labels: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """ROC AUC and its DeLong variance, by midranks (Sun and Xu's fast algorithm). The AUC is
    the Mann-Whitney U of the positive class over n_pos * n_neg, equal to sklearn's
    roc_auc_score."""
    labels = np.asarray(labels).astype(bool)
    positive, negative = scores[labels], scores[~labels]
    n_pos, n_neg = positive.size, negative.size
    if n_pos < 2 or n_neg < 2:
        raise ValueError("DeLong needs at least two scores of each class")
    pooled = stats.rankdata(np.concatenate((positive, negative)))
    ranks_pos = stats.rankdata(positive)
    ranks_neg = stats.rankdata(negative)
    auc = (pooled[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    v_pos = (pooled[:n_pos] - ranks_pos) / n_neg
    v_neg = 1.0 - (pooled[n_pos:] - ranks_neg) / n_pos
    variance = np.var(v_pos, ddof=1) / n_pos + np.var(v_neg, ddof=1) / n_neg
    return float(auc), float(variance)


def _classifier(model: str, seed: int) -> Any:
    if model == "hist_gradient_boosting":
        return HistGradientBoostingClassifier(max_iter=100, random_state=seed)
    if model == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    raise ValueError(f"unknown domain classifier {model!r}")


def domain_classifier_test(
    reference: Any,
    current: Any,
    *,
    model: str = "hist_gradient_boosting",
    n_splits: int = 5,
    max_samples: int = 20_000,
    confidence: float = 0.95,
    threshold: float = CLASSIFIER_THRESHOLD,
    seed: int = 0,
) -> DriftResult:
    """Can a classifier tell current rows from reference rows?

    Each side is subsampled (seeded) to `max_samples` rows and labelled (reference 0,
    current 1); out-of-fold probabilities come from stratified `n_splits`-fold
    cross-validation; the statistic is their ROC AUC with a DeLong normal confidence interval
    at `confidence`. Drift when the interval's lower bound exceeds `threshold` (0.55: a
    classifier reliably better than chance). Logistic regression takes the complete rows only
    (as MMD does); gradient boosting accepts missing values.
    """
    rng = np.random.default_rng(seed)
    ref, cur = _matrix(reference), _matrix(current)
    if model == "logistic":
        # It refuses NaN: one missing value in the window would fail the whole monitoring job.
        ref, cur = ref[np.isfinite(ref).all(axis=1)], cur[np.isfinite(cur).all(axis=1)]
        if min(ref.shape[0], cur.shape[0]) < n_splits:
            raise ValueError("the domain classifier needs complete rows on each side")
    ref = _subsample(ref, max_samples, rng)
    cur = _subsample(cur, max_samples, rng)
    rows = np.vstack((ref, cur))
    labels = np.concatenate((np.zeros(ref.shape[0]), np.ones(cur.shape[0])))
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    scores = cross_val_predict(
        _classifier(model, seed), rows, labels, cv=folds, method="predict_proba"
    )[:, 1]
    auc, variance = delong_auc(labels, scores)
    half_width = stats.norm.ppf(0.5 + confidence / 2) * np.sqrt(variance)
    low, high = max(0.0, auc - half_width), min(1.0, auc + half_width)
    return DriftResult(
        method="domain_classifier",
        statistic=auc,
        p_value=None,
        threshold=threshold,
        drifted=bool(low > threshold),
        parameters={
            "model": model,
            "n_splits": n_splits,
            "confidence": confidence,
            "ci_low": low,
            "ci_high": high,
            "auc_std": float(np.sqrt(variance)),
            "seed": seed,
            "n_reference": int(ref.shape[0]),
            "n_current": int(cur.shape[0]),
        },
    )
