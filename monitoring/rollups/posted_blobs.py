"""Posted summaries as stored: one hour's summaries in one compact binary value, and the
checks of a packed summary (docs/monitoring.md, "Packed summaries") done on its bytes.

Pure computation (numpy and orjson, no Django model): `monitoring.rollups.posted` calls it.

An hour's value (`PostedSummary.features`) is

    MAGIC (4 bytes) | header length (uint32, little-endian) | header | arrays

where the header is the JSON object {feature: [scalars, [n_counts, n_sample]]} (scalars: the
summary's dict without layout, counts and sample) and the arrays are, feature after feature
in the header's order, the counts (int64), then for a numeric summary the sample's values
(float64) and priorities (uint64), all little-endian. A packed summary's decoded base64 is
stored as it came, so no parsed number is encoded again. Rows written before this format are
zlib-compressed JSON of {feature: summary dict}; a zlib stream never starts with MAGIC, so
`is_blob` tells them apart and both are read.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any, TypeGuard

import numpy as np
import orjson
from steward_client.summaries import (
    COUNTS_DTYPE,
    MAX_UNSEEN_EXAMPLES,
    PRIORITIES_DTYPE,
    VALUES_DTYPE,
    CategoricalLayout,
    Layout,
    NumericLayout,
    NumericSummary,
    Summary,
    bytes_of_b64,
    summary_from_parts,
    summary_scalars,
)

from monitoring.rollups.posted_checks import natural

MAGIC = b"SPS\x01"
_LENGTH = struct.Struct("<I")
_NUMERIC_SCALARS = ("kind", "format", "count", "missing", "invalid", "sum", "m2", "min", "max")
_CATEGORICAL_SCALARS = ("kind", "format", "missing", "unseen_examples")
CATEGORICAL_TOTAL = "counts plus missing must equal the hour's count ({count})"


@dataclass(frozen=True)
class StoredSummary:
    """One checked summary as stored: its scalars and its arrays' little-endian bytes
    (counts, then a numeric summary's sample values and priorities). A packed summary's
    arrays are checked with its hour's others (`arrays_problems`): until then `unchecked`."""

    scalars: dict[str, Any]
    arrays: tuple[bytes, ...]
    n_sample: int
    unchecked: bool = False


def stored_of(summary: Summary) -> StoredSummary:
    """A summary read from the plain JSON form (its arrays already checked), as stored."""
    arrays = [np.ascontiguousarray(summary.counts, dtype=COUNTS_DTYPE).tobytes()]
    size = 0
    if isinstance(summary, NumericSummary):
        arrays.append(np.ascontiguousarray(summary.sample_values, dtype=VALUES_DTYPE).tobytes())
        arrays.append(
            np.ascontiguousarray(summary.sample_priorities, dtype=PRIORITIES_DTYPE).tobytes()
        )
        size = int(summary.sample_values.size)
    return StoredSummary(summary_scalars(summary), tuple(arrays), size)


# --- checks of a packed summary ---------------------------------------------------------------
#
# A packed summary is checked in two steps: its scalars and its arrays' sizes alone
# (`packed_problems`), then its arrays' contents with the rest of its hour's
# (`arrays_problems`: a few numpy calls an hour instead of a few a feature). Together they are
# the plain form's rules (`posted._summary_problems`).


def _number(value: Any) -> TypeGuard[float]:
    return type(value) in (int, float) and math.isfinite(value)


def packed_problems(
    data: dict[str, Any], layout: Layout, count: int
) -> tuple[str | None, StoredSummary | None]:
    """What is wrong with a packed summary (format, kind and layout already checked) of an
    hour of `count` rows, but for its arrays' contents, or None and the summary as stored,
    its arrays still to check (`arrays_problems`)."""
    try:
        counts_raw = bytes_of_b64(data.get("counts"))
    except ValueError as exc:
        return f"counts {exc}", None
    if isinstance(layout, NumericLayout):
        return _numeric_packed(data, layout, count, counts_raw)
    assert isinstance(layout, CategoricalLayout)
    if len(counts_raw) // 8 != len(layout.categories) + 1:
        return "counts must hold one entry per category plus one for other", None
    missing = data.get("missing")
    if not natural(missing):
        return "missing must be a non-negative integer", None
    unseen = data.get("unseen_examples")
    if (
        not isinstance(unseen, list)
        or len(unseen) > MAX_UNSEEN_EXAMPLES
        or not all(isinstance(label, str) for label in unseen)
    ):
        return f"unseen_examples must be a list of at most {MAX_UNSEEN_EXAMPLES} labels", None
    if missing > count:
        return CATEGORICAL_TOTAL.format(count=count), None
    scalars = {key: data.get(key) for key in _CATEGORICAL_SCALARS}
    return None, StoredSummary(scalars, (counts_raw,), 0, unchecked=True)


def _numeric_packed(
    data: dict[str, Any], layout: NumericLayout, count: int, counts_raw: bytes
) -> tuple[str | None, StoredSummary | None]:
    if len(counts_raw) // 8 != layout.n_slots:
        return f"counts must hold {layout.n_slots} slots for this layout", None
    finite, missing, invalid = data.get("count"), data.get("missing"), data.get("invalid")
    if not (natural(finite) and natural(missing) and natural(invalid)):
        return "count, missing and invalid must be non-negative integers", None
    if invalid > missing:
        return "invalid cannot exceed missing", None
    if finite + missing != count:
        return f"count plus missing must equal the hour's count ({count})", None
    total, m2 = data.get("sum"), data.get("m2")
    if not (_number(total) and _number(m2)) or m2 < 0:
        return "sum and m2 must be finite and m2 non-negative", None
    low, high = data.get("min"), data.get("max")
    if not all(value is None or _number(value) for value in (low, high)):
        return "min and max must be finite numbers or null", None
    if finite and (low is None or high is None):
        return "min and max are required when count is positive", None
    if finite and low > high:  # type: ignore[operator]
        return "min exceeds max", None
    return _sample_packed(data, layout, finite, counts_raw)


def _sample_packed(
    data: dict[str, Any], layout: NumericLayout, finite: int, counts_raw: bytes
) -> tuple[str | None, StoredSummary | None]:
    sample = data.get("sample")
    if not isinstance(sample, dict):
        return "sample must be {values, priorities}", None
    try:
        values_raw = bytes_of_b64(sample.get("values"))
    except ValueError as exc:
        return f"sample.values {exc}", None
    try:
        priorities_raw = bytes_of_b64(sample.get("priorities"))
    except ValueError as exc:
        return f"sample.priorities {exc}", None
    size = len(values_raw) // 8
    if len(priorities_raw) != len(values_raw) or size > min(layout.sample_size, finite):
        return "the sample must pair values with priorities, at most sample_size of them", None
    scalars = {key: data.get(key) for key in _NUMERIC_SCALARS}
    arrays = (counts_raw, values_raw, priorities_raw)
    return None, StoredSummary(scalars, arrays, size, unchecked=True)


def _counts_total(summary: StoredSummary, count: int) -> tuple[int, str]:
    """What a summary's counts must sum to in an hour of `count` rows, and the message when
    they do not."""
    if summary.scalars["kind"] == NumericSummary.kind:
        return summary.scalars["count"], "count must equal the sum of counts"
    return count - summary.scalars["missing"], CATEGORICAL_TOTAL.format(count=count)


def arrays_problems(summaries: dict[str, StoredSummary], count: int) -> dict[str, str]:
    """{feature: what is wrong with its arrays} for an hour's summaries (of `count` rows)
    whose arrays are still to check (`unchecked`): counts non-negative and summing exactly to
    the summary's total (`_counts_total`), a sample's values finite. Checked together: one
    array of all the counts, one of all the sample values. No counts array is empty:
    `packed_problems` held each to its layout's slots, at least one (`reduceat` needs every
    segment non-empty)."""
    pending = [(name, s) for name, s in summaries.items() if s.unchecked]
    problems: dict[str, str] = {}
    if not pending:
        return problems
    counts = np.frombuffer(b"".join(summary.arrays[0] for _, summary in pending), COUNTS_DTYPE)
    sizes = [len(summary.arrays[0]) // 8 for _, summary in pending]
    starts = np.cumsum([0, *sizes[:-1]])
    lows = np.minimum.reduceat(counts, starts).tolist()
    highs = np.maximum.reduceat(counts, starts).tolist()
    sums = np.add.reduceat(counts, starts).tolist()
    for (name, summary), low, high, total, size in zip(
        pending, lows, highs, sums, sizes, strict=True
    ):
        if low < 0:
            problems[name] = "counts must be non-negative integers"
            continue
        if high * size >= 2**63:  # the int64 sum may have wrapped: add in Python integers
            total = sum(np.frombuffer(summary.arrays[0], COUNTS_DTYPE).tolist())
        expected, message = _counts_total(summary, count)
        if total != expected:
            problems[name] = message
    sampled = [(name, summary) for name, summary in pending if summary.n_sample]
    values = b"".join(summary.arrays[1] for _, summary in sampled)
    if values and not np.isfinite(np.frombuffer(values, VALUES_DTYPE)).all():
        for name, summary in sampled:
            if not np.isfinite(np.frombuffer(summary.arrays[1], VALUES_DTYPE)).all():
                problems.setdefault(name, "the sample's values must be finite")
    return problems


# --- the stored value -------------------------------------------------------------------------


def blob_of(summaries: dict[str, StoredSummary]) -> bytes:
    """One hour's checked summaries as one stored value (see the module docstring)."""
    header = {
        name: [summary.scalars, [len(summary.arrays[0]) // 8, summary.n_sample]]
        for name, summary in summaries.items()
    }
    encoded = orjson.dumps(header)
    arrays = [part for summary in summaries.values() for part in summary.arrays]
    return b"".join((MAGIC, _LENGTH.pack(len(encoded)), encoded, *arrays))


def is_blob(stored: bytes) -> bool:
    """Whether a stored value is in this format (not the older zlib-compressed JSON)."""
    return stored[:4] == MAGIC


def _walk(stored: bytes) -> list[tuple[str, dict[str, Any], list[np.ndarray]]]:
    """(feature, scalars, arrays) of a stored value, the arrays read in place."""
    (length,) = _LENGTH.unpack_from(stored, 4)
    header: dict[str, Any] = orjson.loads(stored[8 : 8 + length])
    offset = 8 + length
    out = []
    for name, (scalars, (n_counts, n_sample)) in header.items():
        arrays = [np.frombuffer(stored, COUNTS_DTYPE, n_counts, offset)]
        offset += 8 * n_counts
        if scalars["kind"] == NumericSummary.kind:
            arrays.append(np.frombuffer(stored, VALUES_DTYPE, n_sample, offset))
            arrays.append(np.frombuffer(stored, PRIORITIES_DTYPE, n_sample, offset + 8 * n_sample))
            offset += 16 * n_sample
        out.append((name, scalars, arrays))
    return out


def dicts_of_blob(stored: bytes) -> dict[str, dict[str, Any]]:
    """{feature: summary dict (plain form, without layout)} of a stored value."""
    out: dict[str, dict[str, Any]] = {}
    for name, scalars, arrays in _walk(stored):
        data = dict(scalars)
        data["counts"] = arrays[0].tolist()
        if len(arrays) == 3:
            data["sample"] = {"values": arrays[1].tolist(), "priorities": arrays[2].tolist()}
        out[name] = data
    return out


def summaries_of_blob(stored: bytes, layouts: dict[str, Layout]) -> dict[str, Summary]:
    """{feature: summary} of a stored value, on the profile's `layouts`."""
    return {
        name: summary_from_parts(scalars, layouts[name], *arrays)
        for name, scalars, arrays in _walk(stored)
    }
