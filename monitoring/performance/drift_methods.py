"""Checks of a deployment's drift method overrides (`MonitoringSettings.drift_methods`).

Pure: the overrides and the version's {feature: declared type} in, problems out. A key is a
feature of the version's input schema or a kind ("numerical", "categorical"); a value is a
method name of `monitoring.engines.METHODS` or {"method": name, "threshold": number, and the
method's own options}. The method must apply to the feature's kind.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from monitoring.engines import METHODS
from monitoring.engines.drift import feature_kind

# The kind keys, and the engines' name for each kind.
KIND_KEYS = {"numerical": "numeric", "categorical": "categorical"}


def _method_problem(value: Any, kind: str) -> str | None:
    if isinstance(value, str):
        method, threshold, options = value, None, {}
    elif isinstance(value, Mapping):
        options = dict(value)
        method, threshold = options.pop("method", None), options.pop("threshold", None)
    else:
        return "a method name or {'method': …, 'threshold': …}"
    spec = METHODS.get(method) if isinstance(method, str) else None
    if spec is None:
        return f"unknown method {method!r}: one of {sorted(METHODS)}"
    if kind not in spec.kinds:
        return f"{method} does not apply to {kind} features"
    if threshold is not None and (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not math.isfinite(threshold)
    ):
        return f"threshold must be a number, not {threshold!r}"
    unknown = set(options) - set(spec.options)
    if unknown:
        return f"{method} takes no option {sorted(unknown)}"
    return None


def drift_methods_problems(
    overrides: Mapping[str, Any], features: Mapping[str, str]
) -> dict[str, str]:
    """{key: what is wrong with it}; empty when every override is usable."""
    problems: dict[str, str] = {}
    for key, value in overrides.items():
        if key in features:
            kind = feature_kind(features[key])
        elif key in KIND_KEYS:
            kind = KIND_KEYS[key]
        else:
            problems[key] = (
                "not a feature of the deployed version's input schema, nor "
                f"one of {sorted(KIND_KEYS)}"
            )
            continue
        if kind is None:
            problems[key] = f"features of type {features[key]!r} have no drift method"
            continue
        problem = _method_problem(value, kind)
        if problem:
            problems[key] = problem
    return problems


def input_features(version: Any) -> dict[str, str]:
    """{feature: declared type} of a model version's input schema."""
    return {str(f["name"]): str(f.get("type", "")) for f in version.input_schema or []}
