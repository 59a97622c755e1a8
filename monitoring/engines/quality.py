"""Data quality of a window against the reference: missing values, values outside the
reference range, unseen categories and type errors, from raw values or from summaries.

Definitions:
- missing: None, NaN, NaT, pd.NA (and ±inf for numbers), over all rows;
- type error: a non-missing value that cannot be read as the declared type (numbers: not
  parsed by `pd.to_numeric`; integers: also a fractional number; booleans: anything but
  True/False, 0/1 and the words true/false/t/f/yes/no/y/n/1/0 in any case; dates: not parsed
  by `pd.to_datetime`; categories and text: none);
- out of range: a finite number below the reference's minimum or above its maximum, over the
  finite values;
- unseen: a non-missing category the reference never held, over the non-missing values.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from steward_client.summaries import (
    MAX_UNSEEN_EXAMPLES,
    CategoricalSummary,
    NumericSummary,
    as_float_array,
    value_counts,
)

from monitoring.engines.drift import feature_kind

_BOOLEAN_WORDS = frozenset({"true", "false", "t", "f", "yes", "no", "y", "n", "1", "0"})


@dataclass(frozen=True)
class ColumnQuality:
    """Counts for one column of the current window; shares are over the rows (missing, type
    errors), the finite values (out of range) or the non-missing values (unseen). A count is
    None when it cannot be told (for instance unseen categories when the reference vocabulary
    was truncated)."""

    column: str | None
    feature_type: str
    n_rows: int
    missing: int
    type_errors: int
    out_of_range: int | None = None
    n_values: int = 0
    unseen: int | None = None
    unseen_examples: tuple[str, ...] = ()

    @property
    def missing_share(self) -> float:
        return self.missing / self.n_rows if self.n_rows else 0.0

    @property
    def type_error_share(self) -> float:
        return self.type_errors / self.n_rows if self.n_rows else 0.0

    @property
    def out_of_range_share(self) -> float | None:
        if self.out_of_range is None:
            return None
        return self.out_of_range / self.n_values if self.n_values else 0.0

    @property
    def unseen_share(self) -> float | None:
        if self.unseen is None:
            return None
        return self.unseen / self.n_values if self.n_values else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["unseen_examples"] = list(self.unseen_examples)
        for name in ("missing_share", "type_error_share", "out_of_range_share", "unseen_share"):
            data[name] = getattr(self, name)
        return data


def _missing_mask(values: Any) -> np.ndarray:
    return np.asarray(pd.isna(pd.Series(values) if not isinstance(values, pd.Series) else values))


def type_errors(values: Any, feature_type: str) -> int:
    """How many non-missing values cannot be read as `feature_type` (see the module doc)."""
    if feature_type in ("numeric", "integer"):
        parsed, invalid = as_float_array(values)
        if feature_type == "integer":
            finite = parsed[np.isfinite(parsed)]
            invalid += int(np.count_nonzero(finite != np.round(finite)))
        return invalid
    series = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values))
    present = series[~series.isna()]
    if feature_type == "boolean":
        if pd.api.types.is_bool_dtype(present.dtype):
            return 0
        words = present.astype(str).str.strip().str.lower()
        return int((~words.isin(_BOOLEAN_WORDS)).sum())
    if feature_type == "datetime":
        return int(pd.to_datetime(present, errors="coerce", format="mixed").isna().sum())
    return 0


def column_quality(
    reference: Any, current: Any, feature_type: str, *, column: str | None = None
) -> ColumnQuality:
    """Quality of the raw `current` values against the raw `reference` values."""
    errors = type_errors(current, feature_type)
    kind = feature_kind(feature_type)
    if kind == "numeric":
        ref = as_float_array(reference)[0]
        cur = as_float_array(current)[0]
        ref, finite = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
        outside = None
        if ref.size:
            outside = int(np.count_nonzero((finite < ref.min()) | (finite > ref.max())))
        missing = int(cur.size - finite.size) - errors
        return ColumnQuality(
            column,
            feature_type,
            int(cur.size),
            missing,
            errors,
            out_of_range=outside,
            n_values=int(finite.size),
        )
    missing = int(_missing_mask(current).sum())
    n_rows = len(current)
    if kind == "categorical":
        known = set(value_counts(reference)[0])
        labels, counts, _ = value_counts(current)
        new = [
            (label, int(c)) for label, c in zip(labels, counts, strict=True) if label not in known
        ]
        examples = tuple(sorted(label for label, _ in new)[:MAX_UNSEEN_EXAMPLES])
        unseen = sum(c for _, c in new)
        return ColumnQuality(
            column,
            feature_type,
            n_rows,
            missing,
            errors,
            n_values=int(counts.sum()),
            unseen=unseen,
            unseen_examples=examples,
        )
    return ColumnQuality(column, feature_type, n_rows, missing, errors, n_values=n_rows - missing)


def quality_from_summaries(
    reference: NumericSummary | CategoricalSummary,
    current: NumericSummary | CategoricalSummary,
    feature_type: str,
    *,
    column: str | None = None,
) -> ColumnQuality:
    """The same counts from summaries on the reference's layout: out of range are the two
    outer slots; unseen is the "other" count when the reference vocabulary is complete."""
    if reference.layout != current.layout:
        raise ValueError("reference and current summaries use different layouts")
    if isinstance(current, NumericSummary):
        outside = int(current.counts[0] + current.counts[-1]) if current.layout.edges else None
        missing = current.missing - current.invalid
        return ColumnQuality(
            column,
            feature_type,
            current.n_rows,
            missing,
            current.invalid,
            out_of_range=outside,
            n_values=current.count,
        )
    unseen = current.other if current.layout.complete else None
    return ColumnQuality(
        column,
        feature_type,
        current.n_rows,
        current.missing,
        0,
        n_values=current.count,
        unseen=unseen,
        unseen_examples=current.unseen_examples,
    )
