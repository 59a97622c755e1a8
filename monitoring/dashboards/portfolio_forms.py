"""GET forms of the inventory and alert pages (they write nothing; bad values are ignored)."""

from __future__ import annotations

from typing import Any

from django import forms

from monitoring.dashboards import portfolio_selectors as selectors
from registry.choices import Environment
from registry.forms import ANY, ListForm, choice_field

LEVEL_CHOICES = ANY + [(str(level), label) for level, label in selectors.LEVELS]


class InventoryFilterForm(ListForm):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Model name or endpoint"}),
    )
    lifecycle = forms.ChoiceField(
        label="Deployments", required=False, choices=selectors.LIFECYCLE_CHOICES
    )
    environment = forms.ChoiceField(
        label="Environment", required=False, choices=ANY + Environment.choices
    )
    accuracy = forms.ChoiceField(label="Accuracy", required=False, choices=LEVEL_CHOICES)
    drift = forms.ChoiceField(label="Drift", required=False, choices=LEVEL_CHOICES)
    health = forms.ChoiceField(label="Service health", required=False, choices=LEVEL_CHOICES)
    owner = forms.ChoiceField(label="Owner", required=False)
    model = forms.ChoiceField(label="Model", required=False)

    def __init__(
        self,
        *args: Any,
        owners: list[tuple[str, str]],
        models: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "owner").choices = ANY + owners
        choice_field(self, "model").choices = ANY + models
