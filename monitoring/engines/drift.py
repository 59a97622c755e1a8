"""Univariate drift: one function per method, exact on raw values or approximate on summaries.

Methods (name, feature kinds, what `statistic` is, drift rule, default threshold):
- "ks": numeric; KS statistic D with its p-value (scipy.stats.ks_2samp); drift when
  p < 0.05.
- "wasserstein": numeric; first Wasserstein distance divided by the reference's standard
  deviation (ddof=0, floored at 0.001), as Evidently's "Wasserstein distance (normed)";
  drift when >= 0.1.
- "chisquare": categorical (and numeric with few values); chi-squared statistic with its
  p-value, goodness of fit of the current counts to the reference proportions by default
  (Evidently's test) or a 2 x k homogeneity test (`mode="homogeneity"`); drift when p < 0.05.
- "jensenshannon": both; scipy's Jensen-Shannon distance with the natural logarithm
  (Evidently's choice; values in [0, 0.833]); drift when >= 0.1. Numeric raw values are binned
  as Evidently bins them (Sturges edges of the pooled data, or per value with <= 20 values).
- "psi": both; population stability index on the reference's deciles (numeric) or on the
  categories, empty proportions replaced by 1e-4; drift when >= 0.1.

The default choice follows Evidently (`choose_method`): with at most 1,000 reference values, KS
for numbers and chi-squared for categories; above, normed Wasserstein and Jensen-Shannon, since
p-value tests flag every negligible shift at large n. Numbers with at most five distinct values
are compared as categories. Missing values (None, NaN, ±inf) are left out, as Evidently does;
`quality.py` reports them.

Each result is a `DriftResult` naming the method, parameters, engine version and, for
summaries (or raw columns with `fingerprint=True`), the sha256 of the data it came from.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from steward_client.summaries import CategoricalSummary, NumericSummary, summarize

from monitoring.engines import binned, univariate
from monitoring.engines.univariate import CategoricalColumn, NumericColumn

ENGINE_VERSION = "steward-drift/1.0"
SIZE_THRESHOLD = 1000
FEW_VALUES = 5
NUMERIC_TYPES = frozenset({"numeric", "integer"})
CATEGORICAL_TYPES = frozenset({"categorical", "boolean"})


@dataclass(frozen=True)
class MethodSpec:
    """What a method accepts and how its score becomes a verdict."""

    name: str
    kinds: frozenset[str]
    uses_p_value: bool
    default_threshold: float
    options: frozenset[str] = frozenset()


METHODS: dict[str, MethodSpec] = {
    spec.name: spec
    for spec in (
        MethodSpec("ks", frozenset({"numeric"}), True, 0.05),
        MethodSpec("wasserstein", frozenset({"numeric"}), False, 0.1),
        MethodSpec(
            "chisquare", frozenset({"numeric", "categorical"}), True, 0.05, frozenset({"mode"})
        ),
        MethodSpec(
            "jensenshannon", frozenset({"numeric", "categorical"}), False, 0.1, frozenset({"base"})
        ),
        MethodSpec(
            "psi",
            frozenset({"numeric", "categorical"}),
            False,
            0.1,
            frozenset({"n_bins", "epsilon"}),
        ),
    )
}


def _json_number(value: Any) -> Any:
    if isinstance(value, float | np.floating) and not math.isfinite(value):
        return str(float(value))  # "inf", "-inf" or "nan": JSON has no such numbers
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass(frozen=True)
class DriftResult:
    """One drift verdict. `drifted` is `p_value < threshold` for tests (KS, chi-squared, MMD),
    `statistic >= threshold` for distances, and for the domain classifier the lower bound of
    the AUC's confidence interval (`parameters["ci_low"]`) > threshold. `reference_digest`
    and `current_digest` are the sha256 of the summaries (or raw columns) compared, None when
    not computed."""

    method: str
    statistic: float
    p_value: float | None
    threshold: float
    drifted: bool
    parameters: dict[str, Any] = field(default_factory=dict)
    engine_version: str = ENGINE_VERSION
    reference_digest: str | None = None
    current_digest: str | None = None
    column: str | None = None

    @property
    def score(self) -> float:
        """The value compared with the threshold (Evidently's "drift score")."""
        return self.p_value if self.p_value is not None else self.statistic

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: non-finite numbers become the strings "inf", "-inf", "nan"."""
        return {
            "column": self.column,
            "method": self.method,
            "statistic": _json_number(self.statistic),
            "p_value": _json_number(self.p_value),
            "threshold": self.threshold,
            "drifted": self.drifted,
            "parameters": {k: _json_number(v) for k, v in self.parameters.items()},
            "engine_version": self.engine_version,
            "reference_digest": self.reference_digest,
            "current_digest": self.current_digest,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftResult:
        p_value = data["p_value"]
        return cls(
            method=data["method"],
            statistic=float(data["statistic"]),
            p_value=None if p_value is None else float(p_value),
            threshold=float(data["threshold"]),
            drifted=bool(data["drifted"]),
            parameters=dict(data["parameters"]),
            engine_version=data["engine_version"],
            reference_digest=data["reference_digest"],
            current_digest=data["current_digest"],
            column=data.get("column"),
        )


Column = NumericColumn | CategoricalColumn | NumericSummary | CategoricalSummary


def feature_kind(feature_type: str) -> str | None:
    """Return "numeric", "categorical", or None for a declared type without drift methods."""
    if feature_type in NUMERIC_TYPES:
        return "numeric"
    if feature_type in CATEGORICAL_TYPES:
        return "categorical"
    return None


def prepare(values: Any, kind: str) -> Column:
    """A summary passes through; raw values become a NumericColumn or CategoricalColumn."""
    if isinstance(values, NumericSummary | CategoricalSummary | NumericColumn | CategoricalColumn):
        return values
    return NumericColumn.of(values) if kind == "numeric" else CategoricalColumn.of(values)


def _pair(reference: Any, current: Any, kind: str) -> tuple[Column, Column]:
    """Both sides in one representation: a raw side facing a summary is summarised on the
    summary's layout (the reference's), so the two can be compared slot by slot."""
    summaries = (NumericSummary, CategoricalSummary)
    if isinstance(reference, summaries) and not isinstance(current, summaries):
        return reference, summarize(current, reference.layout)
    if isinstance(current, summaries) and not isinstance(reference, summaries):
        return summarize(reference, current.layout), current
    return prepare(reference, kind), prepare(current, kind)


# --- method selection -------------------------------------------------------------------------


def choose_method(
    feature_type: str,
    n_reference: int,
    n_current: int,
    override: str | None = None,
    *,
    n_unique: int | None = None,
    size_threshold: int = SIZE_THRESHOLD,
) -> str:
    """The method for one column, following Evidently's default rule.

    With `override`, that method (checked against the feature's type). Otherwise: categories,
    and numbers with at most five distinct values (`n_unique`, both sides together), get
    chi-squared when the reference has at most `size_threshold` values and Jensen-Shannon above;
    other numbers get KS up to the threshold and normed Wasserstein above. Like Evidently, the
    size rule looks at the reference; both sides must hold values.
    """
    kind = feature_kind(feature_type)
    if kind is None:
        raise ValueError(f"no drift method for feature type {feature_type!r}")
    if n_reference <= 0 or n_current <= 0:
        raise ValueError("drift needs values on both sides")
    if override is not None:
        spec = METHODS.get(override)
        if spec is None or kind not in spec.kinds:
            raise ValueError(f"method {override!r} does not apply to {feature_type} features")
        return override
    small = n_reference <= size_threshold
    if kind == "categorical" or (n_unique is not None and n_unique <= FEW_VALUES):
        return "chisquare" if small else "jensenshannon"
    return "ks" if small else "wasserstein"


def _distinct_if_few(reference: Column, current: Column) -> int | None:
    if isinstance(reference, NumericColumn) and isinstance(current, NumericColumn):
        return univariate.distinct_union_size(reference.values, current.values, FEW_VALUES)
    if isinstance(reference, NumericSummary) and isinstance(current, NumericSummary):
        return binned.distinct_union_if_few(reference, current, FEW_VALUES)
    return None


# --- method runners: (statistic, p-value, extra parameters) ----------------------------------

Options = dict[str, Any]
RunnerResult = tuple[float, float | None, dict[str, Any]]


def _mismatch(reference: Column, current: Column) -> TypeError:
    return TypeError(
        f"reference ({type(reference).__name__}) and current ({type(current).__name__}) "
        "are of different kinds"
    )


def _category_counts(reference: Column, current: Column) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(reference, NumericSummary) and isinstance(current, NumericSummary):
        binned.check_pair(reference, current)
        return reference.counts, current.counts
    if isinstance(reference, CategoricalSummary) and isinstance(current, CategoricalSummary):
        binned.check_pair(reference, current)
        return reference.counts, current.counts
    if isinstance(reference, NumericColumn) and isinstance(current, NumericColumn):
        ref_keys, ref_counts = univariate.distinct_counts(reference.values)
        cur_keys, cur_counts = univariate.distinct_counts(current.values)
    elif isinstance(reference, CategoricalColumn) and isinstance(current, CategoricalColumn):
        ref_keys, ref_counts = reference.labels, reference.counts
        cur_keys, cur_counts = current.labels, current.counts
    else:
        raise _mismatch(reference, current)
    _, ref, cur = univariate.align_counts(ref_keys, ref_counts, cur_keys, cur_counts)
    return ref, cur


def _run_ks(reference: Column, current: Column, options: Options) -> RunnerResult:
    if isinstance(reference, NumericSummary) and isinstance(current, NumericSummary):
        binned.check_pair(reference, current)
        d, p = binned.ks_binned(reference, current)
    elif isinstance(reference, NumericColumn) and isinstance(current, NumericColumn):
        d, p = univariate.ks_sorted(reference.values, current.values)
    else:
        raise _mismatch(reference, current)
    return d, p, {}


def _run_wasserstein(reference: Column, current: Column, options: Options) -> RunnerResult:
    if isinstance(reference, NumericSummary) and isinstance(current, NumericSummary):
        binned.check_pair(reference, current)
        raw = binned.wasserstein_binned(reference, current)
        std = float(reference.std or 0.0)
    elif isinstance(reference, NumericColumn) and isinstance(current, NumericColumn):
        raw = univariate.wasserstein_sorted(reference.values, current.values)
        std = float(np.std(reference.values))
    else:
        raise _mismatch(reference, current)
    normed = univariate.wasserstein_normed(raw, std)
    return normed, None, {"distance": raw, "reference_std": std}


def _run_chisquare(reference: Column, current: Column, options: Options) -> RunnerResult:
    mode = options.get("mode", "goodness_of_fit")
    ref, cur = _category_counts(reference, current)
    statistic, p_value, dof = univariate.chi_squared_counts(ref, cur, mode=mode)
    return statistic, p_value, {"mode": mode, "dof": dof}


def _run_jensenshannon(reference: Column, current: Column, options: Options) -> RunnerResult:
    base = options.get("base")
    if isinstance(reference, NumericColumn) and isinstance(current, NumericColumn):
        ref, cur = univariate.evidently_bins(reference.values, current.values)
    else:
        ref, cur = _category_counts(reference, current)
    return univariate.jensen_shannon_counts(ref, cur, base=base), None, {"base": base}


def _run_psi(reference: Column, current: Column, options: Options) -> RunnerResult:
    n_bins = int(options.get("n_bins", 10))
    epsilon = float(options.get("epsilon", univariate.PSI_EPSILON))
    if isinstance(reference, NumericColumn) and isinstance(current, NumericColumn):
        ref, cur = univariate.psi_bin_counts(reference.values, current.values, n_bins)
    elif isinstance(reference, NumericSummary) and isinstance(current, NumericSummary):
        binned.check_pair(reference, current)
        ref, cur = binned.decile_groups(reference, current, n_bins)
    else:
        ref, cur = _category_counts(reference, current)
    statistic = univariate.psi_counts(ref, cur, epsilon=epsilon)
    return statistic, None, {"n_bins": n_bins, "epsilon": epsilon}


_RUNNERS: dict[str, Callable[[Column, Column, Options], RunnerResult]] = {
    "ks": _run_ks,
    "wasserstein": _run_wasserstein,
    "chisquare": _run_chisquare,
    "jensenshannon": _run_jensenshannon,
    "psi": _run_psi,
}


def evaluate(
    method: str,
    reference: Column,
    current: Column,
    *,
    threshold: float | None = None,
    options: Mapping[str, Any] | None = None,
    fingerprint: bool = False,
    column: str | None = None,
) -> DriftResult:
    """Run `method` on two prepared columns (see `prepare`) and give its verdict."""
    spec = METHODS[method]
    options = dict(options or {})
    unknown = set(options) - spec.options
    if unknown:
        raise ValueError(f"method {method!r} takes no option(s) {sorted(unknown)}")
    threshold = spec.default_threshold if threshold is None else float(threshold)
    statistic, p_value, extra = _RUNNERS[method](reference, current, options)
    if spec.uses_p_value:
        if p_value is None:
            raise ValueError(f"method {method!r} gave no p-value")
        drifted = p_value < threshold
    else:
        drifted = statistic >= threshold
    summary_based = isinstance(reference, NumericSummary | CategoricalSummary)
    parameters = {
        **extra,
        "source": "summary" if summary_based else "raw",
        "n_reference": reference.count,
        "n_current": current.count,
    }
    digests = (reference.digest(), current.digest()) if summary_based or fingerprint else None
    return DriftResult(
        method=method,
        statistic=float(statistic),
        p_value=None if p_value is None else float(p_value),
        threshold=threshold,
        drifted=bool(drifted),
        parameters=parameters,
        reference_digest=digests[0] if digests else None,
        current_digest=digests[1] if digests else None,
        column=column,
    )


# --- one function per method ------------------------------------------------------------------


def ks(reference: Any, current: Any, *, threshold: float | None = None) -> DriftResult:
    """Two-sample Kolmogorov-Smirnov: raw arrays (equal to scipy.stats.ks_2samp) or
    NumericSummary pairs (binned D, asymptotic p-value)."""
    ref, cur = _pair(reference, current, "numeric")
    return evaluate("ks", ref, cur, threshold=threshold)


def wasserstein(reference: Any, current: Any, *, threshold: float | None = None) -> DriftResult:
    """Normed first Wasserstein distance (Evidently's): raw arrays (scipy's distance over
    np.std of the reference) or NumericSummary pairs (binned approximation)."""
    ref, cur = _pair(reference, current, "numeric")
    return evaluate("wasserstein", ref, cur, threshold=threshold)


def chi_squared(
    reference: Any,
    current: Any,
    *,
    feature_type: str = "categorical",
    mode: str = "goodness_of_fit",
    threshold: float | None = None,
) -> DriftResult:
    """Chi-squared on category counts (see `univariate.chi_squared_counts` for both modes)."""
    ref, cur = _pair(reference, current, feature_kind(feature_type) or "categorical")
    return evaluate("chisquare", ref, cur, threshold=threshold, options={"mode": mode})


def jensen_shannon(
    reference: Any,
    current: Any,
    *,
    feature_type: str = "categorical",
    base: float | None = None,
    threshold: float | None = None,
) -> DriftResult:
    """Jensen-Shannon distance of the two distributions (natural log unless `base`)."""
    ref, cur = _pair(reference, current, feature_kind(feature_type) or "categorical")
    return evaluate("jensenshannon", ref, cur, threshold=threshold, options={"base": base})


def psi(
    reference: Any,
    current: Any,
    *,
    feature_type: str = "numeric",
    n_bins: int = 10,
    epsilon: float = univariate.PSI_EPSILON,
    threshold: float | None = None,
) -> DriftResult:
    """Population stability index on the reference's quantile bins or on the categories."""
    ref, cur = _pair(reference, current, feature_kind(feature_type) or "numeric")
    options = {"n_bins": n_bins, "epsilon": epsilon}
    return evaluate("psi", ref, cur, threshold=threshold, options=options)


# --- columns and tables -----------------------------------------------------------------------

Schema = Mapping[str, str] | Sequence[Mapping[str, Any]]
Override = str | Mapping[str, Any]


def schema_types(schema: Schema) -> dict[str, str]:
    """{column: declared type} from a mapping or a registry input schema
    ([{"name": ..., "type": ...}, ...])."""
    if isinstance(schema, Mapping):
        return {str(name): str(kind) for name, kind in schema.items()}
    return {str(feature["name"]): str(feature["type"]) for feature in schema}


def _split_override(
    override: Override | None,
) -> tuple[str | None, float | None, dict[str, Any]]:
    """(method, threshold, options) from "wasserstein" or {"method": ..., "threshold": ...}."""
    if override is None or isinstance(override, str):
        return override, None, {}
    options = dict(override)
    method = options.pop("method", None)
    threshold = options.pop("threshold", None)
    return method, threshold, options


def column_drift(
    reference: Any,
    current: Any,
    feature_type: str,
    *,
    override: Override | None = None,
    size_threshold: int = SIZE_THRESHOLD,
    fingerprint: bool = False,
    column: str | None = None,
) -> DriftResult:
    """Drift of one column: raw values, summaries, or a summary facing raw values.

    The method is `choose_method`'s (or the override's: a method name or a mapping with
    "method", "threshold" and the method's options). Raises ValueError when a side has no
    values or the method does not apply.
    """
    kind = feature_kind(feature_type)
    if kind is None:
        raise ValueError(f"no drift method for feature type {feature_type!r}")
    ref, cur = _pair(reference, current, kind)
    method, threshold, options = _split_override(override)
    method = choose_method(
        feature_type,
        ref.count,
        cur.count,
        method,
        n_unique=_distinct_if_few(ref, cur),
        size_threshold=size_threshold,
    )
    return evaluate(
        method,
        ref,
        cur,
        threshold=threshold,
        options=options,
        fingerprint=fingerprint,
        column=column,
    )


@dataclass(frozen=True)
class DriftReport:
    """Per-column results, the columns left out (with the reason), and the dataset verdict:
    drifted when the share of drifted columns reaches `drift_share` (Evidently's 0.5)."""

    results: dict[str, DriftResult]
    skipped: dict[str, str]
    drift_share: float = 0.5

    @property
    def n_drifted(self) -> int:
        return sum(result.drifted for result in self.results.values())

    @property
    def share_drifted(self) -> float:
        return self.n_drifted / len(self.results) if self.results else 0.0

    @property
    def dataset_drifted(self) -> bool:
        return bool(self.results) and self.share_drifted >= self.drift_share

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine_version": ENGINE_VERSION,
            "results": {name: result.to_dict() for name, result in self.results.items()},
            "skipped": dict(self.skipped),
            "n_drifted": self.n_drifted,
            "share_drifted": self.share_drifted,
            "drift_share": self.drift_share,
            "dataset_drifted": self.dataset_drifted,
        }


def _column_of(table: Any, name: str) -> Any:
    if isinstance(table, pd.DataFrame):
        return table[name] if name in table.columns else None
    return table.get(name)


def detect_drift(
    reference: Any,
    current: Any,
    schema: Schema,
    overrides: Mapping[str, Override] | None = None,
    *,
    size_threshold: int = SIZE_THRESHOLD,
    fingerprint: bool = False,
    drift_share: float = 0.5,
) -> DriftReport:
    """Drift of every declared feature of a table.

    `reference` and `current` are pandas DataFrames or mappings of column -> raw values
    (numpy array, Series, list) or summary. Raw against raw is exact; a summary on either side
    makes that column's result approximate (`parameters["source"] == "summary"`). Columns of
    types without a method (text, datetime), absent from a side, or without values on a side
    are listed in `skipped` with the reason. `fingerprint=True` also hashes raw columns.
    """
    overrides = overrides or {}
    results: dict[str, DriftResult] = {}
    skipped: dict[str, str] = {}
    for name, feature_type in schema_types(schema).items():
        if feature_kind(feature_type) is None:
            skipped[name] = f"{feature_type} features have no drift method"
            continue
        ref_values, cur_values = _column_of(reference, name), _column_of(current, name)
        if ref_values is None or cur_values is None:
            skipped[name] = "absent from the " + ("reference" if ref_values is None else "current")
            continue
        try:
            results[name] = column_drift(
                ref_values,
                cur_values,
                feature_type,
                override=overrides.get(name),
                size_threshold=size_threshold,
                fingerprint=fingerprint,
                column=name,
            )
        except ValueError as error:
            skipped[name] = str(error)
    return DriftReport(results, skipped, drift_share)


def prediction_drift(
    reference: Any,
    current: Any,
    *,
    prediction_type: str = "numeric",
    override: Override | None = None,
    size_threshold: int = SIZE_THRESHOLD,
    fingerprint: bool = False,
) -> DriftResult:
    """Drift of the prediction column: scores and regression outputs as "numeric", class
    labels as "categorical"; the same methods and rules as any feature."""
    return column_drift(
        reference,
        current,
        prediction_type,
        override=override,
        size_threshold=size_threshold,
        fingerprint=fingerprint,
        column="prediction",
    )
