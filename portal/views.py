"""Portal pages that belong to no single app."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from governance.audit import selectors as audit_selectors
from portal.registry_edit import may_create_models
from registry import selectors

# The global view right (admins, reviewers, auditors, risk officers: registry/roles.py).
VIEW_EVERY_MODEL = "registry.view_registeredmodel"


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """An overview of what the user may see: counts, recent models, recent activity; with no
    model to see, the first steps instead."""
    context = selectors.overview(user=request.user)
    recent = audit_selectors.audit_visible(user=request.user).order_by("-seq")[:10]
    context["recent_events"] = audit_selectors.present_events(user=request.user, events=recent)
    if not context["model_count"]:
        # The first-run panel: what to do first. That the portal holds no model at all is
        # said only to those who see every model (a global view right), so it tells no one
        # else that models they may not see exist.
        context["may_create"] = may_create_models(request.user)
        context["portal_empty"] = request.user.has_perm(VIEW_EVERY_MODEL)
    return render(request, "portal/home.html", context)
