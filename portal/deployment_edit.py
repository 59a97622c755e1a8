"""Deployment pages that write: deploy to dev or staging, a canary beside a deployment,
rollback, retirement, and a deployment's monitoring thresholds and drift methods.

Each write is one service call (`registry.services.deployments`,
`monitoring.performance.services`), which checks the right, validates and audits. Production
is not deployed from here: it goes through an approval request (`approvals:request-new`).

Objects are reached through `restrict(user, "view")` (invisible: 404). A visible object the
user may not change answers with a redirect and an error message, on the confirmation pages
as on the posts (the permission matrix's "refused"); the service decides again on the post.
Deploy and canary are confirmed in two steps: a valid form is first described (which version
goes out, what keeps serving or is replaced, the traffic shares) and done only when the
description's button is pressed. Rollback and retirement state what will happen on GET.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from monitoring.engines.status import Thresholds
from monitoring.models import MonitoringSettings
from monitoring.performance import services as performance_services
from monitoring.performance.drift_methods import input_features
from portal.deployment_edit_forms import (
    CanaryForm,
    DeployForm,
    MonitoringSettingsForm,
    RetireForm,
    RollbackForm,
)
from registry import selectors
from registry.actors import Actor, acting_user
from registry.choices import Action, DeploymentStatus, Environment, Stage
from registry.errors import ConflictError
from registry.form_errors import show_service_error
from registry.models import Deployment, ModelVersion, RegisteredModel
from registry.services import deployments as deployment_services

UNDEPLOYABLE = (Stage.REJECTED, Stage.ARCHIVED)


def may(user: Actor, action: str, model: RegisteredModel) -> bool:
    """Whether the user holds `action` on the model (what the service will check again)."""
    return RegisteredModel.objects.restrict(user, action).filter(pk=model.pk).exists()


def posted(request: HttpRequest) -> Any:
    """The form data of a POST (even an empty one), None otherwise (an unbound form)."""
    return request.POST if request.method == "POST" else None


def refuse(request: HttpRequest, text: str, to: str) -> HttpResponse:
    messages.error(request, text)
    return redirect(to)


def _carry_out(
    request: HttpRequest,
    form: forms.Form,
    back: str,
    act: Callable[[], tuple[str, str]],
    refusals: tuple[type[Exception], ...] = (ValidationError, ConflictError),
) -> HttpResponse | None:
    """Call the service through `act` (which gives the success message and where to go):
    a refusal of the user goes back to `back` with its reason, one of the input (`refusals`)
    beside the form's fields (None: render the form again)."""
    try:
        message, to = act()
    except PermissionDenied as exc:
        return refuse(request, str(exc), back)
    except refusals as exc:
        show_service_error(form, exc)
        return None
    messages.success(request, message)
    return redirect(to)


def _confirm_context(actor: Actor, deployment: Deployment, form: forms.Form) -> dict[str, Any]:
    """What a retire or rollback page shows: the deployment and what else keeps serving."""
    serving = _serving(actor, deployment.environment, deployment.endpoint)
    return {
        "deployment": deployment,
        "model": deployment.version.model,
        "version": deployment.version,
        "form": form,
        "keep_serving": [d for d in serving if d.pk != deployment.pk],
    }


@dataclass(frozen=True)
class Plan:
    """What a deploy or a canary will do, for its confirmation page."""

    version: ModelVersion
    environment: str
    endpoint: str
    traffic_share: Decimal
    replaces: Deployment | None
    serving: list[Deployment]  # active at the endpoint now (the user's visible ones)
    total_after: Decimal

    @property
    def environment_label(self) -> str:
        return str(Environment(self.environment).label)

    @property
    def keep_serving(self) -> list[Deployment]:
        return [d for d in self.serving if self.replaces is None or d.pk != self.replaces.pk]


def _serving(user: Actor, environment: str, endpoint: str) -> QuerySet[Deployment]:
    return (
        Deployment.objects.restrict(user, Action.VIEW)
        .filter(environment=environment, endpoint=endpoint, status=DeploymentStatus.ACTIVE)
        .select_related("version")
        .order_by("-traffic_share", "pk")
    )


def _plan(
    user: Actor,
    version: ModelVersion,
    environment: str,
    endpoint: str,
    share: Decimal,
    replaces: Deployment | None,
) -> Plan:
    serving = list(_serving(user, environment, endpoint))
    kept = sum((d.traffic_share for d in serving if replaces is None or d.pk != replaces.pk), 0)
    return Plan(
        version=version,
        environment=environment,
        endpoint=endpoint,
        traffic_share=share,
        replaces=replaces,
        serving=serving,
        total_after=Decimal(kept) + share,
    )


# --- deploy ---------------------------------------------------------------------------------


def _replaceable(user: Actor, model: RegisteredModel) -> QuerySet[Deployment]:
    """The model's active dev and staging deployments (what a new one may take over from)."""
    return (
        Deployment.objects.restrict(user, Action.VIEW)
        .filter(
            version__model=model,
            status=DeploymentStatus.ACTIVE,
            environment__in=[Environment.DEV, Environment.STAGING],
        )
        .select_related("version")
        .order_by("environment", "endpoint", "pk")
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def version_deploy(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """Deploy a version to dev or staging, after a confirmation that states the plan."""
    actor = acting_user(request)
    version = selectors.version_get(user=actor, slug=slug, number=number)
    back = reverse("registry:version-detail", args=[slug, number])
    if not may(actor, Action.DEPLOY, version.model):
        return refuse(request, f"You may not deploy versions of {version.model}.", back)
    if version.stage in UNDEPLOYABLE:
        return refuse(
            request,
            f"{version} is {version.get_stage_display().lower()}: it cannot be deployed.",
            back,
        )
    replaceable = list(_replaceable(actor, version.model))
    form = DeployForm(posted(request), replaceable=replaceable)
    context: dict[str, Any] = {"version": version, "model": version.model, "form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        replaces = next((d for d in replaceable if d.pk == data["replaces"]), None)
        if not data["confirmed"]:
            context["plan"] = _plan(
                actor,
                version,
                data["environment"],
                data["endpoint"],
                data["traffic_share"],
                replaces,
            )
            return render(request, "registry/deployment_edit/deploy_confirm.html", context)

        def deploy() -> tuple[str, str]:
            created = deployment_services.deployment_create(
                version=version,
                actor=actor,
                environment=data["environment"],
                endpoint=data["endpoint"],
                decision_threshold=data["decision_threshold"],
                traffic_share=data["traffic_share"],
                description=data["description"],
                replaces=replaces,
            )
            where = f"{created.get_environment_display().lower()} at {created.endpoint}"
            return (
                f"{version} is deployed to {where} ({created.traffic_share:g}% of its traffic).",
                reverse("registry:deployment-detail", args=[created.pk]),
            )

        if (done := _carry_out(request, form, back, deploy)) is not None:
            return done
    context["production_url"] = (
        reverse("approvals:request-new", args=[version.pk]) + "?kind=production"
        if version.stage == Stage.APPROVED
        else ""
    )
    return render(request, "registry/deployment_edit/deploy.html", context)


# --- deployment pages -----------------------------------------------------------------------


def _deployment_or_refuse(
    request: HttpRequest, pk: int, verb: str, outcome: str
) -> tuple[Deployment, Actor, HttpResponse | None]:
    """The deployment (404 when invisible) and a refusal when the user may not deploy it or
    it is not active."""
    actor = acting_user(request)
    deployment = selectors.deployment_get(user=actor, pk=pk)
    back = reverse("registry:deployment-detail", args=[pk])
    refusal = None
    if not may(actor, Action.DEPLOY, deployment.version.model):
        refusal = refuse(request, f"You may not {verb} deployment #{pk}.", back)
    elif deployment.status != DeploymentStatus.ACTIVE:
        refusal = refuse(
            request,
            f"Deployment #{pk} is {deployment.get_status_display().lower()}: only an active "
            f"deployment can be {outcome}.",
            back,
        )
    return deployment, actor, refusal


def _canary_versions(user: Actor, deployment: Deployment) -> QuerySet[ModelVersion]:
    return (
        ModelVersion.objects.restrict(user, Action.VIEW)
        .filter(model_id=deployment.version.model_id)
        .exclude(pk=deployment.version_id)
        .exclude(stage__in=UNDEPLOYABLE)
        .order_by("-number")
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def deployment_canary(request: HttpRequest, pk: int) -> HttpResponse:
    """Run another version beside this deployment at its endpoint on a share of the traffic.
    In production this is an approval request with a traffic share (linked, not done here)."""
    deployment, actor, refusal = _deployment_or_refuse(
        request, pk, "start a canary beside", "given a canary"
    )
    if refusal is not None:
        return refusal
    versions = list(_canary_versions(actor, deployment))
    context: dict[str, Any] = {
        "deployment": deployment,
        "model": deployment.version.model,
        "version": deployment.version,
    }
    if deployment.environment == Environment.PRODUCTION:
        context["requests"] = [
            (
                v,
                reverse("approvals:request-new", args=[v.pk])
                + f"?kind=production&endpoint={deployment.endpoint}&traffic_share=10",
            )
            for v in versions
            if v.stage == Stage.APPROVED
        ]
        return render(request, "registry/deployment_edit/canary_production.html", context)
    form = CanaryForm(posted(request), versions=versions)
    context["form"] = form
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        version = next(v for v in versions if v.number == data["version"])
        if not data["confirmed"]:
            context["plan"] = _plan(
                actor,
                version,
                deployment.environment,
                deployment.endpoint,
                data["traffic_share"],
                None,
            )
            return render(request, "registry/deployment_edit/canary_confirm.html", context)

        def start_canary() -> tuple[str, str]:
            created = deployment_services.deployment_create(
                version=version,
                actor=actor,
                environment=deployment.environment,
                endpoint=deployment.endpoint,
                decision_threshold=deployment.decision_threshold,
                traffic_share=data["traffic_share"],
                description=data["description"] or f"Canary beside deployment #{deployment.pk}",
            )
            return (
                f"Canary {version} takes {created.traffic_share:g}% of {created.endpoint}.",
                reverse("registry:deployment-detail", args=[created.pk]),
            )

        back = reverse("registry:deployment-detail", args=[pk])
        if (done := _carry_out(request, form, back, start_canary)) is not None:
            return done
    context["serving"] = list(_serving(actor, deployment.environment, deployment.endpoint))
    return render(request, "registry/deployment_edit/canary.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def deployment_rollback(request: HttpRequest, pk: int) -> HttpResponse:
    """GET states the rollback (which version goes out, which comes back, at what share);
    POST carries it out as a new deployment that replaces this one."""
    deployment, actor, refusal = _deployment_or_refuse(request, pk, "roll back", "rolled back")
    if refusal is not None:
        return refusal
    earlier = list(
        ModelVersion.objects.restrict(actor, Action.VIEW)
        .filter(model_id=deployment.version.model_id, number__lt=deployment.version.number)
        .order_by("-number")
    )
    default = deployment_services.rollback_target(deployment)
    data = posted(request)
    initial_number = request.GET.get("to") or (default.number if default else None)
    form = RollbackForm(data, versions=earlier, initial={"to_version": initial_number})
    if request.method == "POST" and form.is_valid():
        back_to = next(v for v in earlier if v.number == form.cleaned_data["to_version"])

        def roll_back() -> tuple[str, str]:
            rollback = deployment_services.deployment_rollback(
                deployment=deployment,
                actor=actor,
                to_version=back_to,
                reason=form.cleaned_data["reason"],
            )
            return (
                f"Rolled back: {back_to} serves {rollback.endpoint} again (deployment "
                f"#{rollback.pk}); deployment #{deployment.pk} is inactive.",
                reverse("registry:deployment-detail", args=[rollback.pk]),
            )

        back = reverse("registry:deployment-detail", args=[pk])
        if (done := _carry_out(request, form, back, roll_back)) is not None:
            return done
    chosen = form["to_version"].value()
    target = next((v for v in earlier if str(v.number) == str(chosen)), None)
    context = _confirm_context(actor, deployment, form) | {
        "earlier": earlier,
        "target": target,
        "default": default,
    }
    return render(request, "registry/deployment_edit/rollback.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def deployment_retire(request: HttpRequest, pk: int) -> HttpResponse:
    """GET states what retiring does; POST retires the deployment."""
    actor = acting_user(request)
    deployment = selectors.deployment_get(user=actor, pk=pk)
    back = reverse("registry:deployment-detail", args=[pk])
    if not may(actor, Action.DEPLOY, deployment.version.model):
        return refuse(request, f"You may not retire deployment #{pk}.", back)
    if deployment.status == DeploymentStatus.RETIRED:
        return refuse(request, f"Deployment #{pk} is already retired.", back)
    form = RetireForm(posted(request))
    if request.method == "POST" and form.is_valid():

        def retire() -> tuple[str, str]:
            deployment_services.deployment_retire(deployment=deployment, actor=actor)
            return (
                f"Deployment #{pk} is retired: {deployment.version} no longer serves there.",
                back,
            )

        if (done := _carry_out(request, form, back, retire)) is not None:
            return done
    return render(
        request, "registry/deployment_edit/retire.html", _confirm_context(actor, deployment, form)
    )


# --- monitoring settings --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def deployment_settings(request: HttpRequest, pk: int) -> HttpResponse:
    """Status thresholds, positive label and drift methods of one deployment."""
    actor = acting_user(request)
    deployment = selectors.deployment_get(user=actor, pk=pk)
    back = reverse("registry:deployment-detail", args=[pk])
    if not may(actor, Action.CHANGE, deployment.version.model):
        return refuse(request, f"You may not change the monitoring of deployment #{pk}.", back)
    stored = MonitoringSettings.objects.filter(deployment=deployment).first()
    task = deployment.version.model.task
    effective = Thresholds.from_dict(stored.thresholds if stored else {}, task=task).to_dict()
    form = MonitoringSettingsForm(
        posted(request),
        features=input_features(deployment.version),
        stored_methods=stored.drift_methods if stored else {},
        effective=effective,
        initial={"positive_label": stored.positive_label if stored else "1"},
    )
    if request.method == "POST" and form.is_valid():

        def save() -> tuple[str, str]:
            performance_services.monitoring_settings_update(
                deployment=deployment,
                actor=actor,
                thresholds=form.thresholds(),
                positive_label=form.cleaned_data["positive_label"],
                drift_methods=form.drift_methods(),
            )
            return (
                f"Monitoring settings of deployment #{pk} saved; the next monitoring run uses "
                "them.",
                reverse("registry:deployment-settings", args=[pk]),
            )

        done = _carry_out(request, form, back, save, refusals=(ValueError, ValidationError))
        if done is not None:
            return done
    context = {
        "deployment": deployment,
        "model": deployment.version.model,
        "version": deployment.version,
        "form": form,
    }
    return render(request, "registry/deployment_edit/settings.html", context)
