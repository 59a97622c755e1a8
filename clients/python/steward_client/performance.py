"""Mergeable performance counts of an hour: what a day's performance is computed from when
hours arrive as summaries (docs/monitoring.md, "Sending summaries instead of events").

One hour's performance is a JSON-safe dict whose parts add up when hours are merged. Steward
builds the same dict from a day's raw events joined with ground truth (`performance_counts`),
so a day fed partly raw and partly as summaries merges both:

- classification: `{"labelled": n, "confusion": {actual: {predicted: count}}}`, the rows with
  ground truth and, of those, the decided ones by true and predicted label (as text). A binary
  model whose labelled rows all carry a score adds `"scores": {"positive": [...], "negative":
  [...], "log_loss_sum": x}`: the rows of each true class per equal-width score bin of [0, 1]
  (`AUC_BINS` bins, as the label-free estimates bin them) and the sum of the rows' log losses.
  A multiclass model whose decided labelled rows all carry every class's probability
  (`prediction_scores`, {class: probability}) adds `"class_scores": {class: {"positive": [...],
  "negative": [...]}}`: per class, the rows of that true class and of the others per score
  bin of its probability (a class a row leaves out scores 0), for macro one-vs-rest ROC AUC.
- regression: `{"labelled": n, "errors": {"n", "abs_sum", "squared_sum", "ape_sum",
  "value_sum", "value_m2"}}`: over the rows with both a true value and a score, the sums of
  |error|, error², |error| / max(|value|, eps), of the true values, and their sum of squared
  deviations from their mean (merged as Chan et al. merge variances).

Predicted labels follow Steward's raw rule: for a binary model, `score >= threshold` when
every labelled row has a score (the positive label, else "not <positive label>"), the sent
labels when every one has a label, and nothing (no "confusion": the day cannot be scored, as
with raw rows) otherwise; for a multiclass model the sent labels of the rows that have one.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, TypeGuard

import numpy as np
import pandas as pd

AUC_BINS = 200
EPS = float(np.finfo(np.float64).eps)
BINARY, MULTICLASS, REGRESSION = "binary", "multiclass", "regression"


def negative_label(positive: str) -> str:
    """The predicted label written for a score below the threshold."""
    return f"not {positive}"


def score_bins(scores: Any) -> np.ndarray:
    """The bin of each score: equal-width bins of [0, 1], scores outside clipped to it."""
    values = np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0)
    bins: np.ndarray = np.minimum((values * AUC_BINS).astype(np.int64), AUC_BINS - 1)
    return bins


def confusion_counts(truth: Any, predicted: Any) -> dict[str, dict[str, int]]:
    """{actual: {predicted: count}} of the pairs (labels as text)."""
    pairs = Counter(zip(map(str, truth), map(str, predicted), strict=True))
    confusion: dict[str, dict[str, int]] = {}
    for (actual, guess), count in sorted(pairs.items()):
        confusion.setdefault(actual, {})[guess] = int(count)
    return confusion


def score_counts(is_positive: Any, scores: Any) -> dict[str, Any]:
    """Per-bin counts of each true class and the summed log loss (sklearn's clipping)."""
    truth = np.asarray(is_positive, dtype=bool)
    p = np.asarray(scores, dtype=np.float64)
    bins = score_bins(p)
    losses = np.where(truth, np.log(np.clip(p, EPS, 1 - EPS)), np.log(np.clip(1 - p, EPS, 1 - EPS)))
    return {
        "positive": np.bincount(bins[truth], minlength=AUC_BINS).tolist(),
        "negative": np.bincount(bins[~truth], minlength=AUC_BINS).tolist(),
        "log_loss_sum": float(-losses.sum()),
    }


def class_score_counts(truth: Any, class_scores: Any) -> dict[str, dict[str, list[int]]]:
    """Per class named in any row of `class_scores` (one {class: probability} per row), the
    rows whose true label is that class ("positive") and the others per score bin."""
    labels = np.asarray([str(t) for t in truth], dtype=object)
    rows = list(class_scores)
    classes = sorted({str(k) for row in rows for k in row})
    result: dict[str, dict[str, list[int]]] = {}
    for k in classes:
        bins = score_bins([float(row.get(k, 0.0)) for row in rows] if rows else [])
        positive = labels == k
        result[k] = {
            "positive": np.bincount(bins[positive], minlength=AUC_BINS).tolist(),
            "negative": np.bincount(bins[~positive], minlength=AUC_BINS).tolist(),
        }
    return result


def error_counts(values: Any, predictions: Any) -> dict[str, Any]:
    """The additive error sums of a regression's rows (see the module docstring)."""
    truth = np.asarray(values, dtype=np.float64)
    residuals = truth - np.asarray(predictions, dtype=np.float64)
    mean = float(truth.mean()) if truth.size else 0.0
    return {
        "n": int(truth.size),
        "abs_sum": float(np.abs(residuals).sum()),
        "squared_sum": float(np.square(residuals).sum()),
        "ape_sum": float((np.abs(residuals) / np.maximum(np.abs(truth), EPS)).sum()),
        "value_sum": float(truth.sum()),
        "value_m2": float(np.square(truth - mean).sum()),
    }


def _text(values: pd.Series) -> pd.Series:
    return values.where(values.isna(), values.astype(str))


def performance_counts(
    task: str,
    rows: pd.DataFrame,
    *,
    positive: str = "1",
    threshold: float = 0.5,
) -> dict[str, Any]:
    """The counts of rows with ground truth. `rows` has the columns `label` and / or `value`
    (the truth), `prediction_label` and `prediction_score`; rows with neither truth are left
    out. `positive` and `threshold` are the deployment's (binary models)."""
    truth_label = rows["label"] if "label" in rows else pd.Series(None, index=rows.index)
    truth_value = rows["value"] if "value" in rows else pd.Series(None, index=rows.index)
    labelled = rows[truth_label.notna() | truth_value.notna()]
    counts: dict[str, Any] = {"labelled": len(labelled)}
    label = _text(labelled["prediction_label"]) if "prediction_label" in labelled else None
    score = labelled.get("prediction_score", None)
    if task == REGRESSION:
        usable = truth_value.loc[labelled.index].notna()
        if score is not None:
            usable &= score.notna()
            counts["errors"] = error_counts(
                truth_value.loc[labelled.index][usable], score[usable].astype(float)
            )
        else:
            counts["errors"] = error_counts([], [])
        return counts
    classified = labelled[truth_label.loc[labelled.index].notna()]
    truth = truth_label.loc[classified.index].astype(str)
    if task == MULTICLASS:
        if label is None:
            counts["confusion"] = {}
            return counts
        decided = label.loc[classified.index].notna()
        counts["confusion"] = confusion_counts(truth[decided], label.loc[classified.index][decided])
        per_class = labelled.get("prediction_scores", None)
        if per_class is not None and decided.any():
            given = per_class.loc[classified.index][decided]
            if given.map(lambda v: isinstance(v, dict)).all():
                counts["class_scores"] = class_score_counts(truth[decided], given)
        return counts
    scores = None if score is None else score.loc[classified.index]
    if scores is not None and scores.notna().all():
        values = scores.to_numpy(dtype=np.float64)
        predicted = np.where(values >= threshold, positive, negative_label(positive))
        counts["confusion"] = confusion_counts(truth, predicted)
        if len(values):
            counts["scores"] = score_counts((truth == positive).to_numpy(), values)
    elif label is not None and label.loc[classified.index].notna().all():
        counts["confusion"] = confusion_counts(truth, label.loc[classified.index])
    elif classified.empty:
        counts["confusion"] = {}
    return counts


def _merge_errors(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    n = a["n"] + b["n"]
    merged = {key: a[key] + b[key] for key in ("abs_sum", "squared_sum", "ape_sum", "value_sum")}
    m2 = a["value_m2"] + b["value_m2"]
    if a["n"] and b["n"]:
        delta = b["value_sum"] / b["n"] - a["value_sum"] / a["n"]
        m2 += delta * delta * a["n"] * b["n"] / n
    return {"n": n, **merged, "value_m2": m2}


def _merge_confusion(
    a: dict[str, dict[str, int]], b: dict[str, dict[str, int]]
) -> dict[str, dict[str, int]]:
    merged = {actual: dict(row) for actual, row in a.items()}
    for actual, row in b.items():
        target = merged.setdefault(actual, {})
        for guess, count in row.items():
            target[guess] = target.get(guess, 0) + count
    return merged


def _add(a: list[int], b: list[int]) -> list[int]:
    return [x + y for x, y in zip(a, b, strict=True)]


def merge_performance(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any] | None:
    """Two hours' (or days') counts merged. A part present on one side only is dropped: the
    merged rows can no longer be scored by it (e.g. scores of some hours but not others),
    except where the side without it has no labelled rows at all."""
    if a is None or b is None:
        return a if b is None else b
    if not b["labelled"]:
        return a
    if not a["labelled"]:
        return b
    merged: dict[str, Any] = {"labelled": a["labelled"] + b["labelled"]}
    if "confusion" in a and "confusion" in b:
        merged["confusion"] = _merge_confusion(a["confusion"], b["confusion"])
    if "scores" in a and "scores" in b:
        merged["scores"] = {
            "positive": _add(a["scores"]["positive"], b["scores"]["positive"]),
            "negative": _add(a["scores"]["negative"], b["scores"]["negative"]),
            "log_loss_sum": a["scores"]["log_loss_sum"] + b["scores"]["log_loss_sum"],
        }
    if "errors" in a and "errors" in b:
        merged["errors"] = _merge_errors(a["errors"], b["errors"])
    if "class_scores" in a and "class_scores" in b and "confusion" in merged:
        merged["class_scores"] = _merge_class_scores(a, b)
    return merged


def _class_bins(counts: dict[str, Any], k: str) -> dict[str, list[int]]:
    """The class's bins of one side; a class that side never named scored 0 on all its rows,
    which its confusion counts place (true class k: positive, else negative) in bin 0."""
    if k in counts["class_scores"]:
        bins: dict[str, list[int]] = counts["class_scores"][k]
        return bins
    confusion = counts["confusion"]
    positive = sum(confusion.get(k, {}).values())
    total = sum(sum(row.values()) for row in confusion.values())
    first = [0] * AUC_BINS
    return {"positive": [positive, *first[1:]], "negative": [total - positive, *first[1:]]}


def _merge_class_scores(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    classes = sorted(set(a["class_scores"]) | set(b["class_scores"]))
    return {
        k: {
            part: _add(_class_bins(a, k)[part], _class_bins(b, k)[part])
            for part in ("positive", "negative")
        }
        for k in classes
    }


def merge_all_performance(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Every item merged in order (None for none)."""
    merged: dict[str, Any] | None = None
    for item in items:
        merged = merge_performance(merged, item)
    return merged


def finite(value: Any) -> TypeGuard[float]:
    """A JSON number that is finite (bools are not numbers here)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
