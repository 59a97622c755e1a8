"""What a trained estimator and its data tell the registry: the input schema from the frame,
metrics on the validation data, hyper-parameters and feature importance. Needs the `ml`
extra (numpy, pandas, scikit-learn), imported only when used."""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

MAX_CATEGORIES = 200  # a text column with more distinct values is free text, not a category


def as_frame(X: Any, names: Sequence[str] | None = None) -> Any:
    """A pandas DataFrame of `X` (a frame, an array or a list of rows)."""
    import pandas as pd

    if isinstance(X, pd.DataFrame):
        return X
    frame = pd.DataFrame(X)
    frame.columns = list(names) if names else [f"x{i}" for i in range(frame.shape[1])]
    return frame


def input_schema(frame: Any) -> list[dict[str, Any]]:
    """The registry's input schema of a frame: numeric, integer, boolean, datetime, or a
    categorical with its categories (text with many distinct values is `text`)."""
    import pandas as pd

    schema = []
    for name in frame.columns:
        column = frame[name]
        feature: dict[str, Any] = {"name": str(name)}
        if pd.api.types.is_bool_dtype(column):
            feature["type"] = "boolean"
        elif pd.api.types.is_integer_dtype(column):
            feature["type"] = "integer"
        elif pd.api.types.is_numeric_dtype(column):
            feature["type"] = "numeric"
        elif pd.api.types.is_datetime64_any_dtype(column):
            feature["type"] = "datetime"
        else:
            values = sorted({str(v) for v in column.dropna().unique()})
            if len(values) <= MAX_CATEGORIES:
                feature.update(type="categorical", categories=values)
            else:
                feature["type"] = "text"
        schema.append(feature)
    return schema


def task_of(estimator: Any, y: Any) -> str:
    """binary, multiclass or regression, from the estimator and its target."""
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        return "regression"
    return "binary" if len(classes) == 2 else "multiclass"


def metrics(estimator: Any, X: Any, y: Any) -> dict[str, float]:
    """Metrics on held-out data: accuracy, F1, ROC AUC, log loss for classifiers; MAE, RMSE,
    R2 for regressors (only finite values)."""
    from sklearn import metrics as m

    predicted = estimator.predict(X)
    if getattr(estimator, "classes_", None) is None:
        mse = float(m.mean_squared_error(y, predicted))
        values = {
            "mae": float(m.mean_absolute_error(y, predicted)),
            "rmse": math.sqrt(mse),
            "r2": float(m.r2_score(y, predicted)),
        }
    else:
        binary = len(estimator.classes_) == 2
        values = {
            "accuracy": float(m.accuracy_score(y, predicted)),
            "f1": float(
                m.f1_score(
                    y,
                    predicted,
                    average="binary" if binary else "macro",
                    pos_label=estimator.classes_[1] if binary else 1,
                )
            ),
        }
        if hasattr(estimator, "predict_proba"):
            proba = estimator.predict_proba(X)
            if binary:
                values["roc_auc"] = float(m.roc_auc_score(y, proba[:, 1]))
            else:
                values["roc_auc"] = float(
                    m.roc_auc_score(y, proba, multi_class="ovr", labels=estimator.classes_)
                )
            values["log_loss"] = float(m.log_loss(y, proba, labels=estimator.classes_))
    return {k: v for k, v in values.items() if math.isfinite(v)}


def hyperparameters(estimator: Any) -> dict[str, Any]:
    """`get_params(deep=False)` as JSON: numbers, text, booleans and None kept, the rest as text."""
    params = estimator.get_params(deep=False) if hasattr(estimator, "get_params") else {}
    clean: dict[str, Any] = {}
    for key, value in params.items():
        if value is None or isinstance(value, bool | int | str):
            clean[key] = value
        elif isinstance(value, float):
            clean[key] = value if math.isfinite(value) else str(value)
        else:
            clean[key] = repr(value)[:500]
    return clean


def feature_importance(estimator: Any, names: Sequence[str]) -> dict[str, float]:
    """`feature_importances_`, or the absolute coefficients (mean over classes), by feature."""
    import numpy as np

    values = getattr(estimator, "feature_importances_", None)
    if values is None:
        coef = getattr(estimator, "coef_", None)
        if coef is None:
            return {}
        array = np.abs(np.asarray(coef, dtype=float))
        values = array.mean(axis=0) if array.ndim == 2 else array
    values = np.asarray(values, dtype=float)
    if len(values) != len(names):
        return {}
    return {str(n): float(v) for n, v in zip(names, values, strict=True) if math.isfinite(v)}


def table_csv(X: Any, y: Any | None, target: str) -> bytes:
    """A frame (with its target column) as CSV bytes for a dataset upload."""
    frame = X.copy()
    if y is not None:
        frame[target] = list(y)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def client_key(*parts: bytes | str | Mapping[str, Any] | None) -> str:
    """A key that names the same registration: a digest of what went into it."""
    digest = hashlib.sha256()
    for part in parts:
        if part is None:
            digest.update(b"\x00")
        elif isinstance(part, bytes):
            digest.update(hashlib.sha256(part).digest())
        elif isinstance(part, str):
            digest.update(hashlib.sha256(part.encode()).digest())
        else:
            digest.update(json.dumps(part, sort_keys=True, default=str).encode())
    return f"sha256:{digest.hexdigest()}"
