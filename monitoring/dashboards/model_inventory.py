"""The model-risk inventory: one row per registered model the user may view with the fields
model-risk teams keep (owner, developer, validator, validation status and dates, intended use,
restrictions, expected life, risk tier and rationale, regulatory classification), filtered in
SQL, paginated on the page and exported whole as CSV or JSON (only what the user may view).

Reads registry fields only; governance's revalidation sweep writes the validation status
("revalidation overdue" once the due date passed without an approved revalidation).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.db.models import F, Q, QuerySet

from registry.actors import Viewer
from registry.choices import Action, RegulatoryClass, RiskTier, ValidationStatus
from registry.forms import ANY, ListForm
from registry.models import RegisteredModel

# Export columns in order: (key, header).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("slug", "Model id"),
    ("name", "Model"),
    ("team", "Team"),
    ("owner", "Owner"),
    ("developer", "Developer"),
    ("validator", "Validator"),
    ("validation_status", "Validation status"),
    ("validated_on", "Validated on"),
    ("next_validation_due", "Next validation due"),
    ("intended_use", "Intended use"),
    ("restrictions", "Restrictions"),
    ("expected_end_of_life", "Expected end of life"),
    ("risk_tier", "Risk tier"),
    ("risk_rationale", "Risk tier rationale"),
    ("regulatory_class", "Regulatory classification"),
    ("regulatory_category", "Regulatory category"),
)


class ModelInventoryFilterForm(ListForm):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Model, team, developer or validator"}
        ),
    )
    risk_tier = forms.ChoiceField(label="Risk tier", required=False, choices=ANY + RiskTier.choices)
    validation_status = forms.ChoiceField(
        label="Validation", required=False, choices=ANY + ValidationStatus.choices
    )
    regulatory_class = forms.ChoiceField(
        label="Regulatory class", required=False, choices=ANY + RegulatoryClass.choices
    )


def model_inventory(
    *, user: Viewer, search: str = "", filters: Mapping[str, str] | None = None
) -> QuerySet[RegisteredModel]:
    """Models `user` may view matching `search` and `filters` (risk_tier, validation_status,
    regulatory_class), soonest validation due first (none last), then by name."""
    filters = filters or {}
    models = RegisteredModel.objects.restrict(user, Action.VIEW).select_related("owner")
    if search:
        models = models.filter(
            Q(name__icontains=search)
            | Q(team__icontains=search)
            | Q(developer__icontains=search)
            | Q(validator__icontains=search)
        )
    for key in ("risk_tier", "validation_status", "regulatory_class"):
        if filters.get(key):
            models = models.filter(**{key: filters[key]})
    return models.order_by(F("next_validation_due").asc(nulls_last=True), "name", "pk")


def overdue_count(*, user: Viewer) -> int:
    """Models `user` may view whose revalidation is overdue (for the portfolio)."""
    return (
        RegisteredModel.objects.restrict(user, Action.VIEW)
        .filter(validation_status=ValidationStatus.REVALIDATION_OVERDUE)
        .count()
    )


def export_row(model: RegisteredModel) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for key, _ in COLUMNS:
        value = model.owner.get_username() if key == "owner" else getattr(model, key)
        row[key] = value.isoformat() if hasattr(value, "isoformat") else value
    return row


def as_json(models: Iterable[RegisteredModel]) -> str:
    return json.dumps({"models": [export_row(m) for m in models]}, indent=2, ensure_ascii=False)
