"""GET forms of the deployment dashboards: the date range, the metric and the feature."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from registry.forms import choice_field

DEFAULT_DAYS = 14
MAX_DAYS = 366


def today_utc() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


class DateRangeForm(forms.Form):
    """From / to UTC days, both included; empty fields take the last DEFAULT_DAYS days. A bad
    date, a reversed range or one longer than MAX_DAYS is a form error, and the page falls
    back to the default range."""

    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        # With neither date given, show the default range in the inputs.
        if data is not None and not data.get("start") and not data.get("end"):
            data = data.copy()
            end = today_utc()
            data["start"] = (end - dt.timedelta(days=DEFAULT_DAYS - 1)).isoformat()
            data["end"] = end.isoformat()
        super().__init__(data, *args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        end = data.get("end") or today_utc()
        start = data.get("start") or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if "start" in self.errors or "end" in self.errors:
            return data
        if start > end:
            raise forms.ValidationError("The start date must not be after the end date.")
        if (end - start).days + 1 > MAX_DAYS:
            raise forms.ValidationError(f"Choose a range of at most {MAX_DAYS} days.")
        data["start"], data["end"] = start, end
        return data

    def range(self) -> tuple[dt.date, dt.date]:
        """The valid range, else the default (the last DEFAULT_DAYS days up to today)."""
        if self.is_valid():
            return self.cleaned_data["start"], self.cleaned_data["end"]
        end = today_utc()
        return end - dt.timedelta(days=DEFAULT_DAYS - 1), end


class PerformanceForm(DateRangeForm):
    metric = forms.ChoiceField(label="Metric", required=False)

    def __init__(self, *args: Any, metrics: tuple[tuple[str, str], ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "metric").choices = list(metrics)
        self.metrics = metrics
        self.default_metric = metrics[0][0]

    def chosen_metric(self) -> str:
        if self.is_valid() and self.cleaned_data.get("metric"):
            return self.cleaned_data["metric"]
        value = self.data.get("metric", "")
        known = {str(name) for name, _ in self.metrics}
        return value if value in known else self.default_metric


class FeatureForm(DateRangeForm):
    feature = forms.ChoiceField(label="Feature", required=False)

    def __init__(self, *args: Any, features: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "feature").choices = [(name, name) for name in features]
