"""Monitoring settings pages: alert rules per deployment and across deployments, with a
preview of when a rule would have fired. Thin: parse the form, call the services
(`alerts/services.py`, `alerts/rules.py`, which check rights and audit), show the result."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from monitoring.alerts import rules as alert_rules
from monitoring.alerts import selectors as alert_selectors
from monitoring.alerts import services as alert_services
from monitoring.alerts.preview import Preview, rule_preview
from monitoring.models import AlertDelivery, AlertRule
from monitoring.settings_forms import RuleChangeForm, RuleForm
from registry.actors import Viewer, acting_user
from registry.choices import Action
from registry.choices import DeploymentStatus as Lifecycle
from registry.form_errors import show_service_error
from registry.models import Deployment, RegisteredModel

DELIVERIES_SHOWN = 10
PAGE_SIZE = 25
RULE_RELATED = ("model", "deployment__version__model")


def paginate(request: HttpRequest, items: Any) -> Page:
    """The requested page; a missing or out-of-range number gives the first or last page."""
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


def _deployment(request: HttpRequest, pk: int) -> Deployment:
    """The deployment if the user may view it (404 otherwise)."""
    visible = Deployment.objects.restrict(request.user, Action.VIEW).select_related(
        "version__model"
    )
    return get_object_or_404(visible, pk=pk)


def _rule(request: HttpRequest, pk: int) -> AlertRule:
    """The rule if the user may view its target (404 otherwise); writes check "change"."""
    rules = alert_selectors.alert_rule_list(user=request.user).select_related(*RULE_RELATED)
    return get_object_or_404(rules, pk=pk)


def _may_change(user: Viewer, deployment: Deployment) -> bool:
    return Deployment.objects.restrict(user, Action.CHANGE).filter(pk=deployment.pk).exists()


def _preview_targets(user: Viewer, rule: AlertRule) -> list[Deployment]:
    """The deployments a rule's preview runs on: its deployment, or the model's active
    deployments the user may view."""
    if rule.deployment_id is not None:
        return [rule.deployment] if rule.deployment is not None else []
    return list(
        Deployment.objects.restrict(user, Action.VIEW)
        .filter(version__model_id=rule.model_id, status=Lifecycle.ACTIVE)
        .select_related("version")
        .order_by("pk")[:20]
    )


@login_required
@require_safe
def rule_list(request: HttpRequest) -> HttpResponse:
    """Every rule on a model or deployment the user may view."""
    rules = (
        alert_selectors.alert_rule_list(user=request.user)
        .select_related(*RULE_RELATED)
        .order_by("-created_at", "-id")
    )
    return render(
        request, "monitoring/settings/rule_list.html", {"page_obj": paginate(request, rules)}
    )


@login_required
@require_safe
def deployment_rules(request: HttpRequest, pk: int) -> HttpResponse:
    """The rules that watch one deployment: its own and its model's."""
    deployment = _deployment(request, pk)
    rules = (
        AlertRule.objects.filter(Q(deployment=deployment) | Q(model_id=deployment.version.model_id))
        .select_related(*RULE_RELATED)
        .order_by("-created_at", "-id")
    )
    context = {
        "deployment": deployment,
        "model": deployment.version.model,
        "version": deployment.version,
        "page_obj": paginate(request, rules),
        "may_change": _may_change(request.user, deployment),
        "tab": "rules",
    }
    return render(request, "monitoring/settings/deployment_rules.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def rule_new(request: HttpRequest, pk: int) -> HttpResponse:
    """A new rule on the deployment or its model. "Preview" shows when the rule would have
    fired over the last 30 days without saving it; "Save" creates it (needs "change")."""
    deployment = _deployment(request, pk)
    form = RuleForm(request.POST or None)
    preview: Preview | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields: dict[str, Any] = form.changes(keep_secret=False) | {
            "source": data["source"],
            "name": data["name"],
        }
        if data["scope"] == "model":
            fields["model"] = deployment.version.model
        else:
            fields["deployment"] = deployment
        if "preview" in request.POST:
            unsaved = AlertRule(**fields)
            preview = rule_preview(unsaved, _preview_targets(request.user, unsaved))
        else:
            try:
                rule = alert_services.alert_rule_create(actor=acting_user(request), **fields)
            except PermissionDenied as exc:
                messages.error(request, str(exc) or "You may not change this deployment's rules.")
                return redirect("monitoring:deployment-rules", pk=deployment.pk)
            except ValidationError as exc:
                show_service_error(form, exc)
            else:
                messages.success(request, f"Rule #{rule.pk} created: {rule}.")
                return redirect("monitoring:rule-edit", pk=rule.pk)
    context = {
        "deployment": deployment,
        "model": deployment.version.model,
        "version": deployment.version,
        "form": form,
        "preview": preview,
    }
    return render(request, "monitoring/settings/rule_new.html", context)


def _rule_context(request: HttpRequest, rule: AlertRule) -> dict[str, Any]:
    deliveries = AlertDelivery.objects.filter(Q(alert__rule=rule) | Q(rule=rule)).order_by(
        "-created_at", "-id"
    )[:DELIVERIES_SHOWN]
    if rule.deployment is not None:
        may_change = _may_change(request.user, rule.deployment)
    else:
        changeable = RegisteredModel.objects.restrict(request.user, Action.CHANGE)
        may_change = changeable.filter(pk=rule.model_id or 0).exists()
    return {"rule": rule, "deliveries": list(deliveries), "may_change": may_change}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a rule's condition, severity and channels (needs "change"), with the preview of
    the stored rule, or of the form's values after "Preview"."""
    rule = _rule(request, pk)
    initial = {name: getattr(rule, name) for name in alert_rules.EDITABLE}
    initial["webhook_secret"] = ""
    form = RuleChangeForm(request.POST or None, initial=initial)
    target = rule
    if request.method == "POST" and form.is_valid():
        changes = form.changes(keep_secret=True)
        if "preview" in request.POST:
            target = AlertRule(
                pk=rule.pk,
                model=rule.model,
                deployment=rule.deployment,
                source=rule.source,
                name=rule.name,
            )
            for name, value in changes.items():
                setattr(target, name, value)
        else:
            try:
                rule = alert_rules.alert_rule_update(
                    rule=rule, actor=acting_user(request), **changes
                )
            except PermissionDenied as exc:
                messages.error(request, str(exc) or "You may not change this rule.")
                return redirect("monitoring:rule-edit", pk=rule.pk)
            except ValidationError as exc:
                show_service_error(form, exc)
            else:
                messages.success(request, "Rule saved.")
                return redirect("monitoring:rule-edit", pk=rule.pk)
    preview = rule_preview(target, _preview_targets(request.user, rule))
    context = _rule_context(request, rule) | {"form": form, "preview": preview}
    return render(request, "monitoring/settings/rule_edit.html", context)


@login_required
@require_POST
def rule_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Disable (active=0) or enable (active=1) a rule (needs "change"; audited)."""
    rule = _rule(request, pk)
    active = request.POST.get("active") == "1"
    try:
        alert_rules.alert_rule_update(rule=rule, actor=acting_user(request), active=active)
    except PermissionDenied as exc:
        messages.error(request, str(exc) or "You may not change this rule.")
    else:
        messages.success(
            request, "Rule enabled." if active else "Rule disabled: it opens no alert."
        )
    return redirect("monitoring:rule-edit", pk=rule.pk)


@login_required
@require_POST
def rule_test(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a signed test event to the rule's webhook now and say how it went (needs
    "change"; audited)."""
    rule = _rule(request, pk)
    try:
        row = alert_rules.alert_rule_send_test(rule=rule, actor=acting_user(request))
    except PermissionDenied as exc:
        messages.error(request, str(exc) or "You may not change this rule.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if row.state == AlertDelivery.State.DELIVERED:
            messages.success(request, f"Test event delivered: HTTP {row.status_code}.")
        else:
            last = row.error.splitlines()[-1] if row.error else row.get_state_display()
            messages.error(request, f"Test event not delivered: {last}")
    return redirect("monitoring:rule-edit", pk=rule.pk)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then delete a rule that never fired (needs "change"; audited). A rule with
    alerts stays, for their sake: disable it instead."""
    rule = _rule(request, pk)
    if request.method == "POST":
        try:
            alert_rules.alert_rule_delete(rule=rule, actor=acting_user(request))
        except PermissionDenied as exc:
            messages.error(request, str(exc) or "You may not delete this rule.")
            return redirect("monitoring:rule-edit", pk=rule.pk)
        except alert_rules.RuleInUse:
            messages.error(
                request, "This rule has fired: its alerts keep pointing at it. Disable it instead."
            )
            return redirect("monitoring:rule-edit", pk=rule.pk)
        messages.success(request, f"Rule #{pk} deleted.")
        if rule.deployment_id is not None:
            return redirect("monitoring:deployment-rules", pk=rule.deployment_id)
        return redirect("monitoring:rule-list")
    alerts = rule.alerts.count()
    return render(request, "monitoring/settings/rule_delete.html", {"rule": rule, "alerts": alerts})
