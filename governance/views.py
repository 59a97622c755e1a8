"""Governance pages: the audit trail.

Who reads what is decided by `governance.audit_selectors.audit_visible`: superusers, auditors and
reviewers read the whole log; everyone else reads the entries about the registry objects
they may view and about their own account. Nobody gets a 403 here: a user with no access to
any model sees only their own sign-ins.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.apps import apps
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from governance import access
from governance import audit_selectors as selectors
from governance.approvals import watching
from governance.audit.verification import audit_report
from governance.reports import selectors as report_selectors
from registry.actors import acting_user
from registry.choices import Action
from registry.forms import ANY, ListForm, choice_field
from registry.models import RegisteredModel

PAGE_SIZE = 50


def target_type_label(label: str) -> str:
    """'registry.modelversion' -> 'Model version' (the model's verbose name), else as is."""
    try:
        return str(apps.get_model(label)._meta.verbose_name).capitalize()
    except (LookupError, ValueError):
        return label


class AuditFilterForm(ListForm):
    action = forms.ChoiceField(label="Action", required=False)
    actor = forms.CharField(
        label="Actor",
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "User name"}),
    )
    target_type = forms.ChoiceField(label="Target type", required=False)
    target_id = forms.CharField(label="Object id", required=False, max_length=64)
    since = forms.DateTimeField(
        label="From", required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    until = forms.DateTimeField(
        label="Until", required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def __init__(
        self, *args: Any, actions: list[str], target_types: list[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "action").choices = ANY + [(a, a) for a in actions]
        choice_field(self, "target_type").choices = ANY + [
            (t, target_type_label(t)) for t in target_types
        ]


@login_required
@require_safe
def audit_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = AuditFilterForm(request.GET, **selectors.audit_filter_options(user=user))
    values = form.values()
    events = selectors.audit_event_list(
        user=user,
        action=values.get("action", ""),
        actor=values.get("actor", ""),
        target_type=values.get("target_type", ""),
        target_id=values.get("target_id", ""),
        since=values.get("since"),
        until=values.get("until"),
    )
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page_obj": page,
        "filtered": bool(values),
        "full_log": selectors.sees_everything(user),
        "events": selectors.present_events(user=user, events=page.object_list),
    }
    return render(request, "governance/audit_list.html", context)


class AsOfForm(forms.Form):
    at = forms.DateTimeField(
        label="Moment", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )


@login_required
@require_safe
def production_at(request: HttpRequest) -> HttpResponse:
    """What served production at a chosen moment, and who approved it."""
    form = AsOfForm(request.GET or None)
    rows = None
    if form.is_valid():
        rows = selectors.production_at(user=request.user, when=form.cleaned_data["at"])
    return render(request, "governance/production_at.html", {"form": form, "rows": rows})


class AccessForm(forms.Form):
    principal = forms.CharField(label="User or group", max_length=150)
    kind = forms.ChoiceField(choices=[("user", "User"), ("group", "Group")])
    action = forms.ChoiceField(choices=Action.choices)
    change = forms.ChoiceField(choices=[("grant", "Grant"), ("revoke", "Revoke")])

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Offer only what the actor may grant; the service enforces the same rule.
        grantable = access.grantable_actions(actor)
        choice_field(self, "action").choices = [c for c in Action.choices if c[0] in grantable]


@login_required
@require_POST
def model_access(request: HttpRequest, slug: str) -> HttpResponse:
    """Grant or revoke one action on a model for a user or group (audited by the service)."""
    model = get_object_or_404(
        RegisteredModel.objects.restrict(request.user, Action.VIEW), slug=slug
    )
    form = AccessForm(request.POST, actor=request.user)
    if not form.is_valid():
        messages.error(request, "Name a user or group, an action, and grant or revoke.")
        return redirect("registry:model-detail", slug=slug)
    data = form.cleaned_data
    found = (
        get_user_model().objects.filter(username=data["principal"]).first()
        if data["kind"] == "user"
        else Group.objects.filter(name=data["principal"]).first()
    )
    if found is None:
        messages.error(request, f"No {data['kind']} named {data['principal']!r}.")
        return redirect("registry:model-detail", slug=slug)
    service = access.access_grant if data["change"] == "grant" else access.access_revoke
    try:
        service(model=model, principal=found, actions=[data["action"]], actor=request.user)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"{data['change'].title()}ed {data['action']} for {data['principal']}."
        )
    return redirect("registry:model-detail", slug=slug)


@login_required
@require_POST
def model_watch(request: HttpRequest, slug: str) -> HttpResponse:
    """Subscribe to or leave a model's lifecycle notifications."""
    model = get_object_or_404(
        RegisteredModel.objects.restrict(request.user, Action.VIEW), slug=slug
    )
    if request.POST.get("watch") == "1":
        watching.model_watch(model=model, actor=acting_user(request))
        messages.success(request, f"You will be notified of {model}'s lifecycle events.")
    else:
        watching.model_unwatch(model=model, actor=acting_user(request))
        messages.success(request, f"You no longer watch {model}.")
    return redirect("registry:model-detail", slug=slug)


@login_required
@require_safe
def reports(request: HttpRequest) -> HttpResponse:
    """Evidence an auditor can take away: the audit chain's verdict against its signed
    checkpoints, and exports of the log (for those who may read all of it)."""
    full_log = selectors.sees_everything(request.user)
    report = audit_report() if full_log else None
    context = {"full_log": full_log, "report": report}
    context.update(report_selectors.export_choices(user=request.user))
    return render(request, "governance/reports.html", context)
