"""The model card's quantitative analysis: metrics with confidence intervals computed from a
validation table, and per-group rates where a sensitive attribute is set. Pure: no Django.

Proportions (accuracy, a group's accuracy and selection rate) take the Wilson score interval,
which stays inside [0, 1] and behaves at small n and near 0 or 1 (scipy's
`binomtest(...).proportion_ci(method="wilson")` gives the same bounds). Regression errors take a
Student-t interval on the mean absolute error (scipy's `t.interval` on the absolute errors).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from monitoring.engines import metrics

CONFIDENCE = 0.95
METHOD_WILSON = "Wilson score interval"
METHOD_T = "Student-t interval on the mean absolute error"


def wilson(successes: int, n: int, *, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The Wilson score interval of a proportion `successes / n`."""
    if n <= 0:
        raise ValueError("a proportion needs at least one trial")
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_interval(values: Any, *, confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """A Student-t interval of the mean of `values` (None under two values)."""
    data = np.asarray(values, dtype=float)
    if data.size < 2:
        return None
    mean = float(data.mean())
    sem = float(data.std(ddof=1)) / math.sqrt(data.size)
    if sem == 0:
        return mean, mean
    half = float(stats.t.ppf(0.5 + confidence / 2, data.size - 1)) * sem
    return mean - half, mean + half


def _proportion(name: str, successes: int, n: int) -> dict[str, Any]:
    low, high = wilson(successes, n)
    return {
        "metric": name,
        "value": successes / n,
        "ci_low": low,
        "ci_high": high,
        "n": n,
        "method": METHOD_WILSON,
    }


def analyse(
    frame: pd.DataFrame,
    *,
    task: str,
    target: str,
    prediction: str = "prediction",
    sensitive_attribute: str = "",
    positive: Any = 1,
) -> dict[str, Any]:
    """Metrics (with 95 % intervals where one is defined) of `prediction` against `target`,
    and fairness per group of `sensitive_attribute` when it is a column (binary tasks). Rows
    missing the target or the prediction are left out and counted."""
    for column in (target, prediction):
        if column not in frame.columns:
            raise ValueError(f"the validation data has no {column!r} column")
    rows = frame.dropna(subset=[target, prediction])
    n = len(rows)
    if n == 0:
        raise ValueError("the validation data has no row with both a target and a prediction")
    y_true, y_pred = rows[target].to_numpy(), rows[prediction].to_numpy()
    result: dict[str, Any] = {
        "n": n,
        "rows_left_out": len(frame) - n,
        "confidence": CONFIDENCE,
        "metrics": [],
        "fairness": None,
    }
    if task == "regression":
        errors = np.abs(y_true.astype(float) - y_pred.astype(float))
        interval = mean_interval(errors)
        result["metrics"] = [
            {
                "metric": "mae",
                "value": float(errors.mean()),
                "ci_low": interval[0] if interval else None,
                "ci_high": interval[1] if interval else None,
                "n": n,
                "method": METHOD_T,
            },
            {"metric": "rmse", "value": metrics.rmse(y_true, y_pred), "n": n},
            {"metric": "r2", "value": metrics.r2(y_true, y_pred), "n": n},
        ]
        return result
    correct = int((y_true == y_pred).sum())
    result["metrics"] = [_proportion("accuracy", correct, n)]
    if task == "binary":
        tp, fp, fn, _tn = metrics.confusion(y_true, y_pred, positive=positive)
        if tp + fp:
            result["metrics"].append(_proportion("precision", tp, tp + fp))
        if tp + fn:
            result["metrics"].append(_proportion("recall", tp, tp + fn))
    if sensitive_attribute and sensitive_attribute in rows.columns and task == "binary":
        report = metrics.fairness(y_true, y_pred, rows[sensitive_attribute], positive=positive)
        groups = []
        for group in report.groups:
            selected = round(group.selection_rate * group.n)
            right = round(group.accuracy * group.n)
            groups.append(
                {
                    "group": group.group,
                    "n": group.n,
                    "selection_rate": _proportion("selection_rate", selected, group.n),
                    "accuracy": _proportion("accuracy", right, group.n),
                }
            )
        result["fairness"] = {
            "sensitive_attribute": sensitive_attribute,
            "groups": groups,
            "demographic_parity_difference": report.demographic_parity_difference,
            "disparate_impact_ratio": report.disparate_impact_ratio,
        }
    return result
