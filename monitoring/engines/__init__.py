"""Steward's monitoring engines: pure computation over arrays and summaries, no Django.

Modules: `summaries` (mergeable per-feature summaries), `drift` (univariate drift, method
choice, whole tables), `multivariate` (MMD and domain classifier; imports scikit-learn, so it
is not loaded here), `quality` (data quality), `metrics` (performance and fairness), `health`
(service health), `status` (good / at risk / failing with reasons).
"""

from __future__ import annotations

from monitoring.engines.drift import (
    ENGINE_VERSION,
    METHODS,
    DriftReport,
    DriftResult,
    choose_method,
    column_drift,
    detect_drift,
    prediction_drift,
)
from monitoring.engines.summaries import (
    CategoricalLayout,
    CategoricalSummary,
    NumericLayout,
    NumericSummary,
    merge,
    merge_all,
    summarize,
    summary_from_dict,
)

__all__ = [
    "ENGINE_VERSION",
    "METHODS",
    "CategoricalLayout",
    "CategoricalSummary",
    "DriftReport",
    "DriftResult",
    "NumericLayout",
    "NumericSummary",
    "choose_method",
    "column_drift",
    "detect_drift",
    "merge",
    "merge_all",
    "prediction_drift",
    "summarize",
    "summary_from_dict",
]
