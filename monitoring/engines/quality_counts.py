"""Mergeable data-quality counts: one hour's figures per feature that add up to a window's.

`column_quality` (engines/quality.py) defines what counts as missing, a type error, out of
range and unseen. Here it is applied to one hour's values against a `FeatureReference` (the
reference range and vocabulary, kept small so that no raw reference data is needed), and the
result is kept as counts: a window's figures are the sums of its hours', exactly as a plain
computation over all the window's events would give. Only the unseen *examples* are bounded
(the most frequent few, with their counts), so a window's examples are those of its hours.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from steward_client.summaries import value_counts

from monitoring.engines.drift import feature_kind
from monitoring.engines.quality import column_quality

MAX_EXAMPLES = 5
FIGURES = ("missing_share", "type_error_share", "out_of_range_share", "unseen_share")


@dataclass(frozen=True)
class FeatureReference:
    """What one feature is checked against: the reference's finite range (numbers) and its
    complete vocabulary (categories); None where it is not known."""

    feature_type: str
    minimum: float | None = None
    maximum: float | None = None
    categories: tuple[str, ...] | None = None

    def reference_values(self) -> list[Any]:
        """The smallest raw reference that gives `column_quality` the same verdicts."""
        if feature_kind(self.feature_type) == "numeric":
            if self.minimum is None or self.maximum is None:
                return []
            return [self.minimum, self.maximum]
        return list(self.categories or ())

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.feature_type,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "categories": None if self.categories is None else list(self.categories),
        }


def _top(examples: dict[str, int]) -> dict[str, int]:
    """The MAX_EXAMPLES most frequent labels (ties by label), most frequent first."""
    ranked = sorted(examples.items(), key=lambda item: (-item[1], item[0]))[:MAX_EXAMPLES]
    return dict(ranked)


@dataclass(frozen=True)
class QualityCounts:
    """Counts of one feature over some rows. `values` are the rows the range or vocabulary
    applies to (finite numbers; non-missing categories); `out_of_range` and `unseen` are None
    when no reference tells them."""

    feature_type: str
    rows: int = 0
    missing: int = 0
    type_errors: int = 0
    values: int = 0
    out_of_range: int | None = None
    unseen: int | None = None
    unseen_examples: dict[str, int] = field(default_factory=dict)

    @staticmethod
    def _share(count: int | None, total: int) -> float | None:
        if count is None:
            return None
        return count / total if total else 0.0

    @property
    def missing_share(self) -> float | None:
        return self._share(self.missing, self.rows)

    @property
    def type_error_share(self) -> float | None:
        return self._share(self.type_errors, self.rows)

    @property
    def out_of_range_share(self) -> float | None:
        return self._share(self.out_of_range, self.values)

    @property
    def unseen_share(self) -> float | None:
        return self._share(self.unseen, self.values)

    def to_dict(self) -> dict[str, Any]:
        """The stored form: counts only (shares are derived)."""
        return {
            "type": self.feature_type,
            "rows": self.rows,
            "missing": self.missing,
            "type_errors": self.type_errors,
            "values": self.values,
            "out_of_range": self.out_of_range,
            "unseen": self.unseen,
            "unseen_examples": dict(self.unseen_examples),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QualityCounts:
        return cls(
            feature_type=str(data["type"]),
            rows=int(data["rows"]),
            missing=int(data["missing"]),
            type_errors=int(data["type_errors"]),
            values=int(data["values"]),
            out_of_range=data.get("out_of_range"),
            unseen=data.get("unseen"),
            unseen_examples={str(k): int(v) for k, v in data.get("unseen_examples", {}).items()},
        )

    def figures(self) -> dict[str, Any]:
        """Counts and shares, as the API and the dashboard show them."""
        data = self.to_dict()
        data["unseen_examples"] = [
            {"value": label, "count": count} for label, count in self.unseen_examples.items()
        ]
        return data | {name: getattr(self, name) for name in FIGURES}


def _add(a: int | None, b: int | None) -> int | None:
    # A count that one part could not tell cannot be told for the whole either.
    return None if a is None or b is None else a + b


def merge_counts(a: QualityCounts, b: QualityCounts) -> QualityCounts:
    """The counts of the two parts' rows together."""
    examples = dict(a.unseen_examples)
    for label, count in b.unseen_examples.items():
        examples[label] = examples.get(label, 0) + count
    return QualityCounts(
        feature_type=a.feature_type,
        rows=a.rows + b.rows,
        missing=a.missing + b.missing,
        type_errors=a.type_errors + b.type_errors,
        values=a.values + b.values,
        out_of_range=_add(a.out_of_range, b.out_of_range),
        unseen=_add(a.unseen, b.unseen),
        unseen_examples=_top(examples),
    )


def merge_all_counts(parts: Iterable[QualityCounts]) -> QualityCounts | None:
    """The sum of any number of parts (None for none)."""
    total: QualityCounts | None = None
    for part in parts:
        total = part if total is None else merge_counts(total, part)
    return total


def count_quality(values: Any, reference: FeatureReference) -> QualityCounts:
    """One feature's counts over `values` (one hour's, say) against its reference."""
    report = column_quality(
        np.asarray(reference.reference_values(), dtype=object),
        values,
        reference.feature_type,
    )
    kind = feature_kind(reference.feature_type)
    unseen: int | None = None
    examples: dict[str, int] = {}
    if kind == "categorical" and reference.categories is not None:
        unseen = report.unseen
        known = set(reference.categories)
        labels, counts, _ = value_counts(values)
        examples = _top(
            {label: int(n) for label, n in zip(labels, counts, strict=True) if label not in known}
        )
    return QualityCounts(
        feature_type=reference.feature_type,
        rows=report.n_rows,
        missing=report.missing,
        type_errors=report.type_errors,
        values=report.n_values,
        out_of_range=report.out_of_range if kind == "numeric" else None,
        unseen=unseen,
        unseen_examples=examples,
    )


def worst_shares(counts: dict[str, QualityCounts]) -> dict[str, tuple[str, float]]:
    """Per figure, the feature with the largest share and that share (figures no feature has
    are left out): what the status axis and alert rules judge."""
    worst: dict[str, tuple[str, float]] = {}
    for figure in FIGURES:
        for name in sorted(counts):
            share = getattr(counts[name], figure)
            if share is not None and (figure not in worst or share > worst[figure][1]):
                worst[figure] = (name, share)
    return worst
