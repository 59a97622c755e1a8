"""The model page's inventory form: the fields model-risk teams keep, written through
`registry.services.model_set_inventory` (audited). Everyone who may view the model reads them
here; owners (change right) edit the descriptive ones, validators (approve right) also the
validation status and dates. A model the user may not view is a 404."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from portal.registry_edit import show_service_error
from registry import services
from registry.actors import acting_user
from registry.choices import Action, RegulatoryClass, ValidationStatus
from registry.models import RegisteredModel
from registry.services.models import INVENTORY_FIELDS, VALIDATION_FIELDS

DATE = forms.DateInput(attrs={"type": "date"})


class InventoryForm(forms.Form):
    developer = forms.CharField(
        required=False, max_length=200, help_text="Who built it: a person or a team."
    )
    validator = forms.CharField(
        required=False, max_length=200, help_text="Who validates it independently."
    )
    intended_use = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    restrictions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Uses it must not be put to, and conditions on its use.",
    )
    expected_end_of_life = forms.DateField(required=False, widget=DATE)
    risk_rationale = forms.CharField(
        label="Risk tier rationale",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the model has its risk tier (the tier itself is changed on Edit).",
    )
    regulatory_class = forms.ChoiceField(
        label="Regulatory classification", choices=RegulatoryClass.choices
    )
    regulatory_category = forms.CharField(
        required=False,
        max_length=300,
        help_text="E.g. the EU AI Act Annex III point: “5(b) creditworthiness”.",
    )
    validation_status = forms.ChoiceField(choices=ValidationStatus.choices)
    validated_on = forms.DateField(required=False, widget=DATE)
    next_validation_due = forms.DateField(
        required=False,
        widget=DATE,
        help_text="Set by each approval from the tier's revalidation interval.",
    )

    def __init__(self, *args: Any, may_validate: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not may_validate:
            for name in VALIDATION_FIELDS:
                self.fields[name].disabled = True
                self.fields[name].help_text = "Validators (the approve right) change this."


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def model_inventory_edit(request: HttpRequest, slug: str) -> HttpResponse:
    model = get_object_or_404(
        RegisteredModel.objects.restrict(request.user, Action.VIEW), slug=slug
    )
    may_change = (
        RegisteredModel.objects.restrict(request.user, Action.CHANGE).filter(pk=model.pk).exists()
    )
    may_validate = (
        may_change
        and RegisteredModel.objects.restrict(request.user, Action.APPROVE)
        .filter(pk=model.pk)
        .exists()
    )
    initial = {name: getattr(model, name) for name in (*INVENTORY_FIELDS, *VALIDATION_FIELDS)}
    if request.method == "POST" and not may_change:
        messages.error(request, f"You may not change the inventory fields of {model.name}.")
        return redirect("registry:model-inventory-edit", slug=slug)
    form = InventoryForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        may_validate=may_validate,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        editable = INVENTORY_FIELDS + (VALIDATION_FIELDS if may_validate else ())
        changes = {k: data[k] for k in editable if data[k] != initial[k]}
        try:
            services.model_set_inventory(model=model, actor=acting_user(request), **changes)
        except (ValidationError, PermissionDenied) as exc:
            show_service_error(form, exc)
        else:
            messages.success(request, f"Inventory fields of {model.name} saved.")
            return redirect("registry:model-inventory-edit", slug=slug)
    context = {"form": form, "model": model, "may_change": may_change}
    return render(request, "registry/edit/model_inventory.html", context)
