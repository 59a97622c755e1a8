"""The audit pages: the trail, what served production at a moment, and the evidence an
auditor takes away (the chain's verdict and exports).

Who reads what is decided by `governance.audit.selectors.audit_visible`: superusers, auditors
and reviewers read the whole log; everyone else reads the entries about the registry objects
they may view and about their own account. Nobody gets a 403 here: a user with no access to
any model sees only their own sign-ins.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from governance.audit import production_at as history
from governance.audit import selectors
from governance.audit.verification import audit_report
from governance.reports import selectors as report_selectors
from registry.forms import ANY, ListForm, choice_field

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
        rows = history.production_at(user=request.user, when=form.cleaned_data["at"])
    return render(request, "governance/production_at.html", {"form": form, "rows": rows})


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
