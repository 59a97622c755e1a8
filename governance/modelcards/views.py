"""The model card page of a version: the card as it stands (latest revision or the draft
Steward pre-fills), every section with its source, the revision history, and for owners the
edit form. A version the user may not view is a 404; without the change right the page is
read-only and a post is refused with a message."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from governance.modelcards import selectors, services
from governance.modelcards.forms import CardForm
from registry import selectors as registry_selectors
from registry.actors import acting_user
from registry.choices import Action
from registry.errors import ConflictError
from registry.models import RegisteredModel


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def model_card(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    actor = acting_user(request)
    version = registry_selectors.version_get(user=actor, slug=slug, number=number)
    here = reverse("governance:model-card", args=[slug, number])
    may_change = (
        RegisteredModel.objects.restrict(actor, Action.CHANGE).filter(pk=version.model_id).exists()
    )
    card = selectors.model_card_for(version)
    editable = may_change and not card["frozen"]
    form: CardForm | None = None
    if request.method == "POST":
        if not editable:
            messages.error(
                request,
                f"The model card of {version} is frozen by its approval; a revalidation request "
                "reopens it."
                if may_change
                else f"You may not edit the model card of {version}.",
            )
            return redirect(here)
        form = CardForm(request.POST)
        if form.is_valid():
            try:
                revision = services.card_save(
                    version=version,
                    actor=actor,
                    text=form.text(),
                    note=form.cleaned_data["note"],
                    sensitive_attribute=form.cleaned_data["sensitive_attribute"],
                )
            except ValidationError as error:
                for key, errors in error.message_dict.items():
                    field = key.removeprefix("text.")
                    form.add_error(field if field in form.fields else None, errors)
            except (ConflictError, PermissionDenied) as error:
                form.add_error(None, getattr(error, "message", None) or str(error))
            else:
                messages.success(request, f"Saved revision {revision.number} of the model card.")
                return redirect(here)
    elif editable:
        initial = {s["key"]: s["content"] for s in card["sections"] if s["type"] == "text"}
        initial["sensitive_attribute"] = card["sensitive_attribute"]
        form = CardForm(initial=initial)
    context = {
        "version": version,
        "model": version.model,
        "card": card,
        "revisions": selectors.card_revisions(version),
        "form": form,
        "may_change": may_change,
    }
    return render(request, "governance/model_card.html", context)
