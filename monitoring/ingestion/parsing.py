"""Request bodies into pandas frames: JSON arrays, NDJSON and CSV. No Django model here.

JSON and NDJSON rows are objects with the reserved fields at the top and the features nested
under "features"; CSV has one column per reserved field and per feature. Row numbers are the
client's: the position in the JSON array, the line in NDJSON, the record after the CSV header,
each counted from 1.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from monitoring.ingestion import text
from registry import safe_json

PREDICTION_FIELDS = (
    "request_id",
    "timestamp",
    "prediction",
    "score",
    "scores",
    "latency_ms",
    "status",
    "error",
    "cache_hit",
    "cpu",
    "memory",
)
GROUND_TRUTH_FIELDS = ("request_id", "timestamp", "label", "value")

FORMATS = {
    "application/json": "json",
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/jsonlines": "ndjson",
    "text/csv": "csv",
}


class ParseError(ValueError):
    """The body cannot be read as the declared format (400)."""


class UnsupportedFormat(ParseError):
    """The content type is not one of FORMATS (415)."""


@dataclass(frozen=True)
class Batch:
    """A parsed batch. `fields` holds the reserved columns as sent (object dtype, absent values
    NaN); `features` one column per feature key seen. `key_codes[i]` indexes `key_sets`, the
    distinct sets of feature keys rows carried (None: "features" was not an object)."""

    format: str
    rows: np.ndarray
    fields: pd.DataFrame
    features: pd.DataFrame
    key_codes: np.ndarray
    key_sets: list[frozenset[str] | None]
    unknown: pd.DataFrame

    def __len__(self) -> int:
        return len(self.rows)


def batch_format(content_type: str) -> str:
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in FORMATS:
        raise UnsupportedFormat(
            f"unsupported content type {media_type or '(none)'!r}; "
            "send application/json, application/x-ndjson or text/csv"
        )
    return FORMATS[media_type]


def parse_batch(
    body: bytes, *, content_type: str, reserved: tuple[str, ...], nested: bool
) -> Batch:
    """Read a body into a Batch. `nested`: JSON rows carry their features under "features"."""
    fmt = batch_format(content_type)
    if fmt == "csv":
        return _from_csv(body, reserved=reserved, nested=nested)
    records, rows = _json_records(body) if fmt == "json" else _ndjson_records(body)
    if text.may_hold_unstorable(body) and (found := text.first_unstorable(records, rows)):
        row, name, why = found
        raise ParseError(f"row {row}, field {name!r}: {why}")
    return _from_records(records, rows, fmt=fmt, reserved=reserved, nested=nested)


def _json_records(body: bytes) -> tuple[list[Any], np.ndarray]:
    try:
        records = safe_json.loads(body, strict_values=False)
    except safe_json.JSONInputError as exc:
        raise ParseError(f"the body: {exc}") from exc
    if not isinstance(records, list):
        raise ParseError("the body must be a JSON array of objects")
    return records, np.arange(1, len(records) + 1)


def _ndjson_records(body: bytes) -> tuple[list[Any], np.ndarray]:
    lines = body.split(b"\n")
    numbers = [n for n, line in enumerate(lines, start=1) if line.strip()]
    try:
        # One decode of the whole body as an array is far faster than a loads() per line.
        records = safe_json.loads(
            b"[" + b",".join(lines[n - 1] for n in numbers) + b"]", strict_values=False
        )
    except safe_json.JSONInputError:
        records = [_ndjson_line(lines[n - 1], n) for n in numbers]
    return records, np.asarray(numbers, dtype=np.int64)


def _ndjson_line(line: bytes, number: int) -> Any:
    try:
        return safe_json.loads(line, strict_values=False)
    except safe_json.JSONInputError as exc:
        raise ParseError(f"line {number}: {exc}") from exc


def _from_records(
    records: list[Any], rows: np.ndarray, *, fmt: str, reserved: tuple[str, ...], nested: bool
) -> Batch:
    not_objects = [row for row, rec in zip(rows, records, strict=True) if not isinstance(rec, dict)]
    if not_objects:
        raise ParseError(f"every row must be a JSON object (row {not_objects[0]} is not)")
    top = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    top.index = pd.RangeIndex(len(records))
    fields = top.reindex(columns=list(reserved))
    allowed = set(reserved) | ({"features"} if nested else set())
    unknown = top[[c for c in top.columns if c not in allowed]]
    if not nested:
        return _batch(fmt, rows, fields, pd.DataFrame(index=fields.index), [frozenset()], unknown)
    raw = top["features"] if "features" in top.columns else pd.Series([None] * len(top))
    dicts = [f if isinstance(f, dict) else None for f in raw]
    # Tuples of keys are cheap to build and hash; rows whose keys differ only in order get
    # different codes, which costs one more (correct) pass in validation, nothing else.
    keys = [tuple(f) if f is not None else None for f in dicts]
    features = pd.DataFrame.from_records([f or {} for f in dicts], index=fields.index)
    codes, uniques = pd.factorize(pd.Series(keys, dtype=object), use_na_sentinel=False)
    # factorize turns the None of a row without an object into NaN.
    key_sets = [frozenset(k) if isinstance(k, tuple) else None for k in uniques]
    return Batch(fmt, rows, fields, features, codes, key_sets, unknown)


def _from_csv(body: bytes, *, reserved: tuple[str, ...], nested: bool) -> Batch:
    try:
        # Everything as text: types come from the declared schema, never from guessing.
        frame = pd.read_csv(
            io.BytesIO(body),
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=True,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ParseError(f"the body is not valid CSV: {exc}") from exc
    frame.index = pd.RangeIndex(len(frame))
    rows = np.arange(1, len(frame) + 1)
    fields = frame.reindex(columns=list(reserved))
    extra = [c for c in frame.columns if c not in reserved]
    if not nested:
        return _batch(
            "csv", rows, fields, pd.DataFrame(index=frame.index), [frozenset()], frame[extra]
        )
    codes, key_sets = _csv_key_sets(body, list(frame.columns), extra, len(frame))
    return Batch("csv", rows, fields, frame[extra], codes, key_sets, frame[[]])


def _csv_key_sets(
    body: bytes, header: list[str], features: list[str], n: int
) -> tuple[np.ndarray, list[frozenset[str] | None]]:
    """A record shorter than the header lacks its last columns (pandas reads them as empty):
    rows are grouped by how many fields they carry, so validation names the features a row
    lacks, as it does for a JSON row without them."""
    codes: np.ndarray = np.zeros(n, dtype=np.int64)
    declared = frozenset(features)
    whole: list[frozenset[str] | None] = [declared]
    try:
        records = [r for r in csv.reader(io.StringIO(body.decode("utf-8-sig"))) if r]
    except (UnicodeDecodeError, csv.Error):
        return codes, whole
    lengths = np.fromiter((len(r) for r in records[1:]), dtype=np.int64, count=len(records) - 1)
    if len(lengths) != n or (lengths >= len(header)).all():
        return codes, whole  # pandas and csv disagree on the records: no per-row claim
    codes, uniques = pd.factorize(np.minimum(lengths, len(header)))
    carried: list[frozenset[str] | None] = [frozenset(header[: int(k)]) & declared for k in uniques]
    return codes.astype(np.int64), carried


def _batch(
    fmt: str,
    rows: np.ndarray,
    fields: pd.DataFrame,
    features: pd.DataFrame,
    key_sets: list[frozenset[str] | None],
    unknown: pd.DataFrame,
) -> Batch:
    codes = np.zeros(len(rows), dtype=np.int64)
    return Batch(fmt, rows, fields, features, codes, key_sets, unknown)
