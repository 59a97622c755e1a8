"""The model page's access form: grant or revoke one action for a user or group."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from governance.access import selectors
from governance.access import services as access
from registry.actors import Actor, acting_user
from registry.choices import Action
from registry.forms import choice_field
from registry.models import RegisteredModel


class AccessForm(forms.Form):
    principal = forms.CharField(label="User or group", max_length=150)
    kind = forms.ChoiceField(choices=[(k, k.title()) for k in access.PRINCIPAL_KINDS])
    action = forms.ChoiceField(choices=Action.choices)
    change = forms.ChoiceField(choices=[("grant", "Grant"), ("revoke", "Revoke")])

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Offer only what the actor may grant; the service enforces the same rule.
        grantable = access.grantable_actions(actor)
        choice_field(self, "action").choices = [c for c in Action.choices if c[0] in grantable]


@login_required
@require_POST
def model_access(request: HttpRequest, slug: str) -> HttpResponse:
    """Grant or revoke one action on a model for a user or group (audited by the service)."""
    actor = acting_user(request)
    model = get_object_or_404(RegisteredModel.objects.restrict(actor, Action.VIEW), slug=slug)
    form = AccessForm(request.POST, actor=actor)
    if not form.is_valid():
        messages.error(request, "Name a user or group, an action, and grant or revoke.")
        return redirect("registry:model-detail", slug=slug)
    data = form.cleaned_data
    found = access.principal_find(kind=data["kind"], name=data["principal"])
    if found is None:
        messages.error(request, f"No {data['kind']} named {data['principal']!r}.")
        return redirect("registry:model-detail", slug=slug)
    service = access.access_grant if data["change"] == "grant" else access.access_revoke
    try:
        service(model=model, principal=found, actions=[data["action"]], actor=actor)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"{data['change'].title()}ed {data['action']} for {data['principal']}."
        )
    return redirect("registry:model-detail", slug=slug)


HISTORY_PAGE_SIZE = 25


@login_required
@require_safe
def model_grants(request: HttpRequest, slug: str) -> HttpResponse:
    """The model's current grants and, from the audit log, who granted or revoked what for
    whom and when. An invisible model is a 404; a visible one the user may not manage, 403."""
    actor = acting_user(request)
    model = get_object_or_404(RegisteredModel.objects.restrict(actor, Action.VIEW), slug=slug)
    history = selectors.grant_history(user=actor, model=model)
    page = Paginator(history, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "model": model,
        "grants": access.access_list(model=model),
        "page_obj": page,
        "rows": selectors.grant_rows(list(page.object_list)),
    }
    return render(request, "governance/model_grants.html", context)
