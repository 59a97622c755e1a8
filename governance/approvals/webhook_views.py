"""Webhook pages: list, create, edit, disable, delete lifecycle webhooks, send a signed test
event and see the last deliveries. Thin: the services in `webhooks.py` check rights (manage
access on the webhook's model; superusers for webhooks on every model) and audit."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from governance.approvals import webhooks
from governance.approvals.models import WebhookDelivery, WebhookEndpoint
from governance.approvals.webhook_forms import WebhookEditForm, WebhookNewForm
from monitoring.alerts.selectors import alert_rule_list
from monitoring.models import AlertDelivery
from registry.actors import acting_user
from registry.choices import Action
from registry.form_errors import show_service_error
from registry.models import RegisteredModel

PAGE_SIZE = 25
DELIVERIES_SHOWN = 20
ALERT_WEBHOOKS_SHOWN = 50


def _webhook(request: HttpRequest, pk: int) -> WebhookEndpoint:
    """The webhook if the user manages it (404 otherwise, as the API answers)."""
    return get_object_or_404(webhooks.webhooks_visible(request.user).select_related("model"), pk=pk)


@login_required
@require_safe
def webhook_list(request: HttpRequest) -> HttpResponse:
    """The webhooks the user manages, with each one's last delivery."""
    last = WebhookDelivery.objects.filter(endpoint=OuterRef("pk")).order_by("-created_at", "-id")
    hooks = (
        webhooks.webhooks_visible(request.user)
        .select_related("model")
        .annotate(
            last_state=Subquery(last.values("state")[:1]),
            last_at=Subquery(last.values("created_at")[:1]),
            last_code=Subquery(last.values("status_code")[:1]),
        )
        .order_by("name", "pk")
    )
    page = Paginator(hooks, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page_obj": page} | _alert_webhooks(request)
    return render(request, "approvals/webhooks/list.html", context)


def _alert_webhooks(request: HttpRequest) -> dict[str, Any]:
    """The other kind: alert rules that call a webhook, on targets the user may view, each
    with its last delivery (an alert's or a test's); managed on the rule's page."""
    last = AlertDelivery.objects.filter(
        Q(alert__rule=OuterRef("pk")) | Q(rule=OuterRef("pk"))
    ).order_by("-created_at", "-id")
    rules = (
        alert_rule_list(user=request.user)
        .exclude(webhook_url="")
        .select_related("model", "deployment__version__model")
        .annotate(
            last_state=Subquery(last.values("state")[:1]),
            last_at=Subquery(last.values("created_at")[:1]),
            last_code=Subquery(last.values("status_code")[:1]),
        )
        .order_by("-created_at", "-id")
    )
    shown = list(rules[: ALERT_WEBHOOKS_SHOWN + 1])
    return {
        "alert_webhooks": shown[:ALERT_WEBHOOKS_SHOWN],
        "alert_webhooks_more": len(shown) > ALERT_WEBHOOKS_SHOWN,
    }


def _manageable_models(request: HttpRequest) -> list[RegisteredModel]:
    return list(
        RegisteredModel.objects.restrict(request.user, Action.MANAGE_ACCESS).order_by("name")[:500]
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def webhook_new(request: HttpRequest) -> HttpResponse:
    """Register a webhook on a model the user manages (every model: superusers)."""
    models = _manageable_models(request)
    form = WebhookNewForm(request.POST or None, models=models, everything=request.user.is_superuser)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        model = next((m for m in models if m.slug == data["model"]), None)
        try:
            hook = webhooks.webhook_create(
                actor=acting_user(request),
                name=data["name"],
                url=data["url"],
                secret=data["secret"],
                events=list(data["events"]),
                model=model,
                active=data["active"],
            )
        except PermissionDenied as exc:
            form.add_error("model", str(exc))
        except ValidationError as exc:
            show_service_error(form, exc)
        else:
            messages.success(request, f"Webhook {hook.name!r} registered. Send it a test event.")
            return redirect("approvals:webhook-detail", pk=hook.pk)
    return render(request, "approvals/webhooks/new.html", {"form": form})


@login_required
@require_safe
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A webhook, its last deliveries, and the test button."""
    hook = _webhook(request, pk)
    deliveries = list(hook.deliveries.order_by("-created_at", "-id")[:DELIVERIES_SHOWN])
    return render(
        request, "approvals/webhooks/detail.html", {"hook": hook, "deliveries": deliveries}
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def webhook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a webhook's name, URL, secret, events or whether it is active."""
    hook = _webhook(request, pk)
    initial: dict[str, Any] = {
        "name": hook.name,
        "url": hook.url,
        "events": hook.events,
        "active": hook.active,
    }
    form = WebhookEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in webhooks.EDITABLE}
        changes["events"] = list(changes["events"])
        if not changes["secret"]:
            changes.pop("secret")
        try:
            webhooks.webhook_update(webhook=hook, actor=acting_user(request), **changes)
        except ValidationError as exc:
            show_service_error(form, exc)
        else:
            messages.success(request, "Webhook saved.")
            return redirect("approvals:webhook-detail", pk=hook.pk)
    return render(request, "approvals/webhooks/edit.html", {"hook": hook, "form": form})


@login_required
@require_POST
def webhook_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Disable (active=0) or enable (active=1) a webhook, audited."""
    hook = _webhook(request, pk)
    active = request.POST.get("active") == "1"
    webhooks.webhook_update(webhook=hook, actor=acting_user(request), active=active)
    messages.success(
        request, "Webhook enabled." if active else "Webhook disabled: no event is sent to it."
    )
    return redirect("approvals:webhook-detail", pk=hook.pk)


@login_required
@require_POST
def webhook_test(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a signed test event now and say how it went."""
    hook = _webhook(request, pk)
    row = webhooks.webhook_send_test(webhook=hook, actor=acting_user(request))
    if row.state == WebhookDelivery.State.DELIVERED:
        messages.success(request, f"Test event delivered: HTTP {row.status_code}.")
    else:
        last = row.error.splitlines()[-1] if row.error else row.get_state_display()
        messages.error(request, f"Test event not delivered: {last}")
    return redirect("approvals:webhook-detail", pk=hook.pk)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then delete a webhook and its delivery history (audited)."""
    hook = _webhook(request, pk)
    if request.method == "POST":
        webhooks.webhook_delete(webhook=hook, actor=acting_user(request))
        messages.success(request, f"Webhook {hook.name!r} deleted.")
        return redirect("approvals:webhook-list")
    return render(request, "approvals/webhooks/delete.html", {"hook": hook})
