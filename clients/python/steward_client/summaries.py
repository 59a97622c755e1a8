"""Mergeable per-feature summaries, so that monitoring cost does not grow with raw volume.

A *layout* is derived once from the reference data and then shared by every summary of that
feature (the reference's own, each hour's, each window's): fixed bin edges for numbers, a fixed
category vocabulary for categories. Summaries with the same layout merge by adding counts, so a
month of hourly summaries merges into one window summary whose drift costs what one hour's does.

Guarantees:
- `merge(a, b)` is associative and commutative (exactly for every count, the bounded sample and
  the min/max; to floating-point rounding for the sum and the centred second moment), and
  merging the summaries of parts equals the summary of the concatenated parts.
- `to_dict()` is JSON-safe (no NaN, no infinity) and `from_dict(to_dict(s)) == s`.
- `to_packed(s)` is the same dict with the bulky arrays (counts, the sample's values and
  priorities) as base64 of little-endian bytes, about three times faster to read than decimal
  JSON; `summary_from_packed(to_packed(s)) == s` exactly (`summary_from_dict` reads both).
- `digest()` is the sha256 of the canonical JSON of `to_dict()`: a stored result can name the
  exact summary it was computed from, and anyone can recompute it.

The module lives in the client (extra `ml`: numpy and pandas) so that a serving host or a Spark
job builds exactly the summaries Steward builds from raw events; Steward's engines import it.

Building a summary from an array is vectorised (`np.searchsorted`, `np.bincount`, hash-based
value counts) and costs a few passes over the data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

FORMAT = 1
# The `encoding` of a packed summary (docs/monitoring.md, "Packed summaries"): counts as
# base64 of little-endian int64, the sample's values of float64 and priorities of uint64.
PACKED = "packed"
COUNTS_DTYPE = np.dtype("<i8")
VALUES_DTYPE = np.dtype("<f8")
PRIORITIES_DTYPE = np.dtype("<u8")
DEFAULT_BINS = 100
DEFAULT_SAMPLE_SIZE = 256
DEFAULT_MAX_CATEGORIES = 1000
MAX_UNSEEN_EXAMPLES = 10
_GOLDEN = 0x9E3779B97F4A7C15
_MASK64 = (1 << 64) - 1


def canonical_json(data: Any) -> str:
    """Sorted keys, no spaces, no NaN: the byte string a digest is taken of."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def sha256_hex(data: Any) -> str:
    """sha256 of the canonical JSON of `data`."""
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


# --- value conversion -------------------------------------------------------------------------


def as_float_array(values: Any) -> tuple[np.ndarray, int]:
    """`values` as float64, with the number of entries that could not be parsed as a number.

    Numbers pass through without a copy; pandas objects become NaN where missing; object and
    string arrays are parsed with `pd.to_numeric`, and a non-missing entry that does not parse
    (a type error) becomes NaN and is counted.
    """
    if isinstance(values, pd.Series | pd.Index | pd.api.extensions.ExtensionArray):
        if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            return values.to_numpy(dtype=np.float64, na_value=np.nan), 0
        values = np.asarray(values, dtype=object)
    array = np.asarray(values)
    if array.dtype.kind in "fiub":
        return array.astype(np.float64, copy=False), 0
    parsed = pd.to_numeric(pd.Series(array, dtype=object), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    invalid = int(np.count_nonzero(np.isnan(parsed) & ~pd.isna(array)))
    return parsed, invalid


def finite_part(values: np.ndarray) -> np.ndarray:
    """The finite values (NaN and ±inf are treated as missing); no copy when all are finite."""
    mask = np.isfinite(values)
    return values if mask.all() else values[mask]


def category_label(value: Any) -> str:
    """The JSON label of a category: strings as they are, anything else through `str()`."""
    return value if isinstance(value, str) else str(value)


def value_counts(values: Any) -> tuple[list[str], np.ndarray, int]:
    """Labels, their counts (int64) and the missing count, by hashing (no sort of the rows)."""
    series = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values))
    counts = series.value_counts(dropna=True, sort=False)
    merged: dict[str, int] = {}
    for value, count in zip(counts.index, counts.to_numpy(), strict=True):
        label = category_label(value)
        merged[label] = merged.get(label, 0) + int(count)
    missing = len(series) - int(counts.sum())
    return list(merged), np.fromiter(merged.values(), dtype=np.int64, count=len(merged)), missing


def sorted_finite(values: Any) -> np.ndarray:
    """The finite values of `values`, sorted ascending (float64)."""
    return np.sort(finite_part(as_float_array(values)[0]))


def empirical_quantiles(
    sorted_values: np.ndarray, numerators: np.ndarray, denominator: int
) -> np.ndarray:
    """Inverted-CDF quantiles: for each p = j / denominator, the smallest x with F(x) >= p.

    Computed with integer arithmetic (k = ceil(j * n / denominator)), so the same p always picks
    the same element, free of the floating-point quirks of `np.quantile`.
    """
    n = sorted_values.size
    ranks = -((-numerators.astype(np.int64) * n) // denominator)
    return sorted_values[np.clip(ranks - 1, 0, n - 1)]


# --- bounded, mergeable sample ----------------------------------------------------------------


def row_priorities(n: int, *, seed: int, row_keys: np.ndarray | None = None) -> np.ndarray:
    """A uniform pseudo-random uint64 priority per row (splitmix64 of the row key).

    With `row_keys` (for example a hash of each request id) the priority of a row is the same
    in every summary and every feature, so a sample is the same rows across features and the
    sample of a merge equals the sample of the concatenated data. Without keys, priorities are
    drawn from a generator seeded with `seed`.
    """
    if row_keys is None:
        rng = np.random.default_rng(seed)
        return rng.integers(0, np.iinfo(np.uint64).max, size=n, dtype=np.uint64, endpoint=True)
    offset = np.uint64(((seed + 1) * _GOLDEN) & _MASK64)
    z = np.asarray(row_keys).astype(np.uint64) + offset
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def bottom_k(values: np.ndarray, priorities: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k rows of smallest (priority, value), in that order: a uniform sample without
    replacement whose merge (union, then bottom-k again) is associative and commutative."""
    if values.size > 2 * k:
        keep = np.argpartition(priorities, k - 1)[:k] if k else np.empty(0, dtype=np.intp)
        values, priorities = values[keep], priorities[keep]
    order = np.lexsort((values, priorities))[:k]
    return values[order], priorities[order]


# --- numeric ----------------------------------------------------------------------------------


def _edge_probabilities(n_bins: int) -> tuple[np.ndarray, int]:
    """Numerators over a common denominator of the quantiles that make the edges: j / n_bins
    for j = 0..n_bins, plus 1, 2 and 5 times 1e-6 .. 1e-3 and one minus those, so that the
    outer bins, where a linear CDF inside a bin is the worst guess, are split finely."""
    scale = 10**6
    grid = np.arange(n_bins + 1, dtype=np.int64) * scale
    decades = n_bins * 10 ** np.arange(0, 4, dtype=np.int64)
    tails = np.concatenate((decades, 2 * decades, 5 * decades))
    tails = tails[tails < scale]
    denominator = n_bins * scale
    return np.unique(np.concatenate((grid, tails, denominator - tails))), denominator


@dataclass(frozen=True)
class NumericLayout:
    """Fixed bin edges for one numeric feature, derived once from its reference data.

    `edges` are the reference's inverted-CDF quantiles at j / n_bins (j = 0..n_bins) and at
    1, 2 and 5 times 1e-6 .. 1e-3 from either end, made unique; when the reference holds at
    most n_bins + 1 distinct values, its distinct values themselves (`discrete`). The slots
    a value falls in alternate between the open intervals and the edges themselves:
    (-inf, e0), {e0}, (e0, e1), {e1}, ..., {eK}, (eK, +inf), so that a point mass (integers,
    ties, a spike at zero) is counted exactly, and the two outer slots
    count values outside the reference range.
    """

    edges: tuple[float, ...]
    discrete: bool = False
    sample_size: int = DEFAULT_SAMPLE_SIZE
    seed: int = 0

    @classmethod
    def from_reference(
        cls,
        values: Any,
        *,
        n_bins: int = DEFAULT_BINS,
        sample_size: int = DEFAULT_SAMPLE_SIZE,
        seed: int = 0,
    ) -> NumericLayout:
        """The layout of a reference column (missing and infinite values are ignored)."""
        ordered = sorted_finite(values)
        if ordered.size == 0:
            return cls(edges=(), discrete=True, sample_size=sample_size, seed=seed)
        distinct = ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]
        if distinct.size <= n_bins + 1:
            return cls(tuple(distinct.tolist()), True, sample_size, seed)
        numerators, denominator = _edge_probabilities(n_bins)
        edges = np.unique(empirical_quantiles(ordered, numerators, denominator))
        return cls(tuple(edges.tolist()), False, sample_size, seed)

    @property
    def n_slots(self) -> int:
        return 2 * len(self.edges) + 1

    def slots(self, finite_values: np.ndarray) -> np.ndarray:
        """The slot index of each finite value (see the class docstring)."""
        edges = np.asarray(self.edges, dtype=np.float64)
        left = np.searchsorted(edges, finite_values, side="left")
        return left + np.searchsorted(edges, finite_values, side="right")

    def slot_counts(self, sorted_values: np.ndarray) -> np.ndarray:
        """Counts per slot of finite values sorted ascending: two binary searches per edge
        into the data rather than two per value into the edges, so a sort (SIMD-fast in
        numpy) plus O(edges * log n) replaces O(n log edges) of cache-unfriendly searches."""
        edges = np.asarray(self.edges, dtype=np.float64)
        bounds = np.empty(2 * edges.size + 2, dtype=np.int64)
        bounds[0], bounds[-1] = 0, sorted_values.size
        bounds[1:-1:2] = np.searchsorted(sorted_values, edges, side="left")
        bounds[2:-1:2] = np.searchsorted(sorted_values, edges, side="right")
        return np.diff(bounds)

    def to_dict(self) -> dict[str, Any]:
        return {
            "edges": list(self.edges),
            "discrete": self.discrete,
            "sample_size": self.sample_size,
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NumericLayout:
        edges = tuple(float(e) for e in data["edges"])
        return cls(edges, bool(data["discrete"]), int(data["sample_size"]), int(data["seed"]))

    def digest(self) -> str:
        return sha256_hex(self.to_dict())


@dataclass(frozen=True, eq=False)
class NumericSummary:
    """Counts per slot, moments, range and a bounded sample of one numeric feature.

    `count` is the number of finite values, `missing` of NaN / None / ±inf, `invalid` of values
    that could not be parsed as numbers (type errors, also counted in `missing`). `total` is
    their sum and `m2` the sum of squared deviations from their mean (Chan et al.'s mergeable
    form; the raw sum of squares, which loses all precision when |mean| >> std, is
    `m2 + total**2 / count`). The sample holds at most `layout.sample_size` values.
    """

    layout: NumericLayout
    counts: np.ndarray
    count: int
    missing: int
    invalid: int
    total: float
    m2: float
    minimum: float | None
    maximum: float | None
    sample_values: np.ndarray
    sample_priorities: np.ndarray

    kind = "numeric"

    @classmethod
    def build(
        cls, values: Any, layout: NumericLayout, *, row_keys: np.ndarray | None = None
    ) -> NumericSummary:
        """Summarise `values` on `layout`. `row_keys` (one uint64 per row) make the bounded
        sample the same rows across features and mergeable-equals-concatenated."""
        raw, invalid = as_float_array(values)
        mask = np.isfinite(raw)
        all_finite = bool(mask.all())
        finite = raw if all_finite else raw[mask]
        count = int(finite.size)
        ordered = np.sort(finite)
        counts = layout.slot_counts(ordered)
        total = float(finite.sum()) if count else 0.0
        m2 = float(np.square(finite - total / count).sum()) if count else 0.0
        keys = None if row_keys is None else np.asarray(row_keys)
        if keys is not None and not all_finite:
            keys = keys[mask]
        priorities = row_priorities(count, seed=layout.seed, row_keys=keys)
        sample, sample_priorities = bottom_k(finite, priorities, layout.sample_size)
        return cls(
            layout=layout,
            counts=counts,
            count=count,
            missing=int(raw.size - count),
            invalid=invalid,
            total=total,
            m2=m2,
            minimum=float(ordered[0]) if count else None,
            maximum=float(ordered[-1]) if count else None,
            sample_values=sample,
            sample_priorities=sample_priorities,
        )

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None

    @property
    def std(self) -> float | None:
        """Population standard deviation (ddof=0), as `np.std` computes it."""
        return float(np.sqrt(self.m2 / self.count)) if self.count else None

    @property
    def sum_of_squares(self) -> float:
        return self.m2 + (self.total**2 / self.count if self.count else 0.0)

    @property
    def n_rows(self) -> int:
        return self.count + self.missing

    def distinct_values_if_few(self, limit: int) -> int | None:
        """The number of distinct values when every value sits on an edge and there are at most
        `limit` of them; None when that cannot be told from the counts."""
        occupied = np.flatnonzero(self.counts)
        if occupied.size > limit or np.any(occupied % 2 == 0):
            return None
        return int(occupied.size)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "format": FORMAT,
            "layout": self.layout.to_dict(),
            "counts": self.counts.tolist(),
            "count": self.count,
            "missing": self.missing,
            "invalid": self.invalid,
            "sum": self.total,
            "m2": self.m2,
            "min": self.minimum,
            "max": self.maximum,
            "sample": {
                "values": self.sample_values.tolist(),
                "priorities": [int(p) for p in self.sample_priorities],
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], layout: NumericLayout | None = None) -> NumericSummary:
        sample = data["sample"]
        return cls(
            layout=NumericLayout.from_dict(data["layout"]) if layout is None else layout,
            counts=np.asarray(data["counts"], dtype=np.int64),
            sample_values=np.asarray(sample["values"], dtype=np.float64),
            sample_priorities=np.asarray(sample["priorities"], dtype=np.uint64),
            **cls.scalars_from(data),
        )

    @staticmethod
    def scalars_from(data: dict[str, Any]) -> dict[str, Any]:
        """The constructor's scalar arguments from a summary's dict (plain or packed)."""
        return {
            "count": int(data["count"]),
            "missing": int(data["missing"]),
            "invalid": int(data["invalid"]),
            "total": float(data["sum"]),
            "m2": float(data["m2"]),
            "minimum": None if data["min"] is None else float(data["min"]),
            "maximum": None if data["max"] is None else float(data["max"]),
        }

    def digest(self) -> str:
        return sha256_hex(self.to_dict())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NumericSummary) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


def _merge_numeric(a: NumericSummary, b: NumericSummary) -> NumericSummary:
    if a.layout != b.layout:
        raise ValueError("cannot merge numeric summaries built on different layouts")
    count = a.count + b.count
    if a.count == 0 or b.count == 0:
        m2 = a.m2 + b.m2
    else:
        delta = b.total / b.count - a.total / a.count
        m2 = a.m2 + b.m2 + delta * delta * (a.count * b.count / count)
    sample, priorities = bottom_k(
        np.concatenate((a.sample_values, b.sample_values)),
        np.concatenate((a.sample_priorities, b.sample_priorities)),
        a.layout.sample_size,
    )
    return NumericSummary(
        layout=a.layout,
        counts=a.counts + b.counts,
        count=count,
        missing=a.missing + b.missing,
        invalid=a.invalid + b.invalid,
        total=a.total + b.total,
        m2=m2,
        minimum=_extreme(min, a.minimum, b.minimum),
        maximum=_extreme(max, a.maximum, b.maximum),
        sample_values=sample,
        sample_priorities=priorities,
    )


def _extreme(
    pick: Callable[[float, float], float], a: float | None, b: float | None
) -> float | None:
    if a is None or b is None:
        return b if a is None else a
    return pick(a, b)


# --- categorical ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoricalLayout:
    """The tracked categories of one feature: the reference's `max_categories` most frequent
    (ties by label). `complete` says the reference had no others, so that a value outside the
    vocabulary is exactly an unseen category."""

    categories: tuple[str, ...]
    complete: bool = True

    @classmethod
    def from_reference(
        cls, values: Any, *, max_categories: int = DEFAULT_MAX_CATEGORIES
    ) -> CategoricalLayout:
        labels, counts, _ = value_counts(values)
        ranked = sorted(zip(labels, counts.tolist(), strict=True), key=lambda lc: (-lc[1], lc[0]))
        kept = sorted(label for label, _ in ranked[:max_categories])
        return cls(tuple(kept), len(ranked) <= max_categories)

    def to_dict(self) -> dict[str, Any]:
        return {"categories": list(self.categories), "complete": self.complete}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoricalLayout:
        return cls(tuple(str(c) for c in data["categories"]), bool(data["complete"]))

    def digest(self) -> str:
        return sha256_hex(self.to_dict())


@dataclass(frozen=True, eq=False)
class CategoricalSummary:
    """Counts per tracked category plus one "other" count (the last entry of `counts`), the
    missing count, and up to ten unseen labels (the alphabetically smallest) as examples."""

    layout: CategoricalLayout
    counts: np.ndarray
    missing: int
    unseen_examples: tuple[str, ...]

    kind = "categorical"

    @classmethod
    def build(cls, values: Any, layout: CategoricalLayout) -> CategoricalSummary:
        labels, label_counts, missing = value_counts(values)
        index = {label: i for i, label in enumerate(layout.categories)}
        other = len(layout.categories)
        slots = np.fromiter((index.get(lb, other) for lb in labels), np.intp, count=len(labels))
        counts = np.bincount(slots, weights=label_counts, minlength=other + 1).astype(np.int64)
        unseen = sorted(lb for lb in labels if lb not in index)[:MAX_UNSEEN_EXAMPLES]
        return cls(layout, counts, missing, tuple(unseen))

    @property
    def count(self) -> int:
        return int(self.counts.sum())

    @property
    def n_rows(self) -> int:
        return self.count + self.missing

    @property
    def other(self) -> int:
        return int(self.counts[-1])

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "format": FORMAT,
            "layout": self.layout.to_dict(),
            "counts": self.counts.tolist(),
            "missing": self.missing,
            "unseen_examples": list(self.unseen_examples),
        }

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], layout: CategoricalLayout | None = None
    ) -> CategoricalSummary:
        return cls(
            layout=CategoricalLayout.from_dict(data["layout"]) if layout is None else layout,
            counts=np.asarray(data["counts"], dtype=np.int64),
            missing=int(data["missing"]),
            unseen_examples=tuple(str(x) for x in data["unseen_examples"]),
        )

    def digest(self) -> str:
        return sha256_hex(self.to_dict())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CategoricalSummary) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


def categorical_summaries(
    values: Any, bounds: list[tuple[int, int]], layout: CategoricalLayout
) -> list[CategoricalSummary] | None:
    """`CategoricalSummary.build(values[start:end], layout)` for every (start, end) of
    `bounds`, hashing the values once for all of them. Only for values that are strings or
    missing (None / NaN), whose labels are the values themselves; None otherwise (build each
    slice then)."""
    array = np.asarray(values, dtype=object)
    if pd.api.types.infer_dtype(array, skipna=True) not in ("string", "empty"):
        return None
    codes, uniques = pd.factorize(array, use_na_sentinel=True)
    labels = np.asarray(uniques, dtype=object)
    index = {label: i for i, label in enumerate(layout.categories)}
    other = len(layout.categories)
    slot_of = np.fromiter((index.get(lb, other) for lb in labels), np.intp, count=labels.size)
    unseen = slot_of == other
    out = []
    for start, end in bounds:
        part = codes[start:end]
        present = np.bincount(part[part >= 0], minlength=labels.size)
        seen = present > 0
        counts = np.bincount(slot_of[seen], weights=present[seen], minlength=other + 1)
        examples = sorted(labels[seen & unseen].tolist())[:MAX_UNSEEN_EXAMPLES]
        missing = (end - start) - int(present.sum())
        out.append(CategoricalSummary(layout, counts.astype(np.int64), missing, tuple(examples)))
    return out


def _merge_categorical(a: CategoricalSummary, b: CategoricalSummary) -> CategoricalSummary:
    if a.layout != b.layout:
        raise ValueError("cannot merge categorical summaries built on different layouts")
    unseen = sorted(set(a.unseen_examples) | set(b.unseen_examples))[:MAX_UNSEEN_EXAMPLES]
    return CategoricalSummary(a.layout, a.counts + b.counts, a.missing + b.missing, tuple(unseen))


# --- dispatch ---------------------------------------------------------------------------------

Summary = NumericSummary | CategoricalSummary
Layout = NumericLayout | CategoricalLayout


def merge(a: Summary, b: Summary) -> Summary:
    """The summary of the union of the data behind `a` and `b` (same layout required)."""
    if isinstance(a, NumericSummary) and isinstance(b, NumericSummary):
        return _merge_numeric(a, b)
    if isinstance(a, CategoricalSummary) and isinstance(b, CategoricalSummary):
        return _merge_categorical(a, b)
    raise TypeError(f"cannot merge a {type(a).__name__} with a {type(b).__name__}")


def merge_all(summaries: list[Summary]) -> Summary:
    """Merge a non-empty list of summaries (pairwise, as a balanced tree)."""
    if not summaries:
        raise ValueError("nothing to merge")
    level = list(summaries)
    while len(level) > 1:
        pairs = [merge(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        level = pairs + ([level[-1]] if len(level) % 2 else [])
    return level[0]


def summarize(values: Any, layout: Layout, *, row_keys: np.ndarray | None = None) -> Summary:
    """Build the summary of `values` on `layout`, numeric or categorical."""
    if isinstance(layout, NumericLayout):
        return NumericSummary.build(values, layout, row_keys=row_keys)
    return CategoricalSummary.build(values, layout)


def summary_from_dict(data: dict[str, Any], layout: Layout | None = None) -> Summary:
    """Inverse of `to_dict()` (and of `to_packed()`) for either kind. `layout`: the summary's
    layout already parsed (the caller has checked it is the one `data` was built on, or `data`
    omits it), which spares parsing a hundred bin edges per summary."""
    if data.get("format") != FORMAT:
        raise ValueError(f"unsupported summary format {data.get('format')!r}")
    if data.get("encoding") == PACKED:
        return summary_from_packed(data, layout)
    if data["kind"] == NumericSummary.kind:
        if layout is not None and not isinstance(layout, NumericLayout):
            raise ValueError("a numeric summary needs a numeric layout")
        return NumericSummary.from_dict(data, layout)
    if data["kind"] == CategoricalSummary.kind:
        if layout is not None and not isinstance(layout, CategoricalLayout):
            raise ValueError("a categorical summary needs a categorical layout")
        return CategoricalSummary.from_dict(data, layout)
    raise ValueError(f"unknown summary kind {data['kind']!r}")


# --- packed form ------------------------------------------------------------------------------


def b64_of(array: np.ndarray, dtype: np.dtype) -> str:
    """The array as base64 of its little-endian bytes in `dtype`."""
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")


def _strict_b64decode(text: str) -> bytes:
    return binascii.a2b_base64(text, strict_mode=True)


try:  # pybase64 (the `fast` extra; the portal requires it) decodes about four times faster
    import pybase64

    def _b64decode(text: str) -> bytes:
        return pybase64.b64decode(text, validate=True)

except ImportError:  # pragma: no cover - the portal's and CI's venvs have pybase64
    _b64decode = _strict_b64decode


def bytes_of_b64(text: Any, itemsize: int = 8) -> bytes:
    """The bytes of base64 `text`; ValueError when it is not strict base64 (padded, nothing
    outside the alphabet) or its length is not a whole number of `itemsize`-byte items."""
    if not isinstance(text, str):
        raise ValueError("must be base64 text")
    try:
        raw = _b64decode(text)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"is not valid base64 ({exc})") from None
    if len(raw) % itemsize:
        raise ValueError(f"decodes to {len(raw)} bytes, not a multiple of {itemsize}")
    return raw


def array_of_b64(text: Any, dtype: np.dtype) -> np.ndarray:
    """The array of `dtype` packed in base64 `text` (native byte order, read-only)."""
    return np.frombuffer(bytes_of_b64(text, dtype.itemsize), dtype=dtype).astype(
        dtype.newbyteorder("="), copy=False
    )


def to_packed(summary: Summary, *, layout: bool = False) -> dict[str, Any]:
    """`summary.to_dict()` with `encoding` "packed" and its counts (and sample) as base64 of
    little-endian bytes; scalars stay plain. The layout only with `layout` (a post's
    `layout_digest` names it)."""
    data = summary.to_dict() if layout else summary_scalars(summary)
    data["encoding"] = PACKED
    data["counts"] = b64_of(summary.counts, COUNTS_DTYPE)
    if isinstance(summary, NumericSummary):
        data["sample"] = {
            "values": b64_of(summary.sample_values, VALUES_DTYPE),
            "priorities": b64_of(summary.sample_priorities, PRIORITIES_DTYPE),
        }
    return data


def summary_scalars(summary: Summary) -> dict[str, Any]:
    """The summary's dict without its layout and arrays (kind, format and the plain numbers)."""
    if isinstance(summary, NumericSummary):
        return {
            "kind": summary.kind,
            "format": FORMAT,
            "count": summary.count,
            "missing": summary.missing,
            "invalid": summary.invalid,
            "sum": summary.total,
            "m2": summary.m2,
            "min": summary.minimum,
            "max": summary.maximum,
        }
    return {
        "kind": summary.kind,
        "format": FORMAT,
        "missing": summary.missing,
        "unseen_examples": list(summary.unseen_examples),
    }


def summary_from_packed(data: dict[str, Any], layout: Layout | None = None) -> Summary:
    """Inverse of `to_packed()`; `layout` as for `summary_from_dict` (required when `data`
    carries none). ValueError on text that is not base64 of whole items."""
    if layout is None:
        layout = layout_from_dict(data["layout"])
    counts = array_of_b64(data["counts"], COUNTS_DTYPE)
    if data["kind"] == NumericSummary.kind and isinstance(layout, NumericLayout):
        sample = data["sample"]
        values = array_of_b64(sample["values"], VALUES_DTYPE)
        priorities = array_of_b64(sample["priorities"], PRIORITIES_DTYPE)
        return summary_from_parts(data, layout, counts, values, priorities)
    if data["kind"] == CategoricalSummary.kind and isinstance(layout, CategoricalLayout):
        return summary_from_parts(data, layout, counts)
    raise ValueError(f"a {data['kind']!r} summary cannot be read on a {type(layout).__name__}")


def summary_from_parts(
    scalars: dict[str, Any],
    layout: Layout,
    counts: np.ndarray,
    sample_values: np.ndarray | None = None,
    sample_priorities: np.ndarray | None = None,
) -> Summary:
    """A summary on `layout` from its scalars (as `summary_scalars` gives them) and its arrays
    (a numeric summary's sample values and priorities besides its counts)."""
    if isinstance(layout, NumericLayout):
        if sample_values is None or sample_priorities is None:
            raise ValueError("a numeric summary needs its sample values and priorities")
        return NumericSummary(
            layout=layout,
            counts=counts,
            sample_values=sample_values,
            sample_priorities=sample_priorities,
            **NumericSummary.scalars_from(scalars),
        )
    unseen = tuple(str(x) for x in scalars["unseen_examples"])
    return CategoricalSummary(layout, counts, int(scalars["missing"]), unseen)


def layout_from_dict(data: dict[str, Any]) -> Layout:
    """A layout from its `to_dict()`: numeric layouts have edges, categorical ones categories."""
    if "edges" in data:
        return NumericLayout.from_dict(data)
    return CategoricalLayout.from_dict(data)
