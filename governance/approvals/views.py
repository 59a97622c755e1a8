"""Reviewer workspace: inbox, requests, the decision form, opening a request; the signed-in
user's notifications."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from governance.approvals import selectors, services, watching
from governance.approvals.choices import RequestKind, RequestState
from governance.approvals.forms import DecisionForm, RequestForm
from governance.approvals.models import ApprovalRequest
from registry.actors import Viewer, acting_user
from registry.choices import Action
from registry.errors import ConflictError
from registry.models import ModelVersion, RegisteredModel

PAGE_SIZE = 25


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return (
            "; ".join(m for msgs in exc.message_dict.values() for m in msgs)
            if hasattr(exc, "error_dict")
            else "; ".join(exc.messages)
        )
    return getattr(exc, "message", None) or str(exc)


@login_required
@require_safe
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notification_list(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "approvals/notification_list.html", {"page_obj": page})


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of the user's notifications read; another user's is a 404."""
    note = get_object_or_404(selectors.notification_list(user=request.user), pk=pk)
    watching.notification_mark_read(notification=note, actor=acting_user(request))
    messages.success(request, "Notification marked read.")
    return redirect("approvals:notification-list")


@login_required
@require_safe
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.inbox(user=acting_user(request)), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "approvals/inbox.html", {"page_obj": page})


@login_required
@require_safe
def request_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    requests = selectors.request_list(user=request.user)
    if state in RequestState.values:
        requests = requests.filter(state=state)
    if request.GET.get("version", "").isdigit():
        requests = requests.filter(version_id=int(request.GET["version"]))
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "approvals/request_list.html",
        {"page_obj": page, "state": state, "states": RequestState.choices},
    )


def _metric_rows(version: ModelVersion) -> list[dict[str, Any]]:
    """The version's training metrics beside the previous version's, with the change."""
    previous = (
        ModelVersion.objects.filter(model_id=version.model_id, number__lt=version.number)
        .order_by("-number")
        .first()
    )
    before = previous.training_metrics if previous else {}
    rows = []
    for name in sorted(set(version.training_metrics) | set(before)):
        now, then = version.training_metrics.get(name), before.get(name)
        delta = (
            now - then if isinstance(now, int | float) and isinstance(then, int | float) else None
        )
        rows.append({"name": name, "now": now, "then": then, "delta": delta})
    return rows


@login_required
@require_safe
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    approval = get_object_or_404(selectors.request_list(user=request.user), pk=pk)
    version = approval.version
    previous = (
        ModelVersion.objects.filter(model_id=version.model_id, number__lt=version.number)
        .order_by("-number")
        .first()
    )
    can_decide = selectors.inbox(user=acting_user(request)).filter(pk=approval.pk).exists()
    context = {
        "approval": approval,
        "version": version,
        "previous": previous,
        "metrics": _metric_rows(version),
        "progress": selectors.approval_progress(approval),
        "decisions": approval.decisions.select_related("reviewer"),
        "form": DecisionForm(),
        "can_decide": can_decide,
        "can_withdraw": approval.state == RequestState.PENDING
        and request.user.pk in (approval.requested_by_id, version.model.owner_id),
        "readiness": _readiness(version),
    }
    return render(request, "approvals/request_detail.html", context)


def _readiness(version: ModelVersion) -> Any:
    from governance.readiness.selectors import readiness

    return readiness(version=version)


@login_required
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    approval = get_object_or_404(selectors.request_list(user=request.user), pk=pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose approve or reject.")
        return redirect("approvals:request-detail", pk=pk)
    try:
        services.decide(request=approval, actor=acting_user(request), **form.cleaned_data)
    except (PermissionDenied, ValidationError, ConflictError) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, f"Your decision on request {pk} is recorded.")
    return redirect("approvals:request-detail", pk=pk)


@login_required
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    approval = get_object_or_404(selectors.request_list(user=request.user), pk=pk)
    try:
        services.withdraw(request=approval, actor=acting_user(request))
    except (PermissionDenied, ConflictError) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, "The request is withdrawn.")
    return redirect("approvals:request-detail", pk=pk)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def request_new(request: HttpRequest, version_pk: int) -> HttpResponse:
    """Open a version-approval or production-deployment request for a version."""
    version = get_object_or_404(
        ModelVersion.objects.restrict(request.user, Action.VIEW).select_related("model"),
        pk=version_pk,
    )
    # The deployment pages link here with the endpoint and share of a production canary.
    initial = {"kind": request.GET.get("kind", RequestKind.VERSION)}
    initial |= {k: request.GET[k] for k in ("endpoint", "traffic_share") if k in request.GET}
    form = RequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["kind"] == RequestKind.VERSION:
                created = services.request_version_approval(
                    version=version, actor=acting_user(request), comment=data["comment"]
                )
            else:
                created = services.request_production_deployment(
                    version=version,
                    actor=acting_user(request),
                    endpoint=data["endpoint"],
                    decision_threshold=data["decision_threshold"],
                    traffic_share=data["traffic_share"],
                    comment=data["comment"],
                )
        except (PermissionDenied, ValidationError, ConflictError) as exc:
            form.add_error(None, _error_text(exc))
        else:
            messages.success(request, "Request opened; the reviewers have been notified.")
            return redirect("approvals:request-detail", pk=created.pk)
    return render(request, "approvals/request_new.html", {"form": form, "version": version})


def pending_count(user: Viewer) -> int:
    return selectors.inbox(user=user).count() if user.is_authenticated else 0


__all__ = [
    "ApprovalRequest",
    "decide",
    "inbox",
    "notification_list",
    "notification_read",
    "pending_count",
    "request_detail",
    "request_list",
    "request_new",
    "withdraw",
]


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
