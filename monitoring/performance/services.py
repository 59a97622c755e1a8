"""Writes of model quality: daily performance rows, monitoring settings and the status row.

Every builder is idempotent (update_or_create on its key). Predictions and ground truth are
read with one `values()` query each and joined in pandas on request_id, never row by row.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from typing import Any, TypedDict

import numpy as np
import pandas as pd
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.fields.json import KT
from django.db.models.functions import TruncDate
from django.utils import timezone
from steward_client.performance import merge_all_performance, performance_counts
from steward_client.summaries import sha256_hex

from governance import audit
from monitoring.engines import metrics
from monitoring.engines.estimation import complete_class_scores
from monitoring.engines.status import (
    Thresholds,
    Verdict,
    deployment_status,
    weighted_drift_share,
)
from monitoring.models import (
    DailyPerformance,
    DeploymentStatus,
    DriftKind,
    GroundTruth,
    HourlyHealth,
    MonitoringSettings,
    PredictionEvent,
)
from monitoring.performance.drift_methods import drift_methods_problems, input_features
from monitoring.performance.selectors import estimated_window, headline_metric, windowed_metric
from monitoring.rollups import selectors as rollup_selectors
from monitoring.rollups.posted import PostedDay, posted_days
from monitoring.rollups.quality_selectors import quality_worst
from registry.actors import Actor
from registry.choices import Action, Task
from registry.models import Deployment
from registry.services.common import require_object

DAY = dt.timedelta(days=1)
# The joined rows' columns besides request_id (and "group" with a sensitive attribute).
JOINED_COLUMNS = ["prediction_label", "prediction_score", "prediction_scores", "label", "value"]
# The headline figure of the accuracy axis per task; regression has no higher-is-better
# figure in [0, 1] but R², which is read the same way.


def settings_get(deployment: Deployment) -> MonitoringSettings:
    """The deployment's settings row, created with the defaults on first use."""
    row, _ = MonitoringSettings.objects.get_or_create(deployment=deployment)
    return row


def thresholds_of(deployment: Deployment) -> Thresholds:
    """The deployment's stored thresholds over its model task's defaults."""
    task = deployment.version.model.task
    return Thresholds.from_dict(settings_get(deployment).thresholds, task=task)


@transaction.atomic
def monitoring_settings_update(
    *,
    deployment: Deployment,
    actor: Actor,
    thresholds: dict[str, float] | None = None,
    positive_label: str | None = None,
    drift_methods: dict[str, Any] | None = None,
    sensitive_attribute: str | None = None,
) -> MonitoringSettings:
    """Replace the given thresholds (validated against `Thresholds`), positive label and drift
    method overrides (the whole mapping; checked against the deployed version's features).
    Needs "change" on the deployment's model (PermissionDenied otherwise)."""
    require_object(actor, Action.CHANGE, deployment)
    row = MonitoringSettings.objects.select_for_update().get(pk=settings_get(deployment).pk)
    before = {
        "thresholds": row.thresholds,
        "positive_label": row.positive_label,
        "drift_methods": row.drift_methods,
        "sensitive_attribute": row.sensitive_attribute,
    }
    if thresholds is not None:
        merged = {**row.thresholds, **thresholds}
        Thresholds.from_dict(merged)  # raises ValueError on an unknown key
        row.thresholds = {key: float(value) for key, value in merged.items()}
    if positive_label is not None:
        row.positive_label = positive_label
    if drift_methods is not None:
        problems = drift_methods_problems(drift_methods, input_features(deployment.version))
        if problems:
            raise ValueError(f"unusable drift methods: {problems}")
        row.drift_methods = drift_methods
    if sensitive_attribute is not None:
        if sensitive_attribute and sensitive_attribute not in input_features(deployment.version):
            raise ValueError(
                f"sensitive_attribute {sensitive_attribute!r} is not an input feature of the "
                "deployed version"
            )
        row.sensitive_attribute = sensitive_attribute
    row.full_clean()
    row.save()
    audit.record(
        actor=actor,
        action="monitoring.settings.updated",
        target=row,
        before=before,
        after={
            "thresholds": row.thresholds,
            "positive_label": row.positive_label,
            "drift_methods": row.drift_methods,
            "sensitive_attribute": row.sensitive_attribute,
        },
    )
    return row


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    return start, start + DAY


def joined_day(
    deployment: Deployment, day: dt.date, *, attribute: str = ""
) -> tuple[int, pd.DataFrame]:
    """(predictions of the day, those with ground truth joined on request_id): two queries.
    With `attribute`, the rows also carry that input feature's value as column "group"."""
    start, end = day_bounds(day)
    fields = ["request_id", "prediction_label", "prediction_score", "prediction_scores"]
    rows = PredictionEvent.objects.filter(
        deployment=deployment, timestamp__gte=start, timestamp__lt=end, status="ok"
    )
    if attribute:
        rows = rows.annotate(group=KT(f"features__{attribute}"))
        fields.append("group")
    events = pd.DataFrame.from_records(list(rows.values(*fields)), columns=fields)
    if events.empty:
        return 0, events
    truth_fields = ["request_id", "label", "value"]
    truth = pd.DataFrame.from_records(
        list(
            # A subquery, not the day's ids as parameters: thousands of bound ids cost more
            # to send and plan than the join.
            GroundTruth.objects.filter(
                deployment=deployment, request_id__in=rows.values("request_id")
            ).values(*truth_fields)
        ),
        columns=truth_fields,
    )
    return len(events), events.merge(truth, on="request_id", how="inner")


def performance_input_digest(joined: pd.DataFrame) -> str:
    """sha256 of the canonical JSON of the joined rows a day's figures come from: {"columns":
    [...], "rows": [[...], ...]} sorted by request id, missing values as null. Per-class
    scores count only where some row has them (days before them keep their digest)."""
    frame = joined.sort_values("request_id", kind="stable").reset_index(drop=True)
    if "prediction_scores" in frame and frame["prediction_scores"].isna().all():
        frame = frame.drop(columns="prediction_scores")
    frame = frame.astype(object).where(frame.notna(), None)
    return sha256_hex({"columns": list(frame.columns), "rows": frame.to_numpy().tolist()})


def fairness_figures(
    joined: pd.DataFrame, *, threshold: float, positive: str
) -> metrics.FairnessReport | None:
    """Selection rate and accuracy per group of a binary model's labelled rows (predicted
    labels as for the day's metrics), or None when nothing is usable."""
    rows = joined.dropna(subset=["label"])
    if rows.empty:
        return None
    if rows["prediction_score"].notna().all():
        predicted = rows["prediction_score"].to_numpy(float) >= threshold
    elif rows["prediction_label"].notna().all():
        predicted = (rows["prediction_label"].astype(str) == positive).to_numpy()
    else:
        return None
    truth = (rows["label"].astype(str) == positive).to_numpy()
    groups = rows["group"].where(rows["group"].notna(), None).to_numpy(dtype=object)
    return metrics.fairness(truth, predicted, groups, positive=True)


def _clean(figures: dict[str, Any]) -> dict[str, float | None]:
    """JSON-safe figures: NaN and infinities become null."""
    return {
        key: (None if value is None or not math.isfinite(float(value)) else float(value))
        for key, value in figures.items()
    }


def task_metrics(
    task: str, joined: pd.DataFrame, *, threshold: float, positive: str
) -> dict[str, float | None]:
    """The engines' metrics for `task` on joined rows (an empty dict when nothing is usable)."""
    if task == Task.REGRESSION:
        rows = joined.dropna(subset=["value", "prediction_score"])
        if rows.empty:
            return {}
        return metrics.regression_metrics(
            rows["value"].to_numpy(float), rows["prediction_score"].to_numpy(float)
        )
    rows = joined.dropna(subset=["label"])
    if task == Task.MULTICLASS:
        rows = rows.dropna(subset=["prediction_label"])
        if rows.empty:
            return {}
        return metrics.multiclass_metrics(
            rows["label"].astype(str).to_numpy(),
            rows["prediction_label"].astype(str).to_numpy(),
            class_scores=_class_scores(rows),
        )
    return _binary(rows, threshold=threshold, positive=positive)


def _class_scores(rows: pd.DataFrame) -> dict[str, np.ndarray] | None:
    """The rows' per-class probabilities as columns, when every row carries them."""
    return complete_class_scores(rows.get("prediction_scores"))


def _binary(rows: pd.DataFrame, *, threshold: float, positive: str) -> dict[str, float | None]:
    """Labels from the scores and the decision threshold when every row has a score; from the
    predicted labels otherwise (score metrics then need scores and are left out)."""
    truth = (rows["label"].astype(str) == positive).to_numpy()
    if not rows.empty and rows["prediction_score"].notna().all():
        scores = rows["prediction_score"].to_numpy(float)
        return metrics.binary_metrics(truth, scores=scores, threshold=threshold, positive=True)
    rows_with_label = rows["prediction_label"].notna()
    if rows.empty or not rows_with_label.all():
        return {}
    predicted = (rows["prediction_label"].astype(str) == positive).to_numpy()
    return metrics.binary_metrics(truth, y_pred=np.asarray(predicted), positive=True)


@dataclass(frozen=True)
class DayFigures:
    """A day's labelled count, metrics, fairness report and the posted counts merged in."""

    labelled: int
    metrics: dict[str, float | None]
    fairness: dict[str, Any]
    posted: dict[str, Any] | None


def day_figures(
    task: str,
    joined: pd.DataFrame,
    posted: PostedDay | None,
    *,
    threshold: float,
    positive: str,
    attribute: str,
) -> DayFigures:
    """The figures of one day. Without posted performance, from the joined rows (exact, as
    scikit-learn computes them). With it, the rows become the same counts a client posts
    (`steward_client.performance`), merged with the posted hours', and the metrics come from
    the merged counts; fairness needs rows per group, which posted hours do not carry, so such
    a day has none."""
    posted_counts = posted.performance if posted is not None else []
    if not posted_counts:
        figures = task_metrics(task, joined, threshold=threshold, positive=positive)
        figures.pop("n", None)
        report = (
            fairness_figures(joined, threshold=threshold, positive=positive) if attribute else None
        )
        fairness: dict[str, Any] = {}
        if report is not None:
            fairness = {"attribute": attribute} | report.to_dict()
            figures["demographic_parity_difference"] = report.demographic_parity_difference
            figures["disparate_impact_ratio"] = report.disparate_impact_ratio
        return DayFigures(len(joined), _clean(figures), fairness, None)
    rows = performance_counts(task, joined, positive=positive, threshold=threshold)
    merged = merge_all_performance([rows, *posted_counts])
    figures = metrics.metrics_from_counts(task, merged, positive=positive)
    figures.pop("n", None)
    labelled = int(merged["labelled"]) if merged is not None else len(joined)
    return DayFigures(labelled, _clean(figures), {}, merge_all_performance(posted_counts))


def daily_performance_compute(*, deployment: Deployment, day: dt.date) -> DailyPerformance | None:
    """Store the metrics of `day`, its raw rows and posted hours merged (None and nothing
    stored when the day has no predictions)."""
    task = deployment.version.model.task
    settings_row = settings_get(deployment)
    attribute = settings_row.sensitive_attribute if task == Task.BINARY else ""
    predictions, joined = joined_day(deployment, day, attribute=attribute)
    posted = posted_days(deployment, [day]).get(day)
    if posted is not None:
        predictions += posted.predictions
        if joined.empty:
            joined = pd.DataFrame(columns=["request_id", *JOINED_COLUMNS])
    if predictions == 0 and posted is None:
        return None
    threshold = float(deployment.decision_threshold) if deployment.decision_threshold else 0.5
    positive = settings_row.positive_label
    figures = day_figures(
        task, joined, posted, threshold=threshold, positive=positive, attribute=attribute
    )
    digest = performance_input_digest(joined)
    if figures.posted is not None:
        digest = sha256_hex({"rows": digest, "posted": figures.posted})
    row, _ = DailyPerformance.objects.update_or_create(
        deployment=deployment,
        day=day,
        defaults={
            "task": task,
            "predictions": predictions,
            "labelled": figures.labelled,
            "metrics": figures.metrics,
            "fairness": figures.fairness,
            "decision_threshold": threshold if task == Task.BINARY else None,
            "positive_label": positive if task == Task.BINARY else "",
            "input_digest": digest,
        },
    )
    return row


def performance_days_compute(
    *, deployment: Deployment, start: dt.datetime, end: dt.datetime
) -> list[DailyPerformance]:
    """Daily performance for every UTC day touching [start, end)."""
    day = start.astimezone(dt.UTC).date()
    last = (end - dt.timedelta(microseconds=1)).astimezone(dt.UTC).date()
    rows = []
    while day <= last:
        row = daily_performance_compute(deployment=deployment, day=day)
        if row is not None:
            rows.append(row)
        day += DAY
    return rows


def _day_runs(days: list[dt.date]) -> Q:
    """The days as timestamp ranges, consecutive days merged into one range."""
    runs: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(days)):
        if runs and day == runs[-1][1] + DAY:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    condition = Q()
    for first, last in runs:
        start, _ = day_bounds(first)
        _, end = day_bounds(last)
        condition |= Q(timestamp__gte=start, timestamp__lt=end)
    return condition


def joined_days(
    deployment: Deployment, days: list[dt.date], *, attribute: str = ""
) -> tuple[pd.Series, pd.DataFrame]:
    """`joined_day` for many days at once, in three queries: (predictions per day, the
    labelled rows with a "day" column). Predictions are counted per day in the database and
    only those with ground truth are read: a back-fill of months without labels reads none."""
    fields = [
        "request_id",
        "timestamp",
        "prediction_label",
        "prediction_score",
        "prediction_scores",
    ]
    rows = PredictionEvent.objects.filter(_day_runs(days), deployment=deployment, status="ok")
    per_day = (
        rows.annotate(day=TruncDate("timestamp", tzinfo=dt.UTC))
        .order_by()
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    counts = pd.Series(dict(per_day), dtype="int64").sort_index()
    if attribute:
        rows = rows.annotate(group=KT(f"features__{attribute}"))
        fields.append("group")
    truths = GroundTruth.objects.filter(deployment=deployment)
    labelled = rows.filter(request_id__in=truths.values("request_id"))
    events = pd.DataFrame.from_records(list(labelled.values_list(*fields)), columns=fields)
    events["day"] = pd.to_datetime(events.pop("timestamp"), utc=True).dt.date
    truth_fields = ["request_id", "label", "value"]
    truth = pd.DataFrame.from_records(
        list(
            truths.filter(request_id__in=labelled.values("request_id")).values_list(*truth_fields)
        ),
        columns=truth_fields,
    )
    return counts, events.merge(truth, on="request_id", how="inner")


def performance_days_list_compute(
    *, deployment: Deployment, days: list[dt.date]
) -> list[DailyPerformance]:
    """Daily performance for each of the given UTC days that has predictions, raw or posted:
    the same figures as `daily_performance_compute` day by day, in a constant number of
    statements (four reads, one upsert) however many days."""
    if not days:
        return []
    task = deployment.version.model.task
    settings_row = settings_get(deployment)
    attribute = settings_row.sensitive_attribute if task == Task.BINARY else ""
    counts, joined = joined_days(deployment, days, attribute=attribute)
    posted = posted_days(deployment, days)
    threshold = float(deployment.decision_threshold) if deployment.decision_threshold else 0.5
    positive = settings_row.positive_label
    by_day = dict(iter(joined.groupby("day"))) if not joined.empty else {}
    rows = []
    for day in sorted(set(counts.index) | set(posted)):
        predictions = int(counts.get(day, 0))
        day_posted = posted.get(day)
        if day_posted is not None:
            predictions += day_posted.predictions
        labelled = by_day.get(day, joined.iloc[0:0]).drop(columns="day")
        figures = day_figures(
            task, labelled, day_posted, threshold=threshold, positive=positive, attribute=attribute
        )
        rows.append(
            DailyPerformance(
                deployment=deployment,
                day=day,
                task=task,
                predictions=predictions,
                labelled=figures.labelled,
                metrics=figures.metrics,
                fairness=figures.fairness,
            )
        )
    return DailyPerformance.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["deployment", "day"],
        update_fields=["task", "predictions", "labelled", "metrics", "fairness", "computed_at"],
    )


class HealthFigures(TypedDict, total=False):
    error_rate: float
    latency_p95_ms: float | None
    seconds_since_last: float | None


def _health_figures(deployment: Deployment, now: dt.datetime) -> HealthFigures:
    """Error rate, request-weighted p95 latency and silence over the last day's hourly rows."""
    hours = list(
        HourlyHealth.objects.filter(deployment=deployment, hour__gte=now - DAY).values(
            "hour", "count", "errors", "latency_count", "latency_p95_ms"
        )
    )
    total = sum(row["count"] for row in hours)
    if not total:
        return {}
    timed = [row for row in hours if row["latency_p95_ms"] is not None and row["latency_count"]]
    weight = sum(row["latency_count"] for row in timed)
    last = PredictionEvent.objects.filter(deployment=deployment).order_by("-timestamp").first()
    return {
        "error_rate": sum(row["errors"] for row in hours) / total,
        "latency_p95_ms": (
            sum((row["latency_p95_ms"] or 0.0) * row["latency_count"] for row in timed) / weight
            if weight
            else None
        ),
        "seconds_since_last": (now - last.timestamp).total_seconds() if last else None,
    }


def _drift_figures(deployment: Deployment) -> dict[str, Any]:
    """From the latest drift rows: the drifted feature share, plain and weighted by the
    version's feature importance; whether the predictions drifted; whether any multivariate
    test did (None where not computed)."""
    results = rollup_selectors.drift_latest(deployment=deployment)
    features = {row.feature: row.drifted for row in results if row.kind == DriftKind.FEATURE}
    predictions = [row.drifted for row in results if row.kind == DriftKind.PREDICTION]
    rows = [row.drifted for row in results if row.kind == DriftKind.MULTIVARIATE]
    figures: dict[str, Any] = {
        "prediction_drifted": any(predictions) if predictions else None,
        "rows_drifted": any(rows) if rows else None,
    }
    if features:
        importance = deployment.version.feature_importance or None
        figures["drift_share"] = sum(features.values()) / len(features)
        if importance:
            figures["weighted_drift_share"] = weighted_drift_share(features, importance)
    return figures


# The accuracy axis reads the last two labelled days (weighted by labelled predictions): today
# alone is a partial day whose few outcomes would make the level flicker.
STATUS_ACCURACY_DAYS = 2


def status_verdicts(
    *, deployment: Deployment, now: dt.datetime | None = None
) -> dict[str, Verdict]:
    """The four axes from the latest daily performance, the latest drift results and the
    last day's hourly health and data quality, against the deployment's thresholds."""
    now = now or timezone.now()
    task = deployment.version.model.task
    headline = headline_metric(task)
    accuracy = windowed_metric(deployment, headline, STATUS_ACCURACY_DAYS)
    # No labelled day yet: the label-free estimate (classifiers' accuracy) stands in, and the
    # verdict says it is estimated.
    estimated = accuracy is None and task != Task.REGRESSION
    if estimated:
        accuracy = estimated_window(deployment, headline, STATUS_ACCURACY_DAYS)
    verdicts = deployment_status(
        accuracy=accuracy,
        **_drift_figures(deployment),
        thresholds=thresholds_of(deployment),
        accuracy_metric=headline,
        **_health_figures(deployment, now),
        # The same 24 hours as service health: a quality problem that was fixed clears.
        data_quality=quality_worst(deployment=deployment, since=now - DAY),
    )
    if estimated and accuracy is not None:
        verdict = verdicts["accuracy"]
        verdicts["accuracy"] = replace(
            verdict, reason=f"estimated (no labels yet): {verdict.reason}"
        )
    return verdicts


def deployment_status_compute(
    *, deployment: Deployment, now: dt.datetime | None = None
) -> DeploymentStatus:
    """Replace the deployment's status row with freshly computed verdicts."""
    now = now or timezone.now()
    verdicts = status_verdicts(deployment=deployment, now=now)
    defaults: dict[str, Any] = {"computed_at": now}
    for axis, verdict in verdicts.items():
        defaults[f"{axis}_level"] = str(verdict.level)
        defaults[f"{axis}_reason"] = verdict.reason
    row, _ = DeploymentStatus.objects.update_or_create(deployment=deployment, defaults=defaults)
    return row
