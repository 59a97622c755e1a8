"""Approximate drift statistics from summaries: binned counts instead of raw rows.

Both summaries must share one layout (the reference's). Within an open interval slot the mass
is taken as spread uniformly (between the observed minimum or maximum and the first or last
edge for the two outer slots); on the edges it is exact. So:
- KS: sup |F - G| over every slot boundary, where both CDFs are exact; the true supremum can
  only be larger inside an interval. p-value: scipy's asymptotic formula with the real sizes.
- Wasserstein: the integral of |F - G| with both CDFs linear inside each interval; exact when
  every value sits on an edge (discrete data), close otherwise (tests bound the error).
- Jensen-Shannon and chi-squared: over the slots (numeric) or the categories plus "other".
- PSI: over the reference's deciles, which are edges of a quantile layout whose bin count is a
  multiple of 10, so the binned PSI equals the exact one computed from the raw reference.
"""

from __future__ import annotations

import numpy as np
from steward_client.summaries import CategoricalSummary, NumericSummary

from monitoring.engines.univariate import ks_asymptotic_pvalue

Summary = NumericSummary | CategoricalSummary


def check_pair(reference: Summary, current: Summary) -> None:
    """Raise unless both summaries share a kind and a layout and hold values."""
    if type(reference) is not type(current):
        raise TypeError("reference and current summaries are of different kinds")
    if reference.layout != current.layout:
        raise ValueError("reference and current summaries use different layouts")
    if reference.count == 0 or current.count == 0:
        raise ValueError("a summary without values cannot be compared")


def ks_binned(reference: NumericSummary, current: NumericSummary) -> tuple[float, float]:
    """(D, asymptotic p-value): D is the largest CDF gap over the slot boundaries."""
    gap = np.cumsum(reference.counts) / reference.count - np.cumsum(current.counts) / current.count
    d = float(np.abs(gap).max())
    return d, ks_asymptotic_pvalue(d, reference.count, current.count)


def _interval_cdfs(summary: NumericSummary) -> tuple[np.ndarray, np.ndarray]:
    """CDF at the start and at the end of each open interval slot (0, 2, ..., 2L)."""
    cumulative = np.cumsum(summary.counts) / summary.count
    ends = cumulative[0::2]
    starts = np.concatenate(([0.0], cumulative[1::2]))
    return starts, ends


def _abs_linear_integral(start: np.ndarray, end: np.ndarray, width: np.ndarray) -> float:
    """Sum over intervals of the integral of |d(x)| where d is linear from start to end."""
    same_sign = start * end >= 0
    total = np.abs(start) + np.abs(end)
    safe = np.where(total > 0, total, 1.0)
    crossing = (start * start + end * end) / (2 * safe)
    return float(np.sum(width * np.where(same_sign, total / 2, crossing)))


def wasserstein_binned(reference: NumericSummary, current: NumericSummary) -> float:
    """Approximate first Wasserstein distance (un-normalised) from the binned CDFs."""
    edges = np.asarray(reference.layout.edges, dtype=np.float64)
    extremes = (reference.minimum, current.minimum, reference.maximum, current.maximum)
    if any(value is None for value in extremes):
        raise ValueError("a summary without values cannot be compared")
    low = min(value for value in extremes[:2] if value is not None)
    high = max(value for value in extremes[2:] if value is not None)
    bounds: np.ndarray = np.concatenate(([low], edges, [high]))
    widths = np.maximum(np.diff(bounds), 0.0)
    ref_start, ref_end = _interval_cdfs(reference)
    cur_start, cur_end = _interval_cdfs(current)
    return _abs_linear_integral(ref_start - cur_start, ref_end - cur_end, widths)


def decile_groups(
    reference: NumericSummary, current: NumericSummary, n_bins: int
) -> tuple[np.ndarray, np.ndarray]:
    """Both count vectors regrouped on the reference's inverted-CDF quantiles at j / n_bins.

    A quantile is the first edge whose cumulative reference count reaches ceil(j * n / n_bins);
    the group boundary sits just before that edge's point slot, so a value equal to the
    quantile opens the upper bin, as `np.searchsorted(edges, x, "right")` places it.
    """
    at_edges = np.cumsum(reference.counts)[1::2]
    ranks = -((-np.arange(1, n_bins, dtype=np.int64) * reference.count) // n_bins)
    edge_index = np.unique(np.searchsorted(at_edges, ranks, side="left"))
    starts = 2 * edge_index[edge_index < at_edges.size] + 1
    boundaries = np.concatenate(([0], starts))
    return (
        np.add.reduceat(reference.counts, boundaries),
        np.add.reduceat(current.counts, boundaries),
    )


def distinct_union_if_few(
    reference: NumericSummary, current: NumericSummary, limit: int
) -> int | None:
    """Distinct values of both summaries together when all sit on edges and there are at most
    `limit`; None otherwise (including when that cannot be told)."""
    occupied = np.flatnonzero(reference.counts + current.counts)
    if occupied.size > limit or np.any(occupied % 2 == 0):
        return None
    return int(occupied.size)
