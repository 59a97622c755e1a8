"""Write buttons on the registry's read pages, shown only to users who may use them (the
services decide again when the form is posted)."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Exists, OuterRef
from django.urls import reverse

from registry.choices import Action, DeploymentStatus, Stage
from registry.models import Deployment, ModelVersion, RegisteredModel

register = template.Library()


def _rights(user: Any, model: RegisteredModel) -> set[str]:
    """The actions among deploy and change that `user` holds on `model`, in one query."""
    if user is None or not user.is_authenticated:
        return set()
    row = (
        RegisteredModel.objects.filter(pk=model.pk)
        .annotate(
            **{
                action: Exists(
                    RegisteredModel.objects.restrict(user, action).filter(pk=OuterRef("pk"))
                )
                for action in (Action.DEPLOY, Action.CHANGE)
            }
        )
        .values(Action.DEPLOY, Action.CHANGE)
        .first()
    )
    return {action for action, held in (row or {}).items() if held}


@register.inclusion_tag("registry/deployment_edit/_deployment_actions.html", takes_context=True)
def deployment_actions(context: template.Context, deployment: Deployment) -> dict[str, Any]:
    request = context.get("request")
    rights = _rights(getattr(request, "user", None), deployment.version.model)
    active = deployment.status == DeploymentStatus.ACTIVE
    version = deployment.version
    links = []
    if Action.DEPLOY in rights and active:
        links.append(("Roll back", reverse("registry:deployment-rollback", args=[deployment.pk])))
        links.append(
            ("Start a canary", reverse("registry:deployment-canary", args=[deployment.pk]))
        )
    if Action.DEPLOY in rights and deployment.status != DeploymentStatus.RETIRED:
        links.append(("Retire", reverse("registry:deployment-retire", args=[deployment.pk])))
    if Action.DEPLOY in rights and version.stage == Stage.APPROVED:
        links.append(
            (
                "Request production",
                reverse("approvals:request-new", args=[version.pk]) + "?kind=production",
            )
        )
    if Action.CHANGE in rights:
        links.append(
            ("Monitoring settings", reverse("registry:deployment-settings", args=[deployment.pk]))
        )
    return {"links": links}


@register.inclusion_tag("registry/deployment_edit/_version_actions.html", takes_context=True)
def version_deploy_actions(context: template.Context, version: ModelVersion) -> dict[str, Any]:
    request = context.get("request")
    rights = _rights(getattr(request, "user", None), version.model)
    links = []
    if Action.DEPLOY in rights and version.stage not in (Stage.REJECTED, Stage.ARCHIVED):
        links.append(
            (
                "Deploy to dev or staging",
                reverse("registry:version-deploy", args=[version.model.slug, version.number]),
            )
        )
    # The page's head already offers "Request production deployment" for an approved version.
    return {"links": links}
