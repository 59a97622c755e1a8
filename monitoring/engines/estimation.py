"""Performance without labels: confidence-based performance estimation (CBPE) for classifiers
and direct loss estimation (DLE) for regressors. Pure: arrays in, numbers out; no Django.

Both work in two steps, so that an estimate is made from summaries like every other figure:

1. Per row, what the reference data says about it (the calibrated probability that the
   prediction is right; the error a small model expects), summed per hour into additive
   *counts*: expected confusion counts, sums of expected errors and their variances. Counts
   of any hours add up (`merge_counts`), so a day's or a window's counts are a sum.
2. From counts, the estimated metrics and their sampling-error bands (`*_estimate`).

Assumptions, stated wherever estimates are shown: no concept shift (P(y | x) as in the
reference data) and, for CBPE, scores that are calibrated after the reference calibration.
Bands are +-3 standard errors of the realised metric around the estimate: the sampling error
of the day's rows alone, not the error of the assumptions.

Binary classifiers send the positive class's probability as their score. Multiclass ones send
the predicted label and its probability (the top score): accuracy and precision follow from
it directly; recall and F1 also need how the mistakes of each predicted class spread over the
true classes, taken from the reference (part of the no-concept-shift assumption). When the
reference and the window also carry every class's probability, macro one-vs-rest ROC AUC is
estimated as well (`class_auc_counts`, `class_auc_estimate`): each class's score is calibrated
on the reference like a binary score, and its calibrated probability splits every score bin
into expected positives and negatives of that class.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

# Bands are the estimate +- BAND_SIGMAS standard errors (NannyML uses 3 as well).
BAND_SIGMAS = 3.0
# Scores are binned this finely for the ROC AUC of merged hours (ties within a bin count half).
AUC_BINS = 200
# Reference folds used to decide whether isotonic calibration lowers the calibration error.
CALIBRATION_FOLDS = 3
ECE_BINS = 10

Counts = dict[str, Any]
Estimate = dict[str, dict[str, float | None]]  # {metric: {"value", "lower", "upper"}}


# --- calibration ------------------------------------------------------------------------------


def calibration_error(probabilities: Any, outcomes: Any, *, bins: int = ECE_BINS) -> float:
    """Expected calibration error: the row-weighted mean |mean outcome - mean probability|
    over equal-width probability bins."""
    p = np.clip(np.asarray(probabilities, dtype=np.float64), 0.0, 1.0)
    y = np.asarray(outcomes, dtype=np.float64)
    if p.size == 0:
        return 0.0
    index = np.minimum((p * bins).astype(int), bins - 1)
    n = np.bincount(index, minlength=bins)
    gap = np.abs(np.bincount(index, y, bins) - np.bincount(index, p, bins))
    return float(gap.sum() / p.size) if n.sum() else 0.0


@dataclass(frozen=True)
class Calibration:
    """A monotone map of scores to probabilities (isotonic regression's knots) and whether it
    is used: only when it lowered the calibration error on held-out reference folds."""

    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()
    used: bool = False
    error_raw: float | None = None
    error_calibrated: float | None = None

    def apply(self, scores: Any) -> np.ndarray:
        p = np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0)
        if not self.used or not self.x:
            return p
        return np.asarray(np.interp(p, np.asarray(self.x), np.asarray(self.y)), dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "used": self.used,
            "error_raw": self.error_raw,
            "error_calibrated": self.error_calibrated,
        }


def _isotonic(scores: np.ndarray, outcomes: np.ndarray) -> Any:
    from sklearn.isotonic import IsotonicRegression

    model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    return model.fit(scores, outcomes)


def calibration_fit(scores: Any, outcomes: Any, *, seed: int = 0) -> Calibration:
    """Isotonic calibration of `scores` to the binary `outcomes` of the reference, kept only
    if its out-of-fold calibration error is lower than the raw scores' (and its out-of-fold
    Brier score no higher)."""
    p = np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0)
    y = np.asarray(outcomes, dtype=np.float64)
    if p.size < 2 * CALIBRATION_FOLDS or np.unique(y).size < 2:
        return Calibration(error_raw=calibration_error(p, y) if p.size else None)
    folds = np.random.default_rng(seed).permutation(p.size) % CALIBRATION_FOLDS
    out_of_fold = np.empty_like(p)
    for fold in range(CALIBRATION_FOLDS):
        held = folds == fold
        out_of_fold[held] = _isotonic(p[~held], y[~held]).predict(p[held])
    raw, calibrated = calibration_error(p, y), calibration_error(out_of_fold, y)
    # The binned error is noisy: where the scores are calibrated already, isotonic steps can
    # lower it by chance. The Brier score (a proper score) must not get worse either.
    brier_raw, brier_calibrated = np.mean((p - y) ** 2), np.mean((out_of_fold - y) ** 2)
    if calibrated >= raw or brier_calibrated > brier_raw:
        return Calibration(error_raw=raw, error_calibrated=calibrated)
    model = _isotonic(p, y)
    return Calibration(
        x=tuple(float(v) for v in model.X_thresholds_),
        y=tuple(float(v) for v in model.y_thresholds_),
        used=True,
        error_raw=raw,
        error_calibrated=calibrated,
    )


# --- counts -----------------------------------------------------------------------------------


def merge_counts(items: Iterable[Mapping[str, Any]]) -> Counts:
    """The sum of counts: numbers add, lists add elementwise, mappings merge recursively."""
    total: Counts = counts_json(_sum(items))
    return total


def _sum(items: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {}
    for item in items:
        for key, value in item.items():
            if isinstance(value, Mapping):
                total[key] = _sum([total.get(key, {}), value])
            elif isinstance(value, list | np.ndarray):
                array = np.asarray(value, dtype=np.float64)
                total[key] = total[key] + array if key in total else array
            else:
                total[key] = total.get(key, 0) + value
    return total


def counts_json(value: Any) -> Any:
    """Counts ready to store as JSON: arrays become lists."""
    if isinstance(value, Mapping):
        return {k: counts_json(v) for k, v in value.items()}
    return value.tolist() if isinstance(value, np.ndarray) else value


def binary_counts(scores: Any, *, calibration: Calibration, threshold: float) -> Counts:
    """Expected confusion counts of binary rows (scores: the positive class's probability,
    predicted positive at `threshold`), their variance terms and the binned score masses
    for ROC AUC (arrays: see `counts_json`)."""
    raw = np.asarray(scores, dtype=np.float64)
    return binary_counts_grouped(
        raw, np.zeros(raw.size, dtype=np.int64), 1, calibration=calibration, threshold=threshold
    )[0]


def binary_counts_grouped(
    scores: Any, groups: Any, n_groups: int, *, calibration: Calibration, threshold: float
) -> list[Counts]:
    """`binary_counts` of each group (e.g. hour) 0 .. n_groups - 1 of the rows, in one
    vectorised pass."""
    raw = np.asarray(scores, dtype=np.float64)
    group = np.asarray(groups, dtype=np.int64)
    p = calibration.apply(raw)
    # One key per (group, predicted positive): five bincounts give every figure.
    key = group * 2 + (raw >= threshold)
    n = np.bincount(key, minlength=2 * n_groups)
    mass = np.bincount(key, p, 2 * n_groups)
    var = np.bincount(key, p * (1.0 - p), 2 * n_groups)
    bins = np.minimum((np.clip(raw, 0.0, 1.0) * AUC_BINS).astype(np.int64), AUC_BINS - 1)
    cell = group * AUC_BINS + bins
    cell_n = np.bincount(cell, minlength=n_groups * AUC_BINS).reshape(n_groups, AUC_BINS)
    auc_pos = np.bincount(cell, p, n_groups * AUC_BINS).reshape(n_groups, AUC_BINS)
    # Arrays, not lists: merging adds them as they are; `counts_json` makes them lists to store.
    auc_neg = cell_n - auc_pos
    return [
        {
            "n": int(n[2 * g] + n[2 * g + 1]),
            "predicted_positive": int(n[2 * g + 1]),
            "tp": float(mass[2 * g + 1]),
            "fp": float(n[2 * g + 1] - mass[2 * g + 1]),
            "fn": float(mass[2 * g]),
            "tn": float(n[2 * g] - mass[2 * g]),
            "var_pp": float(var[2 * g + 1]),
            "var_pn": float(var[2 * g]),
            "auc_pos": auc_pos[g],
            "auc_neg": auc_neg[g],
        }
        for g in range(n_groups)
    ]


def _band(value: float | None, se: float | None) -> dict[str, float | None]:
    if value is None or se is None or not math.isfinite(value):
        return {"value": value, "lower": None, "upper": None}
    half = BAND_SIGMAS * se
    return {"value": value, "lower": max(0.0, value - half), "upper": min(1.0, value + half)}


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else 0.0


def _recall_f1(
    a: float, var_a: float, b: float, var_b: float, predicted: float
) -> tuple[float, float | None, float, float | None]:
    """Recall A / (A + B) and F1 2A / (A + predicted + B) with delta-method standard errors,
    for A expected true positives (variance var_a) and B expected false negatives."""
    recall = _ratio(a, a + b)
    se_recall = math.sqrt(b * b * var_a + a * a * var_b) / (a + b) ** 2 if a + b > 0 else None
    d = a + predicted + b
    f1 = _ratio(2 * a, d)
    se_f1 = (
        math.sqrt((2 * (predicted + b) / d**2) ** 2 * var_a + (2 * a / d**2) ** 2 * var_b)
        if d > 0
        else None
    )
    return recall, se_recall, f1, se_f1


def auc_from_bins(positive: Sequence[float], negative: Sequence[float]) -> float | None:
    """ROC AUC of binned expected class masses (ascending score bins; ties within a bin count
    one half); None when either class has no mass."""
    pos, neg = np.asarray(positive, dtype=np.float64), np.asarray(negative, dtype=np.float64)
    total_pos, total_neg = pos.sum(), neg.sum()
    if total_pos <= 0 or total_neg <= 0:
        return None
    below = np.cumsum(neg) - neg
    return float(np.sum(pos * (below + 0.5 * neg)) / (total_pos * total_neg))


def auc_standard_error(auc: float, n_pos: float, n_neg: float) -> float | None:
    """Hanley and McNeil's (1982) standard error of an AUC with n_pos / n_neg cases."""
    if n_pos < 1 or n_neg < 1:
        return None
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)
    return math.sqrt(max(var, 0.0) / (n_pos * n_neg))


def binary_estimate(counts: Mapping[str, Any]) -> Estimate:
    """Estimated accuracy, precision, recall, F1 and ROC AUC with bands from binary counts."""
    n = counts.get("n", 0)
    if not n:
        return {}
    tp, fp, fn, tn = (float(counts[k]) for k in ("tp", "fp", "fn", "tn"))
    var_pp, var_pn = float(counts["var_pp"]), float(counts["var_pn"])
    predicted = float(counts["predicted_positive"])
    accuracy = (tp + tn) / n
    precision = _ratio(tp, predicted)
    recall, se_recall, f1, se_f1 = _recall_f1(tp, var_pp, fn, var_pn, predicted)
    auc = auc_from_bins(counts["auc_pos"], counts["auc_neg"])
    return {
        "accuracy": _band(accuracy, math.sqrt(var_pp + var_pn) / n),
        "precision": _band(precision, math.sqrt(var_pp) / predicted if predicted else None),
        "recall": _band(recall, se_recall),
        "f1": _band(f1, se_f1),
        "roc_auc": _band(auc, None if auc is None else auc_standard_error(auc, tp + fn, fp + tn)),
    }


# --- multiclass -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MulticlassReference:
    """What CBPE takes from a multiclass reference: the calibration of the top score (the
    probability that the predicted label is right) and, per predicted class, how its mistakes
    spread over the true classes ({predicted: {true: share}})."""

    calibration: Calibration
    mistakes: dict[str, dict[str, float]] = field(default_factory=dict)
    classes: tuple[str, ...] = ()
    # Per class, the calibration of its one-vs-rest score (empty: the reference had no
    # per-class scores, and ROC AUC is not estimated).
    class_calibrations: dict[str, Calibration] = field(default_factory=dict)


def multiclass_reference_fit(
    predicted: Any,
    truth: Any,
    scores: Any,
    *,
    class_scores: Mapping[str, Any] | None = None,
    seed: int = 0,
) -> MulticlassReference:
    """Fit the top score's calibration and the spread of mistakes; with `class_scores`
    ({class: each row's probability of it}), each class's one-vs-rest calibration too."""
    labels = np.asarray(predicted).astype(str)
    true = np.asarray(truth).astype(str)
    correct = labels == true
    classes = tuple(sorted(set(labels) | set(true)))
    frame = pd.DataFrame({"predicted": labels[~correct], "true": true[~correct]})
    mistakes: dict[str, dict[str, float]] = {}
    for name, group in frame.groupby("predicted"):
        shares = group["true"].value_counts(normalize=True)
        mistakes[str(name)] = {str(k): float(v) for k, v in shares.items()}
    class_calibrations = {
        str(k): calibration_fit(column, true == str(k), seed=seed)
        for k, column in (class_scores or {}).items()
    }
    return MulticlassReference(
        calibration=calibration_fit(scores, correct, seed=seed),
        mistakes=mistakes,
        classes=tuple(sorted(set(classes) | set(class_calibrations))),
        class_calibrations=class_calibrations,
    )


def multiclass_counts(
    predicted: Any,
    scores: Any,
    *,
    reference: MulticlassReference,
    class_scores: Mapping[str, Any] | None = None,
) -> Counts:
    """Per predicted class: rows, expected correct rows, their variance and the sum of the
    squared probabilities of being wrong (the variance of where mistakes go). With every
    row's per-class scores and a reference that has them, `"auc"`: `class_auc_counts`."""
    labels = np.asarray(predicted).astype(str)
    p = reference.calibration.apply(scores)
    per_class: dict[str, dict[str, float]] = {}
    for label in np.unique(labels):
        chosen = p[labels == label]
        per_class[str(label)] = {
            "n": float(chosen.size),
            "correct": float(chosen.sum()),
            "var": float((chosen * (1 - chosen)).sum()),
            "wrong_sq": float(((1 - chosen) ** 2).sum()),
        }
    counts: Counts = {"n": int(labels.size), "classes": per_class}
    if class_scores is not None and reference.class_calibrations:
        counts["auc"] = class_auc_counts(class_scores, int(labels.size), reference=reference)
    return counts


def class_score_columns(
    rows: Iterable[Mapping[str, float]], classes: Iterable[str] = ()
) -> dict[str, np.ndarray]:
    """Per-class probabilities of rows ({class: p} each) as one column per class: `classes`
    and every class a row names, sorted; a class a row leaves out scores 0 there."""
    rows = list(rows)
    names = sorted({str(k) for row in rows for k in row} | {str(k) for k in classes})
    return {
        k: np.asarray([float(row.get(k, 0.0)) for row in rows], dtype=np.float64) for k in names
    }


def complete_class_scores(
    given: Iterable[Any] | None, classes: Iterable[str] = ()
) -> dict[str, np.ndarray] | None:
    """`class_score_columns` of rows when every row carries its {class: p}; None when there
    is no such column or a row lacks them (ROC AUC then needs every row's scores)."""
    if given is None:
        return None
    rows = list(given)
    if not all(isinstance(row, dict) for row in rows):
        return None
    return class_score_columns(rows, classes)


def class_auc_counts(
    class_scores: Mapping[str, Any], n: int, *, reference: MulticlassReference
) -> Counts:
    """For each class the reference calibrated, the expected positives and negatives of that
    class per score bin (`AUC_BINS` equal-width bins of the raw score; a row's calibrated
    probability of the class is its expected positive mass) over `n` rows. `class_scores`:
    {class: each row's probability of it}; a class left out scores 0 on every row."""
    per_class: dict[str, Any] = {}
    for k, calibration in reference.class_calibrations.items():
        raw = np.asarray(class_scores[k] if k in class_scores else np.zeros(n), dtype=np.float64)
        p = calibration.apply(raw)
        bins = np.minimum((np.clip(raw, 0.0, 1.0) * AUC_BINS).astype(np.int64), AUC_BINS - 1)
        positive = np.bincount(bins, p, AUC_BINS)
        per_class[k] = {"pos": positive, "neg": np.bincount(bins, minlength=AUC_BINS) - positive}
    return {"n": n, "classes": per_class}


def class_auc_estimate(counts: Mapping[str, Any]) -> dict[str, float | None]:
    """Macro one-vs-rest ROC AUC of `class_auc_counts` (merged), with a band.

    Each class's AUC comes from its expected bin masses (`auc_from_bins`), its standard error
    from Hanley and McNeil with the expected positives and negatives; classes without
    expected mass of both kinds are left out, as the realised macro AUC leaves out classes
    absent from the truth. The one-vs-rest AUCs of one window are correlated, and the
    covariances are unknown from counts: the macro AUC's standard error is taken as the mean
    of the classes' standard errors, the bound that holds whatever their correlation
    (sd(sum) <= sum of sds), so the band errs wide rather than narrow."""
    aucs: list[float] = []
    errors: list[float | None] = []
    for masses in counts.get("classes", {}).values():
        pos, neg = list(masses["pos"]), list(masses["neg"])
        auc = auc_from_bins(pos, neg)
        if auc is None:
            continue
        aucs.append(auc)
        errors.append(auc_standard_error(auc, float(sum(pos)), float(sum(neg))))
    if not aucs:
        return _band(None, None)
    known = [e for e in errors if e is not None]
    se = float(np.mean(known)) if len(known) == len(errors) else None
    return _band(float(np.mean(aucs)), se)


def multiclass_estimate(counts: Mapping[str, Any], *, reference: MulticlassReference) -> Estimate:
    """Estimated accuracy and macro precision, recall and F1 (over the reference's classes
    and those predicted) with bands, from multiclass counts; macro ROC AUC too when every
    row of the counts carried per-class scores (`"auc"`: merged `class_auc_counts`)."""
    n = counts.get("n", 0)
    if not n:
        return {}
    per_class: Mapping[str, Mapping[str, float]] = counts["classes"]
    classes = sorted(set(reference.classes) | set(per_class))
    correct = sum(v["correct"] for v in per_class.values())
    var_all = sum(v["var"] for v in per_class.values())
    precisions, recalls, f1s = [], [], []
    var_precision = var_recall = var_f1 = 0.0
    for k in classes:
        own = per_class.get(k, {"n": 0.0, "correct": 0.0, "var": 0.0})
        a, var_a, predicted = own["correct"], own["var"], own["n"]
        b = var_b = 0.0
        for j, row in per_class.items():
            if j == k:
                continue
            share = _mistake_share(reference, j, k, len(classes))
            wrong = row["n"] - row["correct"]
            b += wrong * share
            # Each such row is of class k with probability (1 - c) * share.
            var_b += share * wrong - share * share * row.get("wrong_sq", 0.0)
        precisions.append(_ratio(a, predicted))
        var_precision += var_a / predicted**2 if predicted else 0.0
        recall, se_recall, f1, se_f1 = _recall_f1(a, var_a, b, var_b, predicted)
        recalls.append(recall)
        f1s.append(f1)
        var_recall += (se_recall or 0.0) ** 2
        var_f1 += (se_f1 or 0.0) ** 2
    m = len(classes)
    estimate: Estimate = {
        "accuracy": _band(correct / n, math.sqrt(var_all) / n),
        "precision": _band(float(np.mean(precisions)), math.sqrt(var_precision) / m),
        "recall": _band(float(np.mean(recalls)), math.sqrt(var_recall) / m),
        "f1": _band(float(np.mean(f1s)), math.sqrt(var_f1) / m),
    }
    auc = counts.get("auc")
    if auc is not None and auc.get("n") == n:
        band = class_auc_estimate(auc)
        if band["value"] is not None:
            estimate["roc_auc"] = band
    return estimate


def _mistake_share(
    reference: MulticlassReference, predicted: str, true: str, n_classes: int
) -> float:
    """The share of `predicted`'s mistakes whose true class is `true`: the reference's, else
    an even spread over the other classes."""
    shares = reference.mistakes.get(predicted)
    if shares:
        return shares.get(true, 0.0)
    return 1.0 / max(n_classes - 1, 1)


# --- direct loss estimation -------------------------------------------------------------------


@dataclass
class LossModel:
    """Two gradient-boosting regressors trained on the reference to predict a row's absolute
    and squared error from its features and the prediction, and the spread of what they miss
    (out-of-fold residual variance per row), which sets the bands. Categorical features are
    coded by the reference's vocabulary (unseen values count as missing)."""

    features: list[str]
    vocabulary: dict[str, list[str]]
    absolute: Any
    squared: Any
    residual_var_abs: float
    residual_var_sq: float

    def design(self, rows: pd.DataFrame, predictions: Any) -> pd.DataFrame:
        return _design(rows, predictions, self.features, self.vocabulary)


def _design(
    rows: pd.DataFrame, predictions: Any, features: list[str], vocabulary: dict[str, list[str]]
) -> pd.DataFrame:
    frame = pd.DataFrame(index=range(len(rows)))
    for name in features:
        if name not in rows.columns:
            frame[name] = np.nan
            continue
        column = rows[name].reset_index(drop=True)
        if name in vocabulary:
            codes = pd.Series(np.arange(len(vocabulary[name]), dtype=float), vocabulary[name])
            frame[name] = column.astype(str).map(codes).where(column.notna()).astype(float)
        else:
            frame[name] = pd.to_numeric(column, errors="coerce").astype(float)
    frame["__prediction__"] = np.asarray(predictions, dtype=np.float64)
    return frame


def _fit(model: Any, design: pd.DataFrame, target: np.ndarray) -> Any:
    """Fit `model` (on the process's OpenMP threads: one unless set, portal/settings.py)."""
    return model.fit(design, target)


def _predict(model: Any, design: pd.DataFrame) -> np.ndarray:
    return np.asarray(model.predict(design), dtype=np.float64)


def _regressor(categorical: list[str], seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(
        max_iter=100,
        max_leaf_nodes=15,
        learning_rate=0.1,
        categorical_features=categorical or None,
        random_state=seed,
    )


# Categories beyond this many (by frequency) share the missing code: HGB's limit is 255.
MAX_CATEGORIES = 250


def loss_model_fit(
    rows: pd.DataFrame,
    predictions: Any,
    truth: Any,
    *,
    features: list[str],
    categorical: Sequence[str] = (),
    seed: int = 0,
) -> LossModel:
    """Fit DLE on the reference: features and prediction -> |error| and error²."""
    vocabulary = {
        name: [
            str(v) for v in rows[name].dropna().astype(str).value_counts().index[:MAX_CATEGORIES]
        ]
        for name in categorical
        if name in features and name in rows.columns
    }
    design = _design(rows, predictions, features, vocabulary)
    names = list(vocabulary)
    error = np.asarray(truth, dtype=np.float64) - np.asarray(predictions, dtype=np.float64)
    absolute, squared = np.abs(error), error * error
    folds = np.random.default_rng(seed).permutation(len(design)) % 2
    residual_abs, residual_sq = [], []
    if len(design) >= 20:
        for fold in range(2):
            held = folds == fold
            fit_abs = _fit(_regressor(names, seed), design[~held], absolute[~held])
            fit_sq = _fit(_regressor(names, seed), design[~held], squared[~held])
            residual_abs.append(absolute[held] - _predict(fit_abs, design[held]))
            residual_sq.append(squared[held] - _predict(fit_sq, design[held]))
    var_abs = float(np.var(np.concatenate(residual_abs) if residual_abs else absolute))
    var_sq = float(np.var(np.concatenate(residual_sq) if residual_sq else squared))
    return LossModel(
        features=list(features),
        vocabulary=vocabulary,
        absolute=_fit(_regressor(names, seed), design, absolute),
        squared=_fit(_regressor(names, seed), design, squared),
        residual_var_abs=var_abs,
        residual_var_sq=var_sq,
    )


def regression_counts(rows: pd.DataFrame, predictions: Any, *, model: LossModel) -> Counts:
    """Sums of the expected absolute and squared errors of the rows (clipped at zero)."""
    if len(rows) == 0:
        return {"n": 0, "abs": 0.0, "sq": 0.0}
    absolute, squared = loss_predict(rows, predictions, model=model)
    return {"n": len(rows), "abs": float(absolute.sum()), "sq": float(squared.sum())}


def loss_predict(
    rows: pd.DataFrame, predictions: Any, *, model: LossModel
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's expected absolute and squared error (clipped at zero): predict once for
    many hours and sum per hour, rather than predicting hour by hour."""
    design = model.design(rows, predictions)
    absolute = np.clip(model.absolute.predict(design), 0.0, None)
    squared = np.clip(model.squared.predict(design), 0.0, None)
    return absolute, squared


def regression_estimate(counts: Mapping[str, Any], *, model: LossModel) -> Estimate:
    """Estimated MAE and RMSE with bands (the MSE's band, square-rooted)."""
    n = counts.get("n", 0)
    if not n:
        return {}
    mae = counts["abs"] / n
    mse = counts["sq"] / n
    se_mae = math.sqrt(model.residual_var_abs / n)
    se_mse = math.sqrt(model.residual_var_sq / n)
    return {
        "mae": {
            "value": mae,
            "lower": max(0.0, mae - BAND_SIGMAS * se_mae),
            "upper": mae + BAND_SIGMAS * se_mae,
        },
        "rmse": {
            "value": math.sqrt(mse),
            "lower": math.sqrt(max(0.0, mse - BAND_SIGMAS * se_mse)),
            "upper": math.sqrt(mse + BAND_SIGMAS * se_mse),
        },
    }
