"""Forms of the deployment pages: parse and bound-check input; the services decide the rest."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django import forms

from monitoring.engines import METHODS
from monitoring.engines.drift import feature_kind
from monitoring.engines.status import Thresholds
from monitoring.performance.drift_methods import KIND_KEYS, drift_methods_problems
from registry.choices import Environment
from registry.forms import choice_field
from registry.models import Deployment, ModelVersion

# Production goes only through an approved request (approvals:request-new).
DIRECT_ENVIRONMENTS = [
    (Environment.DEV.value, Environment.DEV.label),
    (Environment.STAGING.value, Environment.STAGING.label),
]


def _share_field(initial: Decimal, help_text: str) -> forms.DecimalField:
    return forms.DecimalField(
        label="Traffic share (%)",
        min_value=Decimal("0.01"),
        max_value=Decimal(100),
        decimal_places=2,
        initial=initial,
        help_text=help_text,
    )


class DeployForm(forms.Form):
    """Deploy one version to dev or staging."""

    environment = forms.ChoiceField(choices=DIRECT_ENVIRONMENTS, initial=Environment.STAGING)
    endpoint = forms.CharField(
        max_length=300,
        help_text="Where the version serves, e.g. https://serving.example.org/credit/predict. "
        "An endpoint belongs to the model that first deployed to it.",
    )
    traffic_share = _share_field(
        Decimal(100),
        "Less than 100 runs the version beside what already serves the endpoint (a canary "
        "or an A/B split); the active deployments there may not exceed 100% together.",
    )
    decision_threshold = forms.DecimalField(
        required=False,
        min_value=0,
        max_value=1,
        decimal_places=5,
        help_text="Binary models: scores at or above it count as positive (0.5 when blank).",
    )
    replaces = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        label="Replaces",
        help_text="An active deployment of this model at the same endpoint that this one "
        "takes over from (it becomes inactive).",
    )
    description = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    # Set by the confirmation page: without it the form is only checked and described.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, replaceable: Iterable[Deployment] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "replaces").choices = [("", "Nothing: run beside what serves there")] + [
            (
                d.pk,
                f"#{d.pk}: v{d.version.number} at {d.endpoint} ({d.get_environment_display()}, "
                f"{d.traffic_share:g}%)",
            )
            for d in replaceable
        ]


class CanaryForm(forms.Form):
    """Run another version beside a deployment, at the same endpoint, on a share of traffic."""

    # Version numbers of the deployment's model.
    version = forms.TypedChoiceField(coerce=int, label="Canary version")
    traffic_share = _share_field(
        Decimal(10), "The share of the endpoint's traffic the canary takes."
    )
    description = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, versions: Iterable[ModelVersion] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "version").choices = [
            (v.number, f"v{v.number} ({v.get_stage_display().lower()})") for v in versions
        ]


class RollbackForm(forms.Form):
    # Hidden: the page states the rollback to this version; another one is chosen with the
    # page's GET form (?to=<number>), so what is posted is always what was stated.
    to_version = forms.TypedChoiceField(coerce=int, widget=forms.HiddenInput)
    reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded on the new deployment and in the audit log.",
    )

    def __init__(self, *args: Any, versions: Iterable[ModelVersion] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "to_version").choices = [
            (v.number, f"v{v.number} ({v.get_stage_display().lower()})") for v in versions
        ]


class RetireForm(forms.Form):
    """Nothing to fill in: the confirmation page's button posts it."""


# Threshold fields, in the order the engines list them, with the unit each is read in.
THRESHOLD_HELP = {
    "accuracy": "Headline metric (accuracy, ROC AUC or R²): the level is at risk or failing "
    "below it.",
    "drift_share": "Share of drifted features (0 to 1).",
    "drift_weighted_share": "Share of drifted features weighted by feature importance (0 to 1).",
    "error_rate": "Share of failed predictions over the last day (0 to 1).",
    "latency_p95_ms": "95th percentile latency in milliseconds.",
    "silence_seconds": "Seconds since the last prediction.",
    "data_quality_share": "Worst feature's share of missing, invalid or unseen values (0 to 1).",
}
THRESHOLD_NAMES = list(Thresholds.__dataclass_fields__)
AUTOMATIC = ""


def drift_field_name(key: str) -> str:
    return f"drift__{key}"


def _method_choices(kind: str) -> list[tuple[str, str]]:
    return [(AUTOMATIC, "Automatic (chosen by type and size)")] + [
        (name, name) for name, spec in sorted(METHODS.items()) if kind in spec.kinds
    ]


def _method_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return str(value.get("method", ""))
    return ""


class MonitoringSettingsForm(forms.Form):
    """A deployment's status thresholds and drift methods, one field each.

    Thresholds: blank keeps the stored value (or the task's default). Drift methods: one
    choice per input feature and per kind; "automatic" removes the override. An override's own
    options (a per-method threshold) are kept while its method stays the same."""

    positive_label = forms.CharField(
        max_length=200, help_text="The label that counts as positive for binary metrics."
    )

    def __init__(
        self,
        *args: Any,
        features: Mapping[str, str],
        stored_methods: Mapping[str, Any],
        effective: Mapping[str, float],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.features = dict(features)
        self.stored_methods = dict(stored_methods)
        for name in THRESHOLD_NAMES:
            base = name.removesuffix("_at_risk").removesuffix("_failing")
            level = "at risk" if name.endswith("_at_risk") else "failing"
            self.fields[name] = forms.FloatField(
                required=False,
                min_value=0,
                label=f"{base.replace('_', ' ').capitalize()}: {level}",
                initial=effective.get(name),
                help_text=THRESHOLD_HELP.get(base, ""),
            )
        self.drift_keys: list[str] = []
        for key in [*KIND_KEYS, *self.features]:
            kind = KIND_KEYS[key] if key in KIND_KEYS else feature_kind(self.features[key])
            if kind is None:
                continue
            label = f"All {key} features" if key in KIND_KEYS else f"Feature {key}"
            self.fields[drift_field_name(key)] = forms.ChoiceField(
                required=False,
                label=f"Drift method: {label}",
                choices=_method_choices(kind),
                initial=_method_of(stored_methods.get(key)),
            )
            self.drift_keys.append(key)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in THRESHOLD_NAMES:
            base = name.removesuffix("_at_risk").removesuffix("_failing")
            if not name.endswith("_failing"):
                continue
            at_risk, failing = data.get(f"{base}_at_risk"), data.get(name)
            if at_risk is None or failing is None:
                continue
            higher_is_better = base == "accuracy"
            if (failing > at_risk) if higher_is_better else (failing < at_risk):
                word = "above" if higher_is_better else "below"
                self.add_error(name, f"The failing level may not be {word} the at-risk level.")
        problems = drift_methods_problems(self.drift_methods(data), self.features)
        for key, problem in problems.items():
            if drift_field_name(key) in self.fields:
                self.add_error(drift_field_name(key), problem)
        return data

    def thresholds(self) -> dict[str, float]:
        return {
            name: float(self.cleaned_data[name])
            for name in THRESHOLD_NAMES
            if self.cleaned_data.get(name) is not None
        }

    def drift_methods(self, data: Mapping[str, Any] | None = None) -> dict[str, Any]:
        data = self.cleaned_data if data is None else data
        methods: dict[str, Any] = {}
        for key in self.drift_keys:
            chosen = data.get(drift_field_name(key)) or AUTOMATIC
            if chosen == AUTOMATIC:
                continue
            stored = self.stored_methods.get(key)
            methods[key] = stored if _method_of(stored) == chosen else chosen
        return methods
