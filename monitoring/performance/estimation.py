"""Estimated performance of a deployment before its labels arrive (CBPE / DLE), stored per hour
(additive counts) and per day (estimates, bands, and the estimate's error once labels exist).

The estimator is fitted on a dataset linked to the deployed version that holds the model's own
outputs on it next to the target column (else on its drift reference, which then must):
- binary: `prediction_score` (the positive class's probability);
- multiclass: `prediction` (the predicted label) and `prediction_score` (its probability);
  with one `prediction_score_<class>` column per class (every class's probability), macro
  one-vs-rest ROC AUC is estimated too, for the hours whose events carry `prediction_scores`;
- regression: `prediction`, plus the input features.
Fitted estimators are kept in memory per version and reference dataset (they are a pure
function of both), so the hourly job does not refit them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction
from django.db.models import Q
from steward_client.summaries import sha256_hex

from governance.lineage.models import LineageEdge, NodeKind
from monitoring.engines import estimation as engine
from monitoring.engines.drift import feature_kind
from monitoring.models import (
    DailyEstimate,
    DailyPerformance,
    EstimationMethod,
    HourlyEstimate,
    PredictionEvent,
)
from monitoring.performance.services import DAY, _day_runs, settings_get
from monitoring.rollups.profiles import ReferenceMissing, _read, reference_dataset
from registry.choices import Task
from registry.models import Dataset, Deployment, ModelVersion

SCORE_COLUMN = "prediction_score"
# A reference column `prediction_score_<class>` holds the model's probability of that class.
CLASS_SCORE_PREFIX = "prediction_score_"
PREDICTION_COLUMN = "prediction"
# Realised metric names where the estimate's name differs (multiclass F1 is macro F1).
REALISED_NAME: dict[str, dict[str, str]] = {Task.MULTICLASS: {"f1": "macro_f1"}}


class EstimationUnavailable(Exception):
    """The deployment's performance cannot be estimated (the reason is the message)."""


@dataclass
class Estimator:
    """A fitted estimator of one version on one reference dataset."""

    task: str
    method: str
    digest: str
    reference: dict[str, Any]
    calibration: engine.Calibration | None = None
    multiclass: engine.MulticlassReference | None = None
    loss: engine.LossModel | None = None
    features: tuple[str, ...] = ()

    def counts(self, rows: pd.DataFrame, *, threshold: float) -> engine.Counts:
        """The additive counts of `rows` (prediction_label, prediction_score[, features])."""
        if self.task == Task.BINARY:
            assert self.calibration is not None
            scores = rows["prediction_score"].to_numpy(float)
            return engine.binary_counts(scores, calibration=self.calibration, threshold=threshold)
        if self.task == Task.MULTICLASS:
            assert self.multiclass is not None
            return engine.multiclass_counts(
                rows["prediction_label"].astype(str).to_numpy(),
                rows["prediction_score"].to_numpy(float),
                reference=self.multiclass,
                class_scores=self._class_scores(rows),
            )
        assert self.loss is not None
        return engine.regression_counts(
            rows, rows["prediction_score"].to_numpy(float), model=self.loss
        )

    def _class_scores(self, rows: pd.DataFrame) -> dict[str, np.ndarray] | None:
        """Every class's probability per row, when the reference had them and every row of
        `rows` carries them (an hour with some rows without them estimates no ROC AUC)."""
        assert self.multiclass is not None
        if not self.multiclass.class_calibrations:
            return None
        return engine.complete_class_scores(
            rows.get("prediction_scores"), self.multiclass.class_calibrations
        )

    def estimate(self, counts: engine.Counts) -> engine.Estimate:
        if self.task == Task.BINARY:
            return engine.binary_estimate(counts)
        if self.task == Task.MULTICLASS:
            assert self.multiclass is not None
            return engine.multiclass_estimate(counts, reference=self.multiclass)
        assert self.loss is not None
        return engine.regression_estimate(counts, model=self.loss)


_CACHE: OrderedDict[tuple, Estimator] = OrderedDict()
_CACHE_SIZE = 16


def estimator_for(version: ModelVersion, *, positive_label: str) -> Estimator:
    """The version's fitted estimator (from the in-process cache when its reference dataset
    has not changed). Raises EstimationUnavailable with a reason a user can act on."""
    task = version.model.task
    dataset = estimation_reference(version)
    key = (version.pk, dataset.sha256, task, positive_label)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    estimator = estimator_fit(
        _read(dataset),
        task=task,
        target=version.model.target_column,
        positive_label=positive_label,
        feature_types={str(f["name"]): str(f["type"]) for f in version.input_schema},
    )
    estimator.reference |= {"dataset": dataset.pk, "dataset_sha256": dataset.sha256}
    estimator.digest = sha256_hex({"dataset": dataset.sha256, "positive": positive_label})
    _CACHE[key] = estimator
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return estimator


# The columns an estimator needs in its reference, besides the target, per task.
NEEDED: dict[str, tuple[str, ...]] = {
    Task.BINARY: (SCORE_COLUMN,),
    Task.MULTICLASS: (PREDICTION_COLUMN, SCORE_COLUMN),
    Task.REGRESSION: (PREDICTION_COLUMN,),
}


def estimation_reference(version: ModelVersion) -> Dataset:
    """The dataset the estimator is fitted on: the newest dataset linked to the version (any
    lineage relation: trained on, validated with, a linked reference) that holds the model's
    outputs (`NEEDED`) and the target column; else the version's drift reference (whose
    missing columns `estimator_fit` then names). Raises EstimationUnavailable without either."""
    model = version.model
    needed = {*NEEDED.get(model.task, ()), model.target_column}
    linked = LineageEdge.objects.filter(
        downstream_kind=NodeKind.VERSION, downstream_id=version.pk, upstream_kind=NodeKind.DATASET
    ).values("upstream_id")
    candidates = Dataset.objects.filter(model_id=model.pk, pk__in=linked, external=False).order_by(
        "-created_at", "-id"
    )
    for dataset in candidates.only("pk", "schema", "sha256", "file", "file_format"):
        if needed <= {str(column.get("name")) for column in dataset.schema}:
            return dataset
    try:
        return reference_dataset(version)
    except ReferenceMissing as exc:
        raise EstimationUnavailable(str(exc)) from exc


def _require(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [name for name in columns if not name or name not in frame.columns]
    if missing:
        shown = ", ".join(repr(name) for name in missing if name) or "the target column"
        raise EstimationUnavailable(
            f"the reference data has no column {shown}: {what} needs the model's outputs on "
            "the reference next to its target"
        )


def estimator_fit(
    frame: pd.DataFrame,
    *,
    task: str,
    target: str,
    positive_label: str,
    feature_types: dict[str, str],
) -> Estimator:
    """Fit CBPE (classifiers) or DLE (regressors) on a reference frame."""
    if task == Task.BINARY:
        _require(frame, [SCORE_COLUMN, target], "CBPE")
        rows = frame.dropna(subset=[SCORE_COLUMN, target])
        outcomes = rows[target].astype(str).to_numpy() == str(positive_label)
        outcomes |= _numeric_equal(rows[target], positive_label)
        calibration = engine.calibration_fit(rows[SCORE_COLUMN].to_numpy(float), outcomes)
        return Estimator(
            task=task,
            method=EstimationMethod.CBPE,
            digest="",
            calibration=calibration,
            reference={"rows": len(rows), "calibration": calibration.to_dict()},
        )
    if task == Task.MULTICLASS:
        _require(frame, [PREDICTION_COLUMN, SCORE_COLUMN, target], "CBPE")
        rows = frame.dropna(subset=[PREDICTION_COLUMN, SCORE_COLUMN, target])
        class_scores = _reference_class_scores(rows)
        fitted = engine.multiclass_reference_fit(
            _labels(rows[PREDICTION_COLUMN]),
            _labels(rows[target]),
            rows[SCORE_COLUMN].to_numpy(float),
            class_scores=class_scores,
        )
        reference: dict[str, Any] = {
            "rows": len(rows),
            "calibration": fitted.calibration.to_dict(),
        }
        if fitted.class_calibrations:
            reference["class_calibration"] = {
                k: c.to_dict() for k, c in fitted.class_calibrations.items()
            }
        return Estimator(
            task=task,
            method=EstimationMethod.CBPE,
            digest="",
            multiclass=fitted,
            reference=reference,
        )
    _require(frame, [PREDICTION_COLUMN, target], "DLE")
    rows = frame.dropna(subset=[PREDICTION_COLUMN, target]).reset_index(drop=True)
    features = [name for name in feature_types if feature_kind(feature_types[name])]
    categorical = [n for n in features if feature_kind(feature_types[n]) == "categorical"]
    loss = engine.loss_model_fit(
        rows,
        rows[PREDICTION_COLUMN].to_numpy(float),
        rows[target].to_numpy(float),
        features=features,
        categorical=categorical,
    )
    return Estimator(
        task=task,
        method=EstimationMethod.DLE,
        digest="",
        loss=loss,
        features=tuple(features),
        reference={"rows": len(rows), "features": features},
    )


def _reference_class_scores(rows: pd.DataFrame) -> dict[str, np.ndarray] | None:
    """{class: probability column} from the reference's `prediction_score_<class>` columns
    (classes written as the events write labels), or None without them or with any missing
    value in them (ROC AUC is then not estimated)."""
    columns = [c for c in rows.columns if str(c).startswith(CLASS_SCORE_PREFIX)]
    if not columns or rows[columns].isna().any().any():
        return None
    return {str(c)[len(CLASS_SCORE_PREFIX) :]: rows[c].to_numpy(float) for c in columns}


def _labels(values: pd.Series) -> np.ndarray:
    """Labels as the events carry them: text, with whole-number floats written as integers
    (a CSV column of 0/1/2 read with missing values becomes 0.0/1.0/2.0)."""
    return np.asarray([_label(v) for v in values], dtype=object).astype(str)


def _label(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _numeric_equal(values: pd.Series, label: str) -> np.ndarray:
    """Numeric targets equal to a numeric positive label ("1" matches 1.0)."""
    try:
        number = float(label)
    except ValueError:
        return np.zeros(len(values), dtype=bool)
    return (pd.to_numeric(values, errors="coerce") == number).to_numpy()


# --- computing --------------------------------------------------------------------------------


def _events(deployment: Deployment, days: list[dt.date], *, features: bool) -> pd.DataFrame:
    fields = ["timestamp", "prediction_label", "prediction_score", "prediction_scores"] + (
        ["features"] if features else []
    )
    rows = PredictionEvent.objects.filter(
        _day_runs(days), deployment=deployment, status="ok", prediction_score__isnull=False
    ).values_list(*fields)
    frame = pd.DataFrame.from_records(list(rows), columns=fields)
    if features and not frame.empty:
        inputs = pd.DataFrame.from_records(list(frame.pop("features")))
        frame = pd.concat([frame.reset_index(drop=True), inputs], axis=1)
    return frame


def _realised(task: str, metrics: dict[str, Any], estimated: engine.Estimate) -> dict[str, float]:
    names = REALISED_NAME.get(task, {})
    return {
        name: float(metrics[names.get(name, name)])
        for name in estimated
        if metrics.get(names.get(name, name)) is not None
    }


@transaction.atomic
def estimates_compute(*, deployment: Deployment, days: list[dt.date]) -> list[DailyEstimate]:
    """Rebuild the hourly counts and the daily estimates of the given UTC days (days without
    scored predictions get none), joining each day's realised figures where labels exist.
    Raises EstimationUnavailable when the deployment cannot be estimated."""
    if not days:
        return []
    version = deployment.version
    task = version.model.task
    positive = settings_get(deployment).positive_label
    estimator = estimator_for(version, positive_label=positive)
    threshold = float(deployment.decision_threshold) if deployment.decision_threshold else 0.5
    frame = _events(deployment, days, features=task == Task.REGRESSION)
    if task == Task.MULTICLASS:
        frame = frame.dropna(subset=["prediction_label"])
    hourly: list[HourlyEstimate] = []
    per_day: dict[dt.date, list[engine.Counts]] = {}
    if not frame.empty:
        frame["hour"] = pd.to_datetime(frame["timestamp"], utc=True).dt.floor("h")
        for hour, rows in frame.groupby("hour"):
            counts = engine.counts_json(
                estimator.counts(rows.reset_index(drop=True), threshold=threshold)
            )
            stamp = hour.to_pydatetime()
            hourly.append(
                HourlyEstimate(
                    deployment=deployment,
                    hour=stamp,
                    method=estimator.method,
                    counts=counts,
                    rows=len(rows),
                    reference_digest=estimator.digest,
                )
            )
            per_day.setdefault(stamp.date(), []).append(counts)
    _replace_hours(deployment, days, hourly)
    realised = {
        row.day: row for row in DailyPerformance.objects.filter(deployment=deployment, day__in=days)
    }
    DailyEstimate.objects.filter(deployment=deployment, day__in=days).exclude(
        day__in=list(per_day)
    ).delete()
    stored = []
    for day, parts in sorted(per_day.items()):
        counts = engine.merge_counts(parts)
        estimated = _clean(estimator.estimate(counts))
        performance = realised.get(day)
        actual = (
            _realised(task, performance.metrics, estimated)
            if performance is not None and performance.labelled
            else {}
        )
        error = {
            name: guess - value
            for name, value in actual.items()
            if (guess := estimated[name]["value"]) is not None
        }
        row, _ = DailyEstimate.objects.update_or_create(
            deployment=deployment,
            day=day,
            defaults={
                "method": estimator.method,
                "task": task,
                "predictions": int(counts["n"]),
                "estimated": estimated,
                "labelled": performance.labelled if performance is not None else 0,
                "realised": actual,
                "error": error,
                "reference": estimator.reference,
            },
        )
        stored.append(row)
    return stored


def _replace_hours(
    deployment: Deployment, days: list[dt.date], hourly: list[HourlyEstimate]
) -> None:
    """The days' hourly rows become exactly `hourly` (hours with no scored rows disappear)."""
    condition = Q()
    for day in days:
        start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
        condition |= Q(hour__gte=start, hour__lt=start + DAY)
    HourlyEstimate.objects.filter(condition, deployment=deployment).delete()
    HourlyEstimate.objects.bulk_create(hourly)


def _clean(estimate: engine.Estimate) -> engine.Estimate:
    """JSON-safe: NaN and infinities become null."""
    return {
        name: {
            key: (None if value is None or not math.isfinite(float(value)) else float(value))
            for key, value in band.items()
        }
        for name, band in estimate.items()
    }
