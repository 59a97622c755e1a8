"""Exact univariate drift statistics from raw values: the arithmetic behind `drift.py`.

Numeric statistics take the finite values of each side already sorted (sorting once is most
of the cost, and a sorted reference can be reused for every window). Category statistics take
counts aligned over the union of the categories seen on either side.

Definitions (each checked against scipy in tests/monitoring/test_engines_drift.py):
- `ks_sorted`: scipy.stats.ks_2samp, two-sided, method="auto".
- `wasserstein_sorted`: scipy.stats.wasserstein_distance (the first Wasserstein distance).
- `chi_squared_counts`: scipy.stats.chisquare of the current counts against the reference
  proportions scaled to the current total (Evidently's definition), or
  scipy.stats.chi2_contingency of the 2 x k table without continuity correction.
- `jensen_shannon_counts`: scipy.spatial.distance.jensenshannon of the two proportion vectors.
- `psi_counts`: sum over bins of (c - r) * ln(c / r), proportions of 0 replaced by epsilon.

`NumericColumn` and `CategoricalColumn` hold a raw column prepared once (sorted finite values,
or label counts), so a reference can be compared with many windows without re-sorting.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats
from scipy.spatial import distance
from steward_client.summaries import (
    as_float_array,
    empirical_quantiles,
    finite_part,
    sha256_hex,
    value_counts,
)

# scipy.stats.ks_2samp computes the exact distribution up to this size, the asymptotic above.
KS_EXACT_MAX_N = 10_000
PSI_EPSILON = 1e-4


# --- Kolmogorov-Smirnov -----------------------------------------------------------------------


def ks_statistic_sorted(us: np.ndarray, vs: np.ndarray) -> float:
    """sup |F - G| of the two empirical CDFs, evaluated at every data point as scipy does."""
    n, m = us.size, vs.size
    last_u = np.flatnonzero(np.append(us[1:] != us[:-1], True))
    last_v = np.flatnonzero(np.append(vs[1:] != vs[:-1], True))
    at_u = (last_u + 1) / n - np.searchsorted(vs, us[last_u], side="right") / m
    at_v = np.searchsorted(us, vs[last_v], side="right") / n - (last_v + 1) / m
    return float(max(np.abs(at_u).max(), np.abs(at_v).max()))


def ks_asymptotic_pvalue(d: float, n: int, m: int) -> float:
    """scipy's asymptotic two-sided p-value: kstwo.sf(d, round(n*m / (n + m)))."""
    big, small = sorted([float(n), float(m)], reverse=True)
    en = big * small / (big + small)
    return float(np.clip(stats.kstwo.sf(d, np.round(en)), 0, 1))


def ks_sorted(us: np.ndarray, vs: np.ndarray) -> tuple[float, float]:
    """(statistic, p-value), equal to scipy.stats.ks_2samp(us, vs). Small samples use scipy
    itself (exact distribution); large ones the same asymptotic formula on a faster D."""
    if max(us.size, vs.size) <= KS_EXACT_MAX_N:
        with warnings.catch_warnings():  # "exact calculation unsuccessful": scipy falls back
            warnings.simplefilter("ignore", RuntimeWarning)
            result = stats.ks_2samp(us, vs)
        return float(result.statistic), float(result.pvalue)
    d = ks_statistic_sorted(us, vs)
    return d, ks_asymptotic_pvalue(d, us.size, vs.size)


# --- Wasserstein ------------------------------------------------------------------------------


def wasserstein_sorted(us: np.ndarray, vs: np.ndarray) -> float:
    """The first Wasserstein distance, equal to scipy.stats.wasserstein_distance(us, vs), in
    O(n + m) after the sorts and without merging the samples.

    W1 is also the integral over t in [0, 1) of |Q_u(t) - Q_v(t)|, the gap between the two
    quantile functions, which are steps at t = i/n and t = j/m. Counting t in units of
    1/(n m), the step of u at i*m holds u[i] against v[floor(i m / n)] until the next step of
    either sample; likewise for v. Widths are integers, so only the final sum is rounded.
    """
    n, m = us.size, vs.size
    u_start = np.arange(n, dtype=np.int64) * m
    v_at_u = u_start // n
    next_v = (v_at_u + (v_at_u * n != u_start)) * n
    u_width = np.minimum(u_start + m, next_v) - u_start
    v_start = np.arange(m, dtype=np.int64) * n
    u_at_v = v_start // m
    v_width = np.minimum(v_start + n, (u_at_v + 1) * m) - v_start
    area = np.dot(u_width, np.abs(us - vs[v_at_u])) + np.dot(v_width, np.abs(us[u_at_v] - vs))
    return float(area) / (float(n) * float(m))


def wasserstein_normed(distance_value: float, reference_std: float) -> float:
    """Evidently's normalisation: distance / max(std of the reference (ddof=0), 0.001)."""
    return distance_value / max(reference_std, 0.001)


# --- counts over categories -------------------------------------------------------------------


def distinct_counts(sorted_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and how often each occurs, from sorted values."""
    if sorted_values.size == 0:
        return sorted_values, np.empty(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], sorted_values[1:] != sorted_values[:-1])))
    return sorted_values[starts], np.diff(np.append(starts, sorted_values.size))


def align_counts(
    ref_keys: np.ndarray, ref_counts: np.ndarray, cur_keys: np.ndarray, cur_counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keys of the union (sorted) and both count vectors over it (zeros where absent)."""
    keys = np.union1d(ref_keys, cur_keys)
    ref = np.zeros(keys.size, dtype=np.int64)
    cur = np.zeros(keys.size, dtype=np.int64)
    ref[np.searchsorted(keys, ref_keys)] = ref_counts
    cur[np.searchsorted(keys, cur_keys)] = cur_counts
    return keys, ref, cur


def chi_squared_counts(
    ref: np.ndarray, cur: np.ndarray, *, mode: str = "goodness_of_fit"
) -> tuple[float, float, int]:
    """(statistic, p-value, degrees of freedom) over categories present on either side.

    goodness_of_fit: scipy.stats.chisquare(f_obs=cur, f_exp=ref * n_cur / n_ref), Evidently's
    test; a category absent from the reference gives an infinite statistic and p = 0.
    homogeneity: scipy.stats.chi2_contingency([ref, cur], correction=False).
    With a single category in all (where scipy answers NaN) the result is (0, 1, 0).
    """
    present = (ref + cur) > 0
    ref, cur = ref[present], cur[present]
    if mode not in ("goodness_of_fit", "homogeneity"):
        raise ValueError(f"unknown chi-squared mode {mode!r}")
    if ref.size < 2:
        return 0.0, 1.0, 0  # one category on both sides: identical distributions
    if mode == "homogeneity":
        res = stats.chi2_contingency(np.vstack([ref, cur]), correction=False)
        return float(res.statistic), float(res.pvalue), int(res.dof)
    expected = ref * (cur.sum() / ref.sum())
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = stats.chisquare(cur, expected)
    return float(res.statistic), float(res.pvalue), int(ref.size - 1)


def jensen_shannon_counts(ref: np.ndarray, cur: np.ndarray, *, base: float | None = None) -> float:
    """scipy.spatial.distance.jensenshannon of the proportions (natural log when base is None,
    so the distance lies in [0, sqrt(ln 2)]; base 2 gives [0, 1])."""
    return float(distance.jensenshannon(ref / ref.sum(), cur / cur.sum(), base=base))


def psi_counts(ref: np.ndarray, cur: np.ndarray, *, epsilon: float = PSI_EPSILON) -> float:
    """Population stability index: sum of (c - r) * ln(c / r) over bins, where r and c are the
    reference and current proportions and a proportion of exactly 0 is replaced by `epsilon`
    (no renormalisation), so an empty bin adds a large but finite term."""
    r = ref / ref.sum()
    c = cur / cur.sum()
    r = np.where(r == 0, epsilon, r)
    c = np.where(c == 0, epsilon, c)
    return float(np.sum((c - r) * np.log(c / r)))


# --- binning of raw numeric values ------------------------------------------------------------


def psi_edges(us: np.ndarray, n_bins: int) -> np.ndarray:
    """Interior PSI bin edges: the reference's inverted-CDF quantiles at j / n_bins for
    j = 1..n_bins-1, made unique. Bins are [e_j, e_j+1) with unbounded outer bins."""
    return np.unique(empirical_quantiles(us, np.arange(1, n_bins), n_bins))


def psi_bin_counts(us: np.ndarray, vs: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts of both samples on the reference's quantile bins (see `psi_edges`)."""
    edges = psi_edges(us, n_bins)
    ref = np.diff(np.searchsorted(us, edges, side="left"), prepend=0, append=us.size)
    cur = np.diff(np.searchsorted(vs, edges, side="left"), prepend=0, append=vs.size)
    return ref.astype(np.int64), cur.astype(np.int64)


def evidently_bins(us: np.ndarray, vs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Evidently's binning of a numeric column for Jensen-Shannon: with more than 20 distinct
    reference values, np.histogram on the Sturges edges of the pooled data; otherwise counts
    per distinct value over the union of both samples."""
    ref_values, ref_counts = distinct_counts(us)
    if ref_values.size > 20:
        edges = np.histogram_bin_edges(np.concatenate((us, vs)), bins="sturges")
        return np.histogram(us, edges)[0], np.histogram(vs, edges)[0]
    cur_values, cur_counts = distinct_counts(vs)
    _, ref, cur = align_counts(ref_values, ref_counts, cur_values, cur_counts)
    return ref, cur


def distinct_union_size(us: np.ndarray, vs: np.ndarray, limit: int) -> int | None:
    """How many distinct values both samples hold together, when at most `limit` (else None);
    costs one pass per side when the answer is 'many'."""
    for side in (us, vs):
        if side.size and 1 + np.count_nonzero(side[1:] != side[:-1]) > limit:
            return None
    union = np.union1d(distinct_counts(us)[0], distinct_counts(vs)[0])
    return int(union.size) if union.size <= limit else None


# --- raw columns prepared once ----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class NumericColumn:
    """The sorted finite values of a raw numeric column (the costly part, done once)."""

    values: np.ndarray
    missing: int

    @classmethod
    def of(cls, raw: Any) -> NumericColumn:
        array = as_float_array(raw)[0]
        finite = finite_part(array)
        return cls(np.sort(finite), int(array.size - finite.size))

    @property
    def count(self) -> int:
        return int(self.values.size)

    def digest(self) -> str:
        """sha256 of the sorted finite float64 values (independent of row order)."""
        return hashlib.sha256(np.ascontiguousarray(self.values).data).hexdigest()


@dataclass(frozen=True, eq=False)
class CategoricalColumn:
    """Label counts of a raw categorical column."""

    labels: np.ndarray
    counts: np.ndarray
    missing: int

    @classmethod
    def of(cls, raw: Any) -> CategoricalColumn:
        labels, counts, missing = value_counts(raw)
        return cls(np.asarray(labels, dtype=object), counts, missing)

    @property
    def count(self) -> int:
        return int(self.counts.sum())

    def digest(self) -> str:
        """sha256 of the canonical JSON of {label: count}."""
        return sha256_hex(dict(zip(self.labels.tolist(), self.counts.tolist(), strict=True)))
