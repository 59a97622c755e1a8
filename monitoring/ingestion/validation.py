"""Vectorised validation of a parsed batch against a version's declared input schema.

No Django model and no loop over rows: each check is a pandas operation over a whole column
that yields a boolean mask, and masks become error rows {row, field, reason}. Types come from
the declared schema, never from guessing. Explicit nulls are allowed (a missing value is
data); an absent feature key is an error.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from monitoring.ingestion.parsing import Batch
from registry import limits

MAX_REQUEST_ID = 200
MAX_EVENT_TEXT = limits.EVENT_TEXT  # a text feature, a prediction label, an error, a label
# Per-class probabilities must sum to 1 within this (rounding in the client's serialiser).
SCORES_SUM_TOLERANCE = 1e-6
# Integer features are stored as 64-bit integers downstream (pandas Int64, summaries).
MAX_INTEGER = 2**63 - 1
_PLAIN_NUMBERS = ("floating", "integer", "mixed-integer-float", "decimal", "empty")
TRUE_WORDS = ("true", "1", "1.0", "yes", "t", "y")
FALSE_WORDS = ("false", "0", "0.0", "no", "f", "n")
PREDICTION_COLUMNS = (
    "request_id",
    "timestamp",
    "features",
    "prediction_label",
    "prediction_score",
    "prediction_scores",
    "latency_ms",
    "status",
    "error",
    "cache_hit",
    "cpu",
    "memory",
)
GROUND_TRUTH_COLUMNS = ("request_id", "timestamp", "label", "value")


@dataclass
class Report:
    """`valid`: the rows that passed, typed and ready to store (columns as the model's);
    `errors`: one row per problem, sorted by row number."""

    received: int
    valid: pd.DataFrame
    errors: pd.DataFrame

    @property
    def rejected_rows(self) -> int:
        return int(self.errors["row"].nunique()) if len(self.errors) else 0

    def error_list(self, limit: int | None = None) -> list[dict[str, Any]]:
        errors = self.errors if limit is None else self.errors.head(limit)
        return [
            {"row": int(r), "field": f, "reason": why}
            for r, f, why in zip(errors["row"], errors["field"], errors["reason"], strict=True)
        ]


@dataclass
class _Errors:
    rows: np.ndarray
    parts: list[pd.DataFrame] = field(default_factory=list)
    bad: np.ndarray | None = None

    def add(
        self,
        mask: pd.Series | np.ndarray,
        name: str,
        reason: str | pd.Series,
        *,
        shown: pd.Series | None = None,
    ) -> None:
        """Report `reason` for the rows in `mask`; with `shown`, the offending value is quoted
        after it (formatted only for those rows, so a clean column costs nothing)."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        self.bad = mask if self.bad is None else (self.bad | mask)
        if shown is not None:
            reasons = (f"{reason}: " + _shown(shown[mask])).to_numpy()
        elif isinstance(reason, pd.Series):
            reasons = reason[mask].to_numpy()
        else:
            reasons = reason
        part = pd.DataFrame({"row": self.rows[mask], "field": name, "reason": reasons})
        self.parts.append(part)

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({"row": [], "field": [], "reason": []})
        errors = pd.concat(self.parts, ignore_index=True)
        return errors.sort_values("row", kind="stable", ignore_index=True)

    def valid_mask(self, n: int) -> np.ndarray:
        return np.ones(n, dtype=bool) if self.bad is None else ~self.bad


def _shown(col: pd.Series) -> pd.Series:
    """Values quoted for a reason string, cut short."""
    return "'" + col.astype(str).str.slice(0, 60) + "'"


def _given(col: pd.Series) -> pd.Series:
    return col.notna()


def as_number(col: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(values as float, mask of given values that are not finite numbers). JSON booleans
    are refused: true is not the number 1 for a declared numeric feature."""
    given = _given(col)
    values = pd.to_numeric(col, errors="coerce").astype(float)
    bad = given & ~np.isfinite(values.fillna(0.0)) | given & values.isna()
    if col.dtype == bool:
        bad |= given
    elif col.dtype == object and infer_dtype(col, skipna=True) not in _PLAIN_NUMBERS:
        bad |= given & col.astype(str).isin(["True", "False"])
    return values.where(~bad), bad


def as_integer(col: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """(values as Int64, not numbers, fractional, outside the 64-bit range)."""
    values, not_number = as_number(col)
    fractional = values.notna() & (values != values.round())
    # 2**63 is exactly representable as a float; anything at or past it overflows Int64.
    huge = values.notna() & (values.abs() >= float(MAX_INTEGER + 1))
    return values.where(~fractional & ~huge).astype("Int64"), not_number, fractional, huge


def as_boolean(col: pd.Series) -> tuple[pd.Series, pd.Series]:
    given = _given(col)
    words = col.astype(str).str.strip().str.lower()
    is_true, is_false = words.isin(TRUE_WORDS), words.isin(FALSE_WORDS)
    bad = given & ~(is_true | is_false)
    values = pd.Series(pd.NA, index=col.index, dtype="boolean")
    values[given & is_true] = True
    values[given & is_false] = False
    return values, bad


def as_text(col: pd.Series) -> pd.Series:
    """Values as strings (pandas' str dtype), missing values kept missing."""
    if isinstance(col.dtype, pd.StringDtype):
        return col
    return col.astype(str).where(_given(col))


def as_timestamp(col: pd.Series) -> tuple[pd.Series, pd.Series]:
    """ISO 8601; a timestamp without an offset is taken as UTC."""
    given = _given(col)
    text = col.astype(str).where(given)
    values = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    values = values.astype("datetime64[us, UTC]")
    return values, given & values.isna()


def _check_text(values: pd.Series, name: str, errors: _Errors) -> None:
    """Text the databases cannot store (NUL: PostgreSQL refuses it; a CSV cell may hold one)
    and text past MAX_EVENT_TEXT."""
    given = values.notna()
    if not given.any():
        return
    text = values.where(given, "").astype(str)
    errors.add(text.str.contains("\x00", regex=False), name, "holds a NUL character")
    errors.add(text.str.len() > MAX_EVENT_TEXT, name, f"longer than {MAX_EVENT_TEXT} characters")


def _check_feature(spec: dict[str, Any], col: pd.Series, errors: _Errors) -> pd.Series:
    name, kind = spec["name"], spec["type"]
    if kind in ("numeric", "integer"):
        if kind == "integer":
            values, bad, fractional, huge = as_integer(col)
            errors.add(fractional, name, "not a whole number", shown=col)
            errors.add(huge, name, "outside the 64-bit integer range", shown=col)
        else:
            values, bad = as_number(col)
        errors.add(bad, name, "not a number", shown=col)
        return values
    if kind == "boolean":
        values, bad = as_boolean(col)
        errors.add(bad, name, "not a boolean", shown=col)
        return values
    if kind == "datetime":
        values, bad = as_timestamp(col)
        errors.add(bad, name, "not an ISO 8601 date and time", shown=col)
        return values.dt.strftime("%Y-%m-%dT%H:%M:%S.%f%z").where(values.notna(), None)
    values = as_text(col)
    _check_text(values, name, errors)
    if kind == "categorical" and "categories" in spec:
        unknown = values.notna() & ~values.isin(spec["categories"])
        errors.add(unknown, name, "not one of the declared categories", shown=col)
    return values


def _check_keys(batch: Batch, schema: list[dict[str, Any]], errors: _Errors) -> None:
    """Missing and extra feature keys; a feature the schema marks `optional` may be absent.
    Rows are grouped by the set of keys they carry, so the loop runs once per distinct key
    set (one or a few for CSV, a handful for JSON), not per row."""
    declared = {spec["name"] for spec in schema}
    required = {spec["name"] for spec in schema if not spec.get("optional")}
    for code, keys in enumerate(batch.key_sets):
        rows = batch.key_codes == code
        if keys is None:
            errors.add(rows, "features", "must be an object of feature values")
            continue
        for name in sorted(required - keys):
            errors.add(rows, name, "missing feature")
        for name in sorted(keys - declared):
            errors.add(rows, name, "not in the version's input schema")


def _check_unknown(batch: Batch, errors: _Errors) -> None:
    for name in batch.unknown.columns:
        errors.add(batch.unknown[name].notna(), str(name), "unknown field")


def _request_ids(col: pd.Series, rows: np.ndarray, errors: _Errors) -> pd.Series:
    ids = as_text(col).str.strip()
    errors.add(
        ids.str.contains("\x00", regex=False).fillna(False), "request_id", "holds a NUL character"
    )
    missing = ids.isna() | (ids == "")
    errors.add(missing, "request_id", "missing request_id")
    errors.add(ids.str.len() > MAX_REQUEST_ID, "request_id", f"longer than {MAX_REQUEST_ID}")
    present = ids.where(~missing)
    repeated = present.notna() & present.duplicated(keep="first")
    if repeated.any():
        first = pd.Series(rows, index=col.index).groupby(present).transform("first")
        reason = "repeats the request_id of row " + first.astype("Int64").astype(str)
        errors.add(repeated, "request_id", reason)
    return ids


def _timestamps(col: pd.Series, errors: _Errors, *, required: bool) -> pd.Series:
    values, bad = as_timestamp(col)
    errors.add(bad, "timestamp", "not an ISO 8601 timestamp", shown=col)
    if required:
        errors.add(col.isna(), "timestamp", "missing timestamp")
    return values


def _numbers(col: pd.Series, name: str, errors: _Errors, *, minimum: float | None) -> pd.Series:
    values, bad = as_number(col)
    errors.add(bad, name, "not a number", shown=col)
    if minimum is not None:
        errors.add(values < minimum, name, f"below {minimum:g}")
    return values


def _class_scores_problem(value: Any) -> tuple[str | None, str | None]:
    """(the row's per-class probabilities as canonical JSON, None) or (None, what is wrong).
    A CSV cell holds the object as JSON text."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None, "not a JSON object of class probabilities"
    if not isinstance(value, dict) or not value:
        return None, "must be an object {class: probability} with at least one class"
    if why := limits.problem(value, limits.CAPS["monitoring.PredictionEvent.prediction_scores"]):
        return None, why
    for name, p in value.items():
        if len(name) > MAX_EVENT_TEXT or "\x00" in name:
            return None, f"class {name[:60]!r} is not storable text"
        if isinstance(p, bool) or not isinstance(p, int | float) or not math.isfinite(p):
            return None, f"the probability of class {name[:60]!r} is not a number"
        if not 0.0 <= p <= 1.0:
            return None, f"the probability of class {name[:60]!r} is outside [0, 1]"
    total = math.fsum(float(p) for p in value.values())
    if abs(total - 1.0) > SCORES_SUM_TOLERANCE:
        return None, f"the probabilities sum to {total:.9g}, not 1"
    return json.dumps({str(k): float(p) for k, p in value.items()}, sort_keys=True), None


def _class_scores(col: pd.Series, errors: _Errors) -> pd.Series:
    """The optional per-class probabilities (field "scores"): JSON text per row, or None.
    One check per row that sent them; rows without them cost nothing."""
    given = col.notna()
    values = pd.Series(None, index=col.index, dtype=object)
    if not given.any():
        return values
    reasons = pd.Series("", index=col.index, dtype=object)
    for index, value in col[given].items():
        values[index], why = _class_scores_problem(value)
        reasons[index] = why or ""
    errors.add((reasons != "").to_numpy(), "scores", reasons)
    return values


def features_json(features: pd.DataFrame) -> pd.Series:
    """One JSON object per row, written by pandas in one call (15 significant digits)."""
    if features.empty:
        return pd.Series("{}", index=features.index)
    text = features.to_json(orient="records", lines=True, double_precision=15, date_format="iso")
    return pd.Series(text.rstrip("\n").split("\n"), index=features.index)


def _status(fields: pd.DataFrame, errors: _Errors) -> tuple[pd.Series, pd.Series]:
    error_text = as_text(fields["error"]).fillna("")
    status = as_text(fields["status"]).str.strip().str.lower()
    errors.add(status.notna() & ~status.isin(["ok", "error"]), "status", "must be ok or error")
    default = pd.Series(np.where(error_text != "", "error", "ok"), index=fields.index)
    return status.fillna(default), error_text


def validate_predictions(batch: Batch, schema: list[dict[str, Any]]) -> Report:
    """Check every row of a prediction batch; the valid rows come back typed for storage."""
    f, errors = batch.fields, _Errors(batch.rows)
    _check_unknown(batch, errors)
    _check_keys(batch, schema, errors)
    typed = {
        spec["name"]: _check_feature(
            spec, batch.features.get(spec["name"], pd.Series(np.nan, index=f.index)), errors
        )
        for spec in schema
    }
    status, error_text = _status(f, errors)
    cache_hit, bad_cache = as_boolean(f["cache_hit"])
    errors.add(bad_cache, "cache_hit", "not a boolean", shown=f["cache_hit"])
    prediction, error_text = as_text(f["prediction"]), error_text.where(error_text != "")
    _check_text(prediction, "prediction", errors)
    _check_text(error_text, "error", errors)
    columns = {
        "request_id": _request_ids(f["request_id"], batch.rows, errors),
        "timestamp": _timestamps(f["timestamp"], errors, required=True),
        "prediction_label": prediction,
        "prediction_score": _numbers(f["score"], "score", errors, minimum=None),
        "prediction_scores": _class_scores(f["scores"], errors),
        "latency_ms": _numbers(f["latency_ms"], "latency_ms", errors, minimum=0.0),
        "status": status,
        "error": error_text.fillna(""),
        "cache_hit": cache_hit,
        "cpu": _numbers(f["cpu"], "cpu", errors, minimum=0.0),
        "memory": _numbers(f["memory"], "memory", errors, minimum=0.0),
    }
    ok = errors.valid_mask(len(batch))
    frame = pd.DataFrame(columns, index=f.index)[ok]
    frame.insert(2, "features", features_json(pd.DataFrame(typed, index=f.index)[ok]))
    return Report(received=len(batch), valid=frame, errors=errors.frame())


def validate_ground_truth(batch: Batch, *, received_at: pd.Timestamp) -> Report:
    """Check a ground-truth batch: a request_id, a label or a value, an optional timestamp
    (when absent, the outcome is dated `received_at`)."""
    f, errors = batch.fields, _Errors(batch.rows)
    _check_unknown(batch, errors)
    label = as_text(f["label"])
    _check_text(label, "label", errors)
    value = _numbers(f["value"], "value", errors, minimum=None)
    errors.add(label.isna() & f["value"].isna(), "label", "needs a label or a value")
    columns = {
        "request_id": _request_ids(f["request_id"], batch.rows, errors),
        "timestamp": _timestamps(f["timestamp"], errors, required=False).fillna(
            received_at.as_unit("us")
        ),
        "label": label,
        "value": value,
    }
    ok = errors.valid_mask(len(batch))
    return Report(
        received=len(batch), valid=pd.DataFrame(columns, index=f.index)[ok], errors=errors.frame()
    )


def refuse_before(report: Report, rows: np.ndarray, *, before: pd.Timestamp) -> Report:
    """The report with the valid rows dated before `before` (the raw-event retention horizon)
    moved to the errors: their hour's raw rows are gone and its summaries final, so storing
    them would rebuild that hour from them alone. `rows`: the batch's row numbers."""
    old = (report.valid["timestamp"] < before).to_numpy()
    if not old.any():
        return report
    errors = _Errors(rows[np.asarray(report.valid.index)])
    reason = (
        f"before {before:%Y-%m-%d %H:%M}Z: the raw events of that time were removed by "
        "retention (STEWARD_RAW_RETENTION_DAYS) and its hours' summaries are final"
    )
    errors.add(old, "timestamp", reason)
    merged = pd.concat([report.errors, errors.frame()], ignore_index=True)
    return Report(
        received=report.received,
        valid=report.valid[~old],
        errors=merged.sort_values("row", kind="stable", ignore_index=True),
    )
