from __future__ import annotations

from typing import Any

from django import forms


class ExportForm(forms.Form):
    """Which report to export: a version, or a deployment over a period."""

    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    deployment = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    since = forms.DateTimeField(
        label="From", required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    until = forms.DateTimeField(
        label="Until", required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("version")) == bool(data.get("deployment")):
            raise forms.ValidationError("Choose a version or a deployment.")
        return data


class VerifyForm(forms.Form):
    file = forms.FileField(label="Report (PDF)")
