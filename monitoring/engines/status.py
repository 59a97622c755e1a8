"""Good / at risk / failing per axis (accuracy, drift, service health, data quality), with the
reason in words.

Each axis compares figures with two thresholds: crossing the at-risk one makes the axis "at
risk", crossing the failing one makes it "failing"; the axis takes the worst of its checks and
its reason names every check that crossed. An axis without figures is "unknown" (no ground
truth yet, no traffic), never silently "good".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Level(StrEnum):
    GOOD = "good"
    AT_RISK = "at_risk"
    FAILING = "failing"
    UNKNOWN = "unknown"


_RANK = {Level.UNKNOWN: -1, Level.GOOD: 0, Level.AT_RISK: 1, Level.FAILING: 2}


@dataclass(frozen=True)
class Thresholds:
    """Per-deployment thresholds; the defaults suit a typical classifier behind an HTTP API.

    Accuracy-like figures (higher is better) fall below their thresholds; drift share (the
    share of drifted features, Evidently's dataset-drift share is 0.5), error rate, latency and
    time since the last prediction rise above theirs.
    """

    accuracy_at_risk: float = 0.85
    accuracy_failing: float = 0.75
    drift_share_at_risk: float = 0.2
    drift_share_failing: float = 0.5
    drift_weighted_share_at_risk: float = 0.25
    drift_weighted_share_failing: float = 0.5
    error_rate_at_risk: float = 0.01
    error_rate_failing: float = 0.05
    latency_p95_ms_at_risk: float = 500.0
    latency_p95_ms_failing: float = 2000.0
    silence_seconds_at_risk: float = 3600.0
    silence_seconds_failing: float = 86_400.0
    # Any feature's share of missing values, type errors, values outside the reference range
    # or unseen categories.
    data_quality_share_at_risk: float = 0.05
    data_quality_share_failing: float = 0.2

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, task: str | None = None) -> Thresholds:
        """The task's defaults overridden by the known keys of `data` (unknown keys are an
        error)."""
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown status thresholds: {sorted(unknown)}")
        merged = TASK_DEFAULTS.get(task or "", {}) | dict(data)
        return cls(**{key: float(value) for key, value in merged.items()})


# Defaults that differ by the model's task: a regression's headline figure is R2, where 0.3
# is already useful and below 0 is worse than predicting the mean.
TASK_DEFAULTS: dict[str, dict[str, float]] = {
    "regression": {"accuracy_at_risk": 0.3, "accuracy_failing": 0.0},
}


@dataclass(frozen=True)
class Verdict:
    axis: str
    level: Level
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"axis": self.axis, "level": str(self.level), "reason": self.reason}


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def check(
    name: str,
    value: float,
    *,
    at_risk: float,
    failing: float,
    higher_is_better: bool,
    unit: str = "",
) -> tuple[Level, str]:
    """One figure against its two thresholds, with a sentence saying why."""

    def worse_than(limit: float) -> bool:
        return value < limit if higher_is_better else value > limit

    side = "below" if higher_is_better else "above"
    shown = f"{name} {_fmt(value)}{unit}"
    if worse_than(failing):
        return Level.FAILING, f"{shown} is {side} the failing threshold {_fmt(failing)}{unit}"
    if worse_than(at_risk):
        return Level.AT_RISK, f"{shown} is {side} the at-risk threshold {_fmt(at_risk)}{unit}"
    bound = "at or above" if higher_is_better else "at or below"
    return Level.GOOD, f"{shown} is {bound} the at-risk threshold {_fmt(at_risk)}{unit}"


def _combine(axis: str, checks: list[tuple[Level, str]], no_data: str) -> Verdict:
    if not checks:
        return Verdict(axis, Level.UNKNOWN, no_data)
    level = max((lvl for lvl, _ in checks), key=_RANK.__getitem__)
    reasons = [reason for lvl, reason in checks if lvl == level]
    return Verdict(axis, level, "; ".join(reasons))


def accuracy_status(
    value: float | None, thresholds: Thresholds | None = None, *, metric: str = "accuracy"
) -> Verdict:
    """The accuracy axis from one higher-is-better figure (accuracy, ROC AUC, ...)."""
    thresholds = thresholds or Thresholds()
    checks = []
    if value is not None:
        checks.append(
            check(
                metric,
                value,
                at_risk=thresholds.accuracy_at_risk,
                failing=thresholds.accuracy_failing,
                higher_is_better=True,
            )
        )
    return _combine("accuracy", checks, f"no {metric} measured in the window (no ground truth)")


def drift_status(
    drift_share: float | None,
    thresholds: Thresholds | None = None,
    *,
    weighted_share: float | None = None,
    prediction_drifted: bool | None = None,
    rows_drifted: bool | None = None,
) -> Verdict:
    """The drift axis: the worst of the share of drifted features (0..1), that share weighted
    by feature importance (a few important features weigh as much as many minor ones),
    whether the predictions themselves drifted (at risk: the model's output has moved), and
    whether a multivariate test tells current rows from reference rows (at risk: the features
    no longer move together as they did, which no single column may show)."""
    thresholds = thresholds or Thresholds()
    checks = []
    if drift_share is not None:
        checks.append(
            check(
                "drifted feature share",
                drift_share,
                at_risk=thresholds.drift_share_at_risk,
                failing=thresholds.drift_share_failing,
                higher_is_better=False,
            )
        )
    if weighted_share is not None:
        checks.append(
            check(
                "importance-weighted drifted share",
                weighted_share,
                at_risk=thresholds.drift_weighted_share_at_risk,
                failing=thresholds.drift_weighted_share_failing,
                higher_is_better=False,
            )
        )
    if prediction_drifted is not None:
        checks.append(
            (Level.AT_RISK, "the predictions drifted from the reference targets")
            if prediction_drifted
            else (Level.GOOD, "the predictions did not drift")
        )
    if rows_drifted is not None:
        checks.append(
            (Level.AT_RISK, "a multivariate test tells current rows from reference rows")
            if rows_drifted
            else (Level.GOOD, "the rows as a whole did not drift")
        )
    return _combine("drift", checks, "no drift computed for the window")


def health_status(
    *,
    error_rate: float | None = None,
    latency_p95_ms: float | None = None,
    seconds_since_last: float | None = None,
    thresholds: Thresholds | None = None,
) -> Verdict:
    """The service-health axis: the worst of error rate, p95 latency and silence."""
    t = thresholds or Thresholds()
    candidates = [
        ("error rate", error_rate, t.error_rate_at_risk, t.error_rate_failing, ""),
        ("p95 latency", latency_p95_ms, t.latency_p95_ms_at_risk, t.latency_p95_ms_failing, " ms"),
        (
            "time since the last prediction",
            seconds_since_last,
            t.silence_seconds_at_risk,
            t.silence_seconds_failing,
            " s",
        ),
    ]
    checks = [
        check(name, value, at_risk=risk, failing=fail, higher_is_better=False, unit=unit)
        for name, value, risk, fail, unit in candidates
        if value is not None
    ]
    return _combine("service_health", checks, "no traffic in the window")


QUALITY_FIGURE_NAMES = {
    "missing_share": "missing share",
    "type_error_share": "type-error share",
    "out_of_range_share": "out-of-range share",
    "unseen_share": "unseen-category share",
}


def data_quality_status(
    worst: dict[str, tuple[str, float]] | None, thresholds: Thresholds | None = None
) -> Verdict:
    """The data-quality axis: per share (missing, type errors, out of range, unseen), the
    worst feature's against the thresholds; the reason names the feature."""
    t = thresholds or Thresholds()
    checks = [
        check(
            f"{QUALITY_FIGURE_NAMES.get(figure, figure)} of {feature}",
            share,
            at_risk=t.data_quality_share_at_risk,
            failing=t.data_quality_share_failing,
            higher_is_better=False,
        )
        for figure, (feature, share) in (worst or {}).items()
    ]
    return _combine("data_quality", checks, "no data quality checked yet (no traffic)")


def deployment_status(
    *,
    accuracy: float | None = None,
    drift_share: float | None = None,
    weighted_drift_share: float | None = None,
    prediction_drifted: bool | None = None,
    rows_drifted: bool | None = None,
    error_rate: float | None = None,
    latency_p95_ms: float | None = None,
    seconds_since_last: float | None = None,
    thresholds: Thresholds | None = None,
    accuracy_metric: str = "accuracy",
    data_quality: dict[str, tuple[str, float]] | None = None,
) -> dict[str, Verdict]:
    """The four axes of one deployment: {"accuracy", "drift", "service_health",
    "data_quality"}, each a Verdict."""
    return {
        "accuracy": accuracy_status(accuracy, thresholds, metric=accuracy_metric),
        "drift": drift_status(
            drift_share,
            thresholds,
            weighted_share=weighted_drift_share,
            prediction_drifted=prediction_drifted,
            rows_drifted=rows_drifted,
        ),
        "service_health": health_status(
            error_rate=error_rate,
            latency_p95_ms=latency_p95_ms,
            seconds_since_last=seconds_since_last,
            thresholds=thresholds,
        ),
        "data_quality": data_quality_status(data_quality, thresholds),
    }


def weighted_drift_share(drifted: dict[str, bool], importance: dict[str, float] | None) -> float:
    """Share of drifted features, weighted by feature importance when given (features without
    an importance weigh 0 then; plain share when no weight is positive)."""
    if not drifted:
        return 0.0
    weights = {name: max(0.0, float((importance or {}).get(name, 0.0))) for name in drifted}
    total = sum(weights.values())
    if total <= 0:
        return sum(drifted.values()) / len(drifted)
    return sum(weights[name] for name, flag in drifted.items() if flag) / total
