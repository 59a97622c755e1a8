"""Performance metrics of a window, from arrays of ground truth and predictions.

Each metric equals scikit-learn's (or scipy's) where one exists, with the same conventions:
precision, recall and F1 are 0 when undefined (sklearn's zero_division result); log loss
clips probabilities to [eps, 1 - eps] with eps the float64 machine epsilon; R2 of a constant
truth is 1 for a perfect prediction and 0 otherwise; MAPE divides by max(|y|, eps). A metric
that cannot be computed (ROC AUC with one class present) is None rather than an exception,
since a monitoring window may legitimately hold one class.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from monitoring.engines.estimation import auc_from_bins
from monitoring.engines.univariate import ks_statistic_sorted

EPS = float(np.finfo(np.float64).eps)


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else 0.0


# --- binary classification --------------------------------------------------------------------


def confusion(y_true: Any, y_pred: Any, *, positive: Any = 1) -> tuple[int, int, int, int]:
    """(true positives, false positives, false negatives, true negatives)."""
    truth = np.asarray(y_true) == positive
    predicted = np.asarray(y_pred) == positive
    tp = int(np.count_nonzero(truth & predicted))
    fp = int(np.count_nonzero(~truth & predicted))
    fn = int(np.count_nonzero(truth & ~predicted))
    return tp, fp, fn, int(truth.size - tp - fp - fn)


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Share of exact matches (sklearn.metrics.accuracy_score), any number of classes."""
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def precision(y_true: Any, y_pred: Any, *, positive: Any = 1) -> float:
    tp, fp, _, _ = confusion(y_true, y_pred, positive=positive)
    return _ratio(tp, tp + fp)


def recall(y_true: Any, y_pred: Any, *, positive: Any = 1) -> float:
    tp, _, fn, _ = confusion(y_true, y_pred, positive=positive)
    return _ratio(tp, tp + fn)


def f1(y_true: Any, y_pred: Any, *, positive: Any = 1) -> float:
    """2 tp / (2 tp + fp + fn), sklearn's f1_score for the positive label."""
    tp, fp, fn, _ = confusion(y_true, y_pred, positive=positive)
    return _ratio(2 * tp, 2 * tp + fp + fn)


def roc_auc(y_true: Any, scores: Any, *, positive: Any = 1) -> float | None:
    """ROC AUC as the Mann-Whitney U of the positive scores over n_pos * n_neg (ties count
    one half), equal to sklearn's roc_auc_score; None with a single class."""
    truth = np.asarray(y_true) == positive
    n_pos = int(np.count_nonzero(truth))
    n_neg = truth.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = stats.rankdata(np.asarray(scores, dtype=np.float64))
    return float((ranks[truth].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def gini_norm(y_true: Any, scores: Any, *, positive: Any = 1) -> float | None:
    """Normalised Gini coefficient, 2 * AUC - 1."""
    auc = roc_auc(y_true, scores, positive=positive)
    return None if auc is None else 2 * auc - 1


def log_loss(y_true: Any, probabilities: Any, *, positive: Any = 1) -> float:
    """Mean binary cross-entropy of the positive-class probability (natural log), with
    sklearn's clipping of p and 1 - p to [eps, 1 - eps]."""
    truth = np.asarray(y_true) == positive
    p = np.asarray(probabilities, dtype=np.float64)
    p_pos = np.clip(p, EPS, 1 - EPS)
    p_neg = np.clip(1 - p, EPS, 1 - EPS)
    return float(-np.mean(np.where(truth, np.log(p_pos), np.log(p_neg))))


def ks_score(y_true: Any, scores: Any, *, positive: Any = 1) -> float | None:
    """KS statistic between the score distributions of the two classes, equal to
    scipy.stats.ks_2samp(positive scores, negative scores).statistic; None with one class."""
    truth = np.asarray(y_true) == positive
    values = np.asarray(scores, dtype=np.float64)
    if truth.all() or not truth.any():
        return None
    return ks_statistic_sorted(np.sort(values[truth]), np.sort(values[~truth]))


def binary_metrics(
    y_true: Any,
    *,
    y_pred: Any = None,
    scores: Any = None,
    threshold: float = 0.5,
    positive: Any = 1,
) -> dict[str, float | None]:
    """All binary metrics of a window. Labels are `y_pred`, or `scores >= threshold` (the
    deployment's decision threshold); score-based metrics need `scores`."""
    if y_pred is None and scores is None:
        raise ValueError("binary metrics need predicted labels or scores")
    truth = np.asarray(y_true) == positive
    predicted = (
        np.asarray(scores, dtype=np.float64) >= threshold
        if y_pred is None
        else np.asarray(y_pred) == positive
    )
    result: dict[str, float | None] = {
        "n": int(truth.size),
        "accuracy": accuracy(truth, predicted),
        "precision": precision(truth, predicted, positive=True),
        "recall": recall(truth, predicted, positive=True),
        "f1": f1(truth, predicted, positive=True),
    }
    if scores is not None:
        result["roc_auc"] = roc_auc(truth, scores, positive=True)
        result["gini_norm"] = gini_norm(truth, scores, positive=True)
        result["log_loss"] = log_loss(truth, scores, positive=True)
        result["ks"] = ks_score(truth, scores, positive=True)
    return result


# --- multiclass -------------------------------------------------------------------------------


def macro_f1(y_true: Any, y_pred: Any) -> float:
    """Unweighted mean of the per-label F1 over the labels of either array, sklearn's
    f1_score(average="macro")."""
    truth, predicted = np.asarray(y_true), np.asarray(y_pred)
    labels = np.union1d(truth, predicted)
    return float(np.mean([f1(truth, predicted, positive=label) for label in labels]))


def multiclass_log_loss(y_true: Any, probabilities: Any, *, labels: Any = None) -> float:
    """Mean -ln p(true class) with probabilities clipped to [eps, 1 - eps]; the columns of
    `probabilities` follow `labels` (default: the sorted labels of `y_true`), as in sklearn."""
    truth = np.asarray(y_true)
    matrix = np.asarray(probabilities, dtype=np.float64)
    classes = np.unique(truth) if labels is None else np.asarray(labels)
    if classes.size != matrix.shape[1]:
        raise ValueError(f"{matrix.shape[1]} probability columns for {classes.size} classes")
    order = np.argsort(classes)
    column = order[np.searchsorted(classes[order], truth)]
    chosen = np.clip(matrix, EPS, 1 - EPS)[np.arange(truth.size), column]
    return float(-np.mean(np.log(chosen)))


def multiclass_roc_auc(y_true: Any, class_scores: Mapping[str, Any]) -> float | None:
    """Macro one-vs-rest ROC AUC: the mean over the classes of `class_scores` ({class: each
    row's probability of it}) of `roc_auc(y == class, its scores)`, leaving out classes that
    are all or none of the rows; equal to sklearn's roc_auc_score(y, P, multi_class="ovr",
    average="macro") when every class occurs. None when no class can be scored."""
    truth = np.asarray(y_true).astype(str)
    aucs = [
        auc
        for k, scores in class_scores.items()
        if (auc := roc_auc(truth == str(k), scores, positive=True)) is not None
    ]
    return float(np.mean(aucs)) if aucs else None


def multiclass_metrics(
    y_true: Any,
    y_pred: Any,
    *,
    probabilities: Any = None,
    labels: Any = None,
    class_scores: Mapping[str, Any] | None = None,
) -> dict[str, float | None]:
    """Accuracy and macro F1; log loss with `probabilities`; macro one-vs-rest ROC AUC with
    `class_scores` ({class: each row's probability of it})."""
    result: dict[str, float | None] = {
        "n": int(np.asarray(y_true).size),
        "accuracy": accuracy(y_true, y_pred),
        "macro_f1": macro_f1(y_true, y_pred),
    }
    if probabilities is not None:
        result["log_loss"] = multiclass_log_loss(y_true, probabilities, labels=labels)
    if class_scores is not None:
        result["roc_auc"] = multiclass_roc_auc(y_true, class_scores)
    return result


# --- regression -------------------------------------------------------------------------------


def _residuals(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    truth = np.asarray(y_true, dtype=np.float64)
    return truth, truth - np.asarray(y_pred, dtype=np.float64)


def mae(y_true: Any, y_pred: Any) -> float:
    return float(np.mean(np.abs(_residuals(y_true, y_pred)[1])))


def rmse(y_true: Any, y_pred: Any) -> float:
    return float(np.sqrt(np.mean(np.square(_residuals(y_true, y_pred)[1]))))


def r2(y_true: Any, y_pred: Any) -> float:
    """1 - SS_res / SS_tot (sklearn's r2_score with force_finite)."""
    truth, residuals = _residuals(y_true, y_pred)
    ss_res = float(np.sum(np.square(residuals)))
    ss_tot = float(np.sum(np.square(truth - truth.mean())))
    if ss_tot == 0:
        return 1.0 if ss_res == 0 else 0.0
    return 1.0 - ss_res / ss_tot


def mape(y_true: Any, y_pred: Any) -> float:
    """Mean of |y - y_hat| / max(|y|, eps), a fraction (not percent), as sklearn."""
    truth, residuals = _residuals(y_true, y_pred)
    return float(np.mean(np.abs(residuals) / np.maximum(np.abs(truth), EPS)))


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float | None]:
    return {
        "n": int(np.asarray(y_true).size),
        "mae": mae(y_true, y_pred),
        "rmse": rmse(y_true, y_pred),
        "r2": r2(y_true, y_pred),
        "mape": mape(y_true, y_pred),
    }


# --- from merged counts (hours posted as summaries) ---------------------------------------------


def _binary_from_confusion(confusion: Mapping[str, Mapping[str, int]], positive: str) -> list[int]:
    """[tp, fp, fn, tn] of a confusion mapping, a label counting as positive when it is
    `positive`."""
    cells = [0, 0, 0, 0]
    for actual, row in confusion.items():
        for predicted, count in row.items():
            truth, guess = actual == positive, predicted == positive
            cells[(0 if truth else 1) if guess else (2 if truth else 3)] += count
    return cells


def ks_from_bins(positive: Sequence[float], negative: Sequence[float]) -> float | None:
    """The largest gap between the two classes' binned score CDFs, over the bin boundaries (a
    lower bound of the exact KS statistic); None when either class is empty."""
    pos, neg = np.asarray(positive, dtype=np.float64), np.asarray(negative, dtype=np.float64)
    if pos.sum() <= 0 or neg.sum() <= 0:
        return None
    return float(np.abs(np.cumsum(pos) / pos.sum() - np.cumsum(neg) / neg.sum()).max())


def binary_metrics_from_counts(counts: Mapping[str, Any], *, positive: str) -> dict[str, Any]:
    """`binary_metrics` of merged hours: accuracy, precision, recall and F1 from the confusion
    counts (exact); with score bins, ROC AUC and Gini from the bins (ties within a bin count
    one half, see docs/monitoring.md for the bound), KS over the bin boundaries and the exact
    mean log loss."""
    tp, fp, fn, tn = _binary_from_confusion(counts["confusion"], positive)
    n = tp + fp + fn + tn
    if n == 0:
        return {}
    result: dict[str, Any] = {
        "n": n,
        "accuracy": (tp + tn) / n,
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
    }
    scores = counts.get("scores")
    if scores is not None:
        auc = auc_from_bins(scores["positive"], scores["negative"])
        result["roc_auc"] = auc
        result["gini_norm"] = None if auc is None else 2 * auc - 1
        result["log_loss"] = scores["log_loss_sum"] / n
        result["ks"] = ks_from_bins(scores["positive"], scores["negative"])
    return result


def multiclass_metrics_from_counts(counts: Mapping[str, Any]) -> dict[str, Any]:
    """Accuracy and macro F1 over the labels that occur as true or predicted (as
    `multiclass_metrics` on the rows), from the confusion counts."""
    confusion = counts["confusion"]
    true_total: dict[str, int] = {}
    predicted_total: dict[str, int] = {}
    hits: dict[str, int] = {}
    for actual, row in confusion.items():
        for predicted, count in row.items():
            true_total[actual] = true_total.get(actual, 0) + count
            predicted_total[predicted] = predicted_total.get(predicted, 0) + count
            if actual == predicted:
                hits[actual] = hits.get(actual, 0) + count
    n = sum(true_total.values())
    if n == 0:
        return {}
    labels = sorted(
        {label for label, total in true_total.items() if total}
        | {label for label, total in predicted_total.items() if total}
    )
    scores = [
        _ratio(
            2 * hits.get(label, 0),
            true_total.get(label, 0) + predicted_total.get(label, 0),
        )
        for label in labels
    ]
    result: dict[str, Any] = {
        "n": n,
        "accuracy": sum(hits.values()) / n,
        "macro_f1": float(np.mean(scores)),
    }
    if "class_scores" in counts:
        result["roc_auc"] = multiclass_auc_from_bins(counts["class_scores"])
    return result


def multiclass_auc_from_bins(class_scores: Mapping[str, Mapping[str, Any]]) -> float | None:
    """Macro one-vs-rest ROC AUC of per-class score bins ({class: {"positive": [...],
    "negative": [...]}}, as `steward_client.performance.class_score_counts` writes them):
    the mean of `auc_from_bins` over the classes with rows of both kinds."""
    aucs = [
        auc
        for bins in class_scores.values()
        if (auc := auc_from_bins(bins["positive"], bins["negative"])) is not None
    ]
    return float(np.mean(aucs)) if aucs else None


def regression_metrics_from_counts(counts: Mapping[str, Any]) -> dict[str, Any]:
    """MAE, RMSE, R² and MAPE of merged error sums (as `regression_metrics` on the rows)."""
    errors = counts["errors"]
    n = errors["n"]
    if n == 0:
        return {}
    ss_res, ss_tot = errors["squared_sum"], errors["value_m2"]
    r2_value = (1.0 if ss_res == 0 else 0.0) if ss_tot == 0 else 1.0 - ss_res / ss_tot
    return {
        "n": n,
        "mae": errors["abs_sum"] / n,
        "rmse": math.sqrt(ss_res / n),
        "r2": r2_value,
        "mape": errors["ape_sum"] / n,
    }


def metrics_from_counts(
    task: str, counts: Mapping[str, Any] | None, *, positive: str
) -> dict[str, Any]:
    """The task's metrics of merged performance counts (`steward_client.performance`); an
    empty dict when the counts cannot be scored (no confusion or errors part)."""
    if counts is None:
        return {}
    if task == "regression":
        return regression_metrics_from_counts(counts) if "errors" in counts else {}
    if "confusion" not in counts:
        return {}
    if task == "multiclass":
        return multiclass_metrics_from_counts(counts)
    return binary_metrics_from_counts(counts, positive=positive)


# --- fairness ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupRates:
    group: str
    n: int
    selection_rate: float
    accuracy: float


@dataclass(frozen=True)
class FairnessReport:
    """Per-group rates for one sensitive attribute. Demographic-parity difference is the
    largest minus the smallest selection rate; the disparate-impact ratio is the smallest over
    the largest (None when no group is ever selected); 0.8 is the usual "four-fifths" bar."""

    groups: tuple[GroupRates, ...]
    demographic_parity_difference: float
    disparate_impact_ratio: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "groups": [vars(g) for g in self.groups],
            "demographic_parity_difference": self.demographic_parity_difference,
            "disparate_impact_ratio": self.disparate_impact_ratio,
        }


def fairness(y_true: Any, y_pred: Any, groups: Any, *, positive: Any = 1) -> FairnessReport:
    """Selection rate (share predicted `positive`) and accuracy per group (missing group values
    form their own group "None")."""
    frame = pd.DataFrame(
        {
            "group": pd.Series(np.asarray(groups, dtype=object)).astype(str),
            "selected": np.asarray(y_pred) == positive,
            "correct": np.asarray(y_true) == np.asarray(y_pred),
        }
    )
    stats_by_group = frame.groupby("group", sort=True).agg(
        n=("selected", "size"), selection_rate=("selected", "mean"), accuracy=("correct", "mean")
    )
    rates = tuple(
        GroupRates(str(name), int(row.n), float(row.selection_rate), float(row.accuracy))
        for name, row in stats_by_group.iterrows()
    )
    selection = stats_by_group["selection_rate"].to_numpy()
    if selection.size == 0:
        raise ValueError("fairness needs at least one row")
    top = float(selection.max())
    return FairnessReport(
        groups=rates,
        demographic_parity_difference=top - float(selection.min()),
        disparate_impact_ratio=float(selection.min()) / top if top > 0 else None,
    )


# --- windows ----------------------------------------------------------------------------------


def epoch_seconds(timestamps: Any) -> np.ndarray:
    """Timestamps (datetime64, pandas datetimes, or numbers of seconds) as float seconds."""
    values = np.asarray(timestamps)
    if np.issubdtype(values.dtype, np.datetime64):
        return values.astype("datetime64[ns]").astype(np.int64) / 1e9
    if values.dtype == object:
        nanoseconds: np.ndarray = pd.to_datetime(values, utc=True).to_numpy().astype(np.int64)
        return nanoseconds / 1e9
    return values.astype(np.float64)


def by_window(
    timestamps: Any,
    window_seconds: float,
    compute: Callable[[np.ndarray], dict[str, Any]],
) -> list[tuple[float, dict[str, Any]]]:
    """[(window start in epoch seconds, compute(row indices))] for every window holding rows,
    windows aligned on multiples of `window_seconds` (86,400 for days, UTC)."""
    seconds = epoch_seconds(timestamps)
    window = np.floor(seconds / window_seconds).astype(np.int64)
    order = np.argsort(window, kind="stable")
    starts, first = np.unique(window[order], return_index=True)
    chunks = np.split(order, first[1:])
    return [
        (float(s * window_seconds), compute(rows)) for s, rows in zip(starts, chunks, strict=True)
    ]
