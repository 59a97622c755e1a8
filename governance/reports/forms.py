from __future__ import annotations

from typing import Any

from django import forms


class ExportForm(forms.Form):
    """Which report to export: a version, or a deployment over a period."""

    kind = forms.ChoiceField(
        required=False,
        choices=[("", "Report"), ("technical-documentation", "Technical documentation")],
    )
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
        if data.get("kind") and not data.get("version"):
            raise forms.ValidationError("Technical documentation is exported for a version.")
        return data


class VerifyForm(forms.Form):
    file = forms.FileField(label="Report (PDF)")


class ScheduleForm(forms.Form):
    """A monthly report of a deployment the user may change, e-mailed to some addresses."""

    deployment = forms.TypedChoiceField(coerce=int, label="Deployment")
    recipients = forms.CharField(
        max_length=2000,
        help_text="E-mail addresses separated by commas. Each month's signed report is sent "
        "to them on the first days of the next month.",
    )

    def __init__(self, *args: Any, deployments: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["deployment"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [
            (d.pk, f"#{d.pk} {d.version.model.name} v{d.version.number} · {d.environment}")
            for d in deployments
        ]

    def recipient_list(self) -> list[str]:
        return [a.strip() for a in self.cleaned_data["recipients"].split(",") if a.strip()]
