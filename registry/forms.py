"""Search, filter and sort forms of the registry's list pages (GET forms: they write nothing)."""

from __future__ import annotations

from typing import Any

from django import forms

from registry import selectors
from registry.choices import DeploymentStatus, Environment, RiskTier, Task

ANY = [("", "Any")]


def choice_field(form: forms.Form, name: str) -> forms.ChoiceField:
    """The form's choice field `name`, typed, so its choices can be set at run time."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


class ListForm(forms.Form):
    """A GET form whose invalid fields are ignored instead of failing the page."""

    def values(self) -> dict[str, str]:
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}


class ModelFilterForm(ListForm):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, description, team"}),
    )
    task = forms.ChoiceField(label="Task", required=False, choices=ANY + Task.choices)
    risk_tier = forms.ChoiceField(label="Risk tier", required=False, choices=ANY + RiskTier.choices)
    team = forms.ChoiceField(label="Team", required=False)
    owner = forms.ChoiceField(label="Owner", required=False)
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[(key, label) for key, (label, _) in selectors.MODEL_ORDERINGS.items()],
    )

    def __init__(self, *args: Any, teams: list[str], owners: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "team").choices = ANY + [(team, team) for team in teams]
        choice_field(self, "owner").choices = ANY + [(owner, owner) for owner in owners]


class DeploymentFilterForm(ListForm):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Endpoint or model"}),
    )
    environment = forms.ChoiceField(
        label="Environment", required=False, choices=ANY + Environment.choices
    )
    status = forms.ChoiceField(
        label="Status", required=False, choices=ANY + DeploymentStatus.choices
    )
    model = forms.ChoiceField(label="Model", required=False)
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[(key, label) for key, (label, _) in selectors.DEPLOYMENT_ORDERINGS.items()],
    )

    def __init__(self, *args: Any, models: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "model").choices = ANY + models
