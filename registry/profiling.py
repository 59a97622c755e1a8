"""Reading and profiling uploaded tables. Pure pandas: no ORM, no Django models."""

from __future__ import annotations

import hashlib
import io
import math
import warnings
from collections.abc import Iterable
from typing import IO, Any

import pandas as pd

SUPPORTED_FORMATS = ("csv", "parquet")
TOP_CATEGORIES = 10


class TableError(ValueError):
    """The upload cannot be read as a table; the message says why, in words for the user."""


def sha256_of(chunks: Iterable[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def guess_format(filename: str) -> str:
    lower = filename.lower()
    if lower.endswith((".parquet", ".pq")):
        return "parquet"
    if lower.endswith((".csv", ".csv.gz", ".txt")):
        return "csv"
    raise TableError(f"unsupported file type {filename!r}: upload a .csv or .parquet file")


def read_table(stream: IO[bytes], file_format: str) -> pd.DataFrame:
    """Read a CSV or Parquet stream; raise TableError for empty, binary or malformed input."""
    raw = stream.read()
    if not raw.strip():
        raise TableError("the file is empty")
    if file_format == "parquet":
        try:
            frame = pd.read_parquet(io.BytesIO(raw))
        except Exception as exc:  # pyarrow raises several unrelated types
            raise TableError(f"not a readable Parquet file ({type(exc).__name__})") from exc
    else:
        if b"\x00" in raw[:8192]:
            raise TableError("not a CSV file: it contains binary data")
        try:
            with warnings.catch_warnings():
                # A row longer than the header would silently become an index or be cut.
                warnings.simplefilter("error", pd.errors.ParserWarning)
                frame = pd.read_csv(io.BytesIO(raw), index_col=False)
        except pd.errors.ParserWarning as exc:
            raise TableError(
                "not a well-formed CSV file: a row has more fields than the header"
            ) from exc
        except UnicodeDecodeError as exc:
            raise TableError("not a CSV file: it is not UTF-8 text") from exc
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise TableError(f"not a well-formed CSV file: {exc}".strip()) from exc
    if frame.columns.empty:
        raise TableError("the file has no columns")
    if len(frame) == 0:
        raise TableError("the file has a header but no rows")
    duplicated = [str(c) for c in frame.columns[frame.columns.duplicated()]]
    if duplicated:
        raise TableError(f"duplicate column names: {', '.join(duplicated)}")
    unnamed = [str(c) for c in frame.columns if str(c).startswith("Unnamed:")]
    if unnamed:
        raise TableError("every column needs a name in the header row")
    return frame


def column_type(series: pd.Series) -> str:
    """The schema type of a column, from its pandas dtype (never by guessing from values)."""
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_float_dtype(series):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    return "categorical"


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def profile_column(series: pd.Series, kind: str) -> dict[str, Any]:
    total = len(series)
    missing = int(series.isna().sum())
    summary: dict[str, Any] = {
        "type": kind,
        "missing": missing,
        "missing_share": missing / total if total else 0.0,
    }
    present = series.dropna()
    if kind in ("numeric", "integer") and len(present):
        summary |= {
            "min": _finite(present.min()),
            "max": _finite(present.max()),
            "mean": _finite(present.mean()),
            "std": _finite(present.std(ddof=1)) if len(present) > 1 else 0.0,
        }
    elif kind in ("categorical", "boolean") and len(present):
        counts = present.astype(str).value_counts()
        summary |= {
            "distinct": int(counts.size),
            "top": [[str(k), int(v)] for k, v in counts.head(TOP_CATEGORIES).items()],
        }
    return summary


def profile_frame(frame: pd.DataFrame) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """Schema ([{name, type}]) and per-column profile of a table."""
    schema, profile = [], {}
    for name in frame.columns:
        kind = column_type(frame[name])
        schema.append({"name": str(name), "type": kind})
        profile[str(name)] = profile_column(frame[name], kind)
    return schema, profile


# Declared types a profiled column type may satisfy: integers are numbers, and so on.
_COMPATIBLE = {
    "numeric": {"numeric", "integer", "boolean"},
    "integer": {"integer"},
    "categorical": {"categorical", "integer", "boolean"},
    "boolean": {"boolean"},
    "text": {"categorical"},
    "datetime": {"datetime", "categorical"},
}


def schema_mismatches(actual: list[dict[str, str]], declared: list[dict[str, str]]) -> list[str]:
    """Human-readable differences between a table's columns and the declared schema."""
    have = {c["name"]: c["type"] for c in actual}
    want = {c["name"]: c["type"] for c in declared}
    problems = [f"column {name!r} is declared but missing" for name in want if name not in have]
    problems += [
        f"column {name!r} is not in the declared schema" for name in have if name not in want
    ]
    for name, declared_type in want.items():
        found = have.get(name)
        if found and found not in _COMPATIBLE.get(declared_type, {declared_type}):
            problems.append(f"column {name!r} is declared {declared_type} but holds {found} values")
    return problems
