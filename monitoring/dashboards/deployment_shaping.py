"""Pure shaping of rollup rows for the deployment dashboards: no ORM, plain values in and out.

- `health_totals` / `health_days`: hourly health rows (dicts) summed over a range and per UTC day.
- `drift_score`: one drift result on a common scale where 1 is the threshold.
- `numeric_shares` / `categorical_shares`: a reference and a current summary as shares on the
  reference's own bins (numbers) or vocabulary (categories), ready for a side-by-side chart.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from monitoring.engines import health

DAY_SECONDS = 86_400.0
# Drift scores above this are drawn at the cap (a p-value of 1e-300 would flatten the chart).
DRIFT_SCORE_CAP = 10.0
HISTOGRAM_BINS = 20
TOP_CATEGORIES = 15


# --- service health ---------------------------------------------------------------------------


def health_totals(rows: Sequence[Mapping[str, Any]], seconds: float) -> dict[str, Any]:
    """Exact counts and rates of hourly health rows spanning `seconds`; latency quantiles are
    request-weighted means of the hours' quantiles (`monitoring.engines.health`)."""
    return _health_figures(health.health_rollup(rows, seconds))


def _health_figures(rollup: health.HealthRollup) -> dict[str, Any]:
    figures = rollup.to_dict()
    del figures["cache_hits"]
    figures["predictions"] = rollup.requests - rollup.errors
    return figures


def day_list(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every day from `first` to `last`, both included."""
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def health_days(
    rows: Iterable[Mapping[str, Any]], first: dt.date, last: dt.date
) -> list[dict[str, Any]]:
    """One entry per UTC day of [first, last] (days without rows included, with no figures),
    each with `health_totals` over that day's hours."""
    daily = health.daily_health(rows)
    empty = health.health_rollup([], DAY_SECONDS)
    return [{"day": day, **_health_figures(daily.get(day, empty))} for day in day_list(first, last)]


def series(days: Sequence[Mapping[str, Any]], key: str, scale: float = 1.0) -> list[float | None]:
    """The values of `key` per day (None where absent), multiplied by `scale`."""
    return [None if d.get(key) is None else d[key] * scale for d in days]


# --- drift ------------------------------------------------------------------------------------


def drift_score(statistic: float | None, p_value: float | None, threshold: float) -> float:
    """A drift result on one scale where 1 is its own threshold and more is worse: a distance's
    statistic / threshold; a test's log(p) / log(threshold), which is 1 at p = threshold, 0 at
    p = 1 and grows as p shrinks. Capped at DRIFT_SCORE_CAP; a missing figure scores the cap."""
    if p_value is not None:
        if threshold <= 0 or threshold >= 1:
            return 0.0
        if p_value <= 0:
            return DRIFT_SCORE_CAP
        score = math.log(min(p_value, 1.0)) / math.log(threshold)
    elif statistic is None or not math.isfinite(statistic) or threshold <= 0:
        return DRIFT_SCORE_CAP
    else:
        score = statistic / threshold
    return min(max(score, 0.0), DRIFT_SCORE_CAP)


def numeric_brief(summary: Mapping[str, Any] | None) -> str:
    """ "mean 41.2, range 3 to 97" of a numeric summary dict ("no values" when empty)."""
    if not summary or not summary.get("count"):
        return "no values"
    mean = summary["sum"] / summary["count"]
    return f"mean {mean:.4g}, range {summary['min']:.4g} to {summary['max']:.4g}"


def categorical_brief(summary: Mapping[str, Any] | None, top: int = 3) -> str:
    """ "north 61%, south 39%" of a categorical summary dict: its most frequent categories."""
    if not summary:
        return "no values"
    counts = summary["counts"]
    total = sum(counts)
    if not total:
        return "no values"
    labels = [*summary["layout"]["categories"], "other"]
    ranked = sorted(zip(labels, counts, strict=True), key=lambda lc: (-lc[1], lc[0]))[:top]
    return ", ".join(f"{label} {count / total:.0%}" for label, count in ranked if count)


def summary_brief(summary: Mapping[str, Any] | None) -> str:
    if summary and summary.get("kind") == "categorical":
        return categorical_brief(summary)
    return numeric_brief(summary)


# --- distributions ----------------------------------------------------------------------------


def _shares(counts: Sequence[int]) -> list[float]:
    total = sum(counts)
    return [c / total if total else 0.0 for c in counts]


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _numeric_groups(
    edges: Sequence[float], discrete: bool, max_bins: int
) -> tuple[list, list, list]:
    """(labels, slot -> group index, bin edges) for a numeric layout: the slots (below e0,
    {e0}, (e0, e1), {e1}, ..., above eK) grouped into at most `max_bins` bins [a, b) between
    chosen reference edges, plus "below" and "above" the reference range."""
    k = len(edges)
    if discrete and k <= max_bins:
        # Each reference value is its own bar; values between them (none in the reference)
        # join the value below, values outside join "below" / "above".
        labels = ["below reference", *(_fmt(e) for e in edges), "above reference"]
        slot_group = [0] + [1 + (s - 1) // 2 for s in range(1, 2 * k)] + [k + 1]
        return labels, slot_group, list(edges)
    step = max(1, math.ceil((k - 1) / max_bins))
    cut = [*range(0, k - 1, step), k - 1]  # indices of the chosen edges
    labels = ["below reference"]
    slot_group = [0]
    for g, (lo, hi) in enumerate(itertools.pairwise(cut), start=1):
        closed = "]" if hi == k - 1 else ")"
        labels.append(f"[{_fmt(edges[lo])}, {_fmt(edges[hi])}{closed}")
        # edge lo itself and every slot up to (not including) edge hi
        slot_group.extend([g] * (2 * (hi - lo)))
    slot_group.append(len(labels) - 1)  # the last edge closes the last bin
    labels.append("above reference")
    slot_group.append(len(labels) - 1)
    return labels, slot_group, [edges[i] for i in cut]


def numeric_shares(
    reference: Mapping[str, Any], current: Mapping[str, Any] | None, max_bins: int = HISTOGRAM_BINS
) -> dict[str, Any]:
    """Reference and current shares of a numeric feature on bins made of the reference's own
    edges (so no value is re-binned by guess): {labels, reference, current, counts, edges}.
    The bins are below the first edge, [a, b) between chosen edges (the last one closed),
    above the last edge; for a discrete layout with few values, one bar per value."""
    layout = reference["layout"]
    edges = layout["edges"]
    if not edges:
        return {"labels": [], "reference": [], "current": [], "counts": {}, "edges": []}
    labels, slot_group, bin_edges = _numeric_groups(edges, bool(layout["discrete"]), max_bins)

    def grouped(counts: Sequence[int]) -> list[int]:
        out = [0] * len(labels)
        for slot, count in enumerate(counts):
            out[slot_group[slot]] += int(count)
        return out

    ref_counts = grouped(reference["counts"])
    cur_counts = grouped(current["counts"]) if current else [0] * len(labels)
    return {
        "labels": labels,
        "reference": _shares(ref_counts),
        "current": _shares(cur_counts),
        "counts": {"reference": sum(ref_counts), "current": sum(cur_counts)},
        "edges": bin_edges,
        "discrete": bool(layout["discrete"]) and len(edges) <= max_bins,
    }


def categorical_shares(
    reference: Mapping[str, Any], current: Mapping[str, Any] | None, top: int = TOP_CATEGORIES
) -> dict[str, Any]:
    """Reference and current shares per category (the `top` most frequent on either side, the
    rest and the values outside the reference vocabulary as "other")."""
    labels = [*reference["layout"]["categories"], "other"]
    ref = list(reference["counts"])
    cur = list(current["counts"]) if current else [0] * len(labels)
    ref_share, cur_share = _shares(ref), _shares(cur)
    order = sorted(
        range(len(labels) - 1), key=lambda i: (-max(ref_share[i], cur_share[i]), labels[i])
    )
    kept = order[:top]
    rest = [i for i in range(len(labels)) if i not in set(kept)]
    other = (sum(ref_share[i] for i in rest), sum(cur_share[i] for i in rest))
    tail = [("other", *other)] if any(other) else []  # no empty "other" bar
    return {
        "labels": [labels[i] for i in kept] + [t[0] for t in tail],
        "reference": [ref_share[i] for i in kept] + [t[1] for t in tail],
        "current": [cur_share[i] for i in kept] + [t[2] for t in tail],
        "counts": {"reference": sum(ref), "current": sum(cur)},
    }


def distribution(reference: Mapping[str, Any], current: Mapping[str, Any] | None) -> dict:
    """`numeric_shares` or `categorical_shares`, by the summary's kind."""
    if reference.get("kind") == "categorical":
        return {"kind": "categorical", **categorical_shares(reference, current)}
    return {"kind": "numeric", **numeric_shares(reference, current)}


DRIFT_SORT_KEYS = (
    "feature",
    "type",
    "method",
    "statistic",
    "p_value",
    "threshold",
    "score",
    "drifted",
    "importance",
)


def sort_rows(rows: list[dict[str, Any]], key: str, descending: bool) -> list[dict[str, Any]]:
    """`rows` sorted on `key` (missing values last whichever the direction); an unknown key
    leaves the order as it is."""
    if key not in DRIFT_SORT_KEYS:
        return rows
    present = [r for r in rows if r.get(key) is not None]
    absent = [r for r in rows if r.get(key) is None]
    present.sort(key=lambda r: r["feature"])
    present.sort(key=lambda r: r[key], reverse=descending)  # stable: ties stay by name
    return present + absent
