"""Steward's monitoring engines: pure computation over arrays and summaries, no Django.

Modules: `steward_client.summaries` (mergeable per-feature summaries, shared with the
client), `drift` (univariate drift, method choice, whole tables), `multivariate` (MMD and
domain classifier), `quality` (data quality), `metrics` (performance and fairness), `health`
(service health), `status` (good / at risk / failing with reasons), `estimation` (CBPE and
DLE: performance without labels). `multivariate` and `estimation` import scikit-learn, so
they are not loaded here.
"""

from __future__ import annotations

from steward_client.summaries import (
    CategoricalLayout,
    CategoricalSummary,
    NumericLayout,
    NumericSummary,
    merge,
    merge_all,
    summarize,
    summary_from_dict,
)

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
