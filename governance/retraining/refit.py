"""Refit a scikit-learn estimator and compare it with the one it replaces. Pure: frames and
estimators in, an estimator and figures out; no Django.

The hold-out is fixed before anything is fitted and is left out of the refit, so both
versions are scored on the very same rows they never saw (the previous version may have seen
them, when the hold-out comes from its training data; the comparison says where it came from).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics
from sklearn.base import BaseEstimator, clone

HOLDOUT_FRACTION = 0.2
HOLDOUT_SEED = 15


@dataclass(frozen=True)
class Refit:
    estimator: BaseEstimator
    comparison: dict[str, Any]
    training: pd.DataFrame  # the rows the clone was fitted on


def holdout_split(
    frame: pd.DataFrame, *, fraction: float = HOLDOUT_FRACTION, seed: int = HOLDOUT_SEED
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the rows to fit on, the hold-out): a seeded shuffle, so the same data always gives the
    same hold-out."""
    order = np.random.default_rng(seed).permutation(len(frame))
    cut = max(1, round(len(frame) * fraction)) if len(frame) > 1 else 0
    return frame.iloc[order[cut:]], frame.iloc[order[:cut]]


def align(
    rows: pd.DataFrame, like: pd.DataFrame, *, features: list[str], target: str
) -> pd.DataFrame:
    """Production rows (features and label, as stored: JSON values and label text) given the
    columns and dtypes of the training data `like`; rows that cannot be converted are dropped."""
    out = pd.DataFrame(index=rows.index)
    for column in [*features, target]:
        values = rows[column] if column in rows else pd.Series(np.nan, index=rows.index)
        kind = like[column].dtype
        if pd.api.types.is_bool_dtype(kind):
            converted = values.map(
                lambda v: v if isinstance(v, bool) else str(v).lower() in ("1", "true", "yes")
            )
        elif pd.api.types.is_numeric_dtype(kind):
            converted = pd.to_numeric(values, errors="coerce")
        else:
            converted = (
                values.astype(object)
                .where(values.notna(), None)
                .map(lambda v: v if v is None else str(v))
            )
        out[column] = converted
    out = out.dropna(subset=[target])
    return out.astype({c: like[c].dtype for c in out.columns if not out[c].isna().any()})


def scores(estimator: Any, x: pd.DataFrame, y: pd.Series, *, task: str) -> dict[str, float]:
    """The figures a model is compared by, computed by scikit-learn on (x, y)."""
    predicted = estimator.predict(x)
    if task == "regression":
        return {
            "mae": float(metrics.mean_absolute_error(y, predicted)),
            "rmse": float(np.sqrt(metrics.mean_squared_error(y, predicted))),
            "r2": float(metrics.r2_score(y, predicted)),
        }
    found: dict[str, float] = {
        "accuracy": float(metrics.accuracy_score(y, predicted)),
        "balanced_accuracy": float(metrics.balanced_accuracy_score(y, predicted)),
        "f1_macro": float(metrics.f1_score(y, predicted, average="macro")),
    }
    if task == "binary" and hasattr(estimator, "predict_proba") and y.nunique() == 2:
        positive = list(estimator.classes_).index(estimator.classes_[-1])
        found["roc_auc"] = float(
            metrics.roc_auc_score(
                y == estimator.classes_[-1], estimator.predict_proba(x)[:, positive]
            )
        )
    return found


# Lower is better for these; higher for every other figure.
LOWER_IS_BETTER = frozenset({"mae", "rmse"})


def compare(previous: dict[str, float], candidate: dict[str, float]) -> list[dict[str, Any]]:
    """One row per figure: both values, the change and whether the candidate is better."""
    rows = []
    for name in sorted(set(previous) & set(candidate)):
        change = candidate[name] - previous[name]
        better = change < 0 if name in LOWER_IS_BETTER else change > 0
        rows.append(
            {
                "name": name,
                "previous": previous[name],
                "candidate": candidate[name],
                "change": change,
                "better": bool(better) if change else None,
            }
        )
    return rows


def refit(
    previous: Any,
    *,
    original: pd.DataFrame,
    production: pd.DataFrame,
    holdout: pd.DataFrame | None,
    features: list[str],
    target: str,
    task: str,
) -> Refit:
    """Clone `previous` (same estimator, same parameters, unfitted), fit the clone on the
    original training rows plus the labelled production rows, and score both on the hold-out:
    `holdout` when given (the version's validation data), else a seeded share of `original`
    that the clone is not fitted on."""
    source = "validation dataset"
    if holdout is None:
        original, holdout = holdout_split(original)
        source = f"{HOLDOUT_FRACTION:.0%} of the original training data (seed {HOLDOUT_SEED})"
    if holdout.empty:
        raise ValueError("no hold-out rows to compare the versions on")
    combined = pd.concat([original[[*features, target]], production], ignore_index=True)
    candidate = clone(previous)
    candidate.fit(combined[features], combined[target])
    x, y = holdout[features], holdout[target]
    before = scores(previous, x, y, task=task)
    after = scores(candidate, x, y, task=task)
    return Refit(
        estimator=candidate,
        training=combined,
        comparison={
            "holdout": {"source": source, "rows": len(holdout)},
            "rows": {
                "original": len(original),
                "production": len(production),
                "total": len(combined),
            },
            "previous": before,
            "candidate": after,
            "metrics": compare(before, after),
        },
    )
