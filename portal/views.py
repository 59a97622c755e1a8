"""Portal pages that belong to no single app."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from governance.audit import selectors as audit_selectors
from registry import selectors


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """An overview of what the user may see: counts, recent models, recent activity."""
    context = selectors.overview(user=request.user)
    recent = audit_selectors.audit_visible(user=request.user).order_by("-seq")[:10]
    context["recent_events"] = audit_selectors.present_events(user=request.user, events=recent)
    return render(request, "portal/home.html", context)
