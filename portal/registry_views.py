"""Registry pages: models, versions, datasets and deployments, read-only.

Views parse the request and render; every read is a `registry.selectors` function, which
restricts to what the user may view (anything else is a 404).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_safe

from governance.access import services as access
from governance.approvals.models import ModelWatch
from governance.audit import selectors as audit_selectors
from governance.lineage import Node
from governance.lineage.selectors import lineage_graph
from governance.mlflow import selectors as mlflow_selectors
from governance.retraining import selectors as retraining_selectors
from monitoring.dashboards.deployment_selectors import detail_monitoring
from portal import lineage_svg
from portal.registry_edit import may_change, may_create_models
from registry import selectors
from registry.actors import acting_user
from registry.choices import Action
from registry.forms import DeploymentFilterForm, ListForm, ModelFilterForm
from registry.models import RegisteredModel

PAGE_SIZE = 25


def paginate(request: HttpRequest, items: QuerySet[Any], per_page: int = PAGE_SIZE) -> Page:
    """The requested page; a missing or out-of-range number gives the first or last page."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def filtered_page(
    request: HttpRequest,
    form: ListForm,
    select: Callable[..., QuerySet[Any]],
    template: str,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """A list page: the GET form's search, filters and sort, passed to the selector `select`,
    one page of what it returns (and `extra` in the template's context)."""
    values = form.values()
    items = select(
        user=request.user,
        search=values.get("q", ""),
        filters=values,
        ordering=values.get("sort", ""),
    )
    context = {
        "form": form,
        "page_obj": paginate(request, items),
        "filtered": bool(set(values) - {"sort"}),
        **(extra or {}),
    }
    return render(request, template, context)


def lineage_context(user: Any, start: Node) -> dict[str, Any]:
    """The lineage around `start` (3 steps each way) laid out for the SVG and the edge list."""
    graph = lineage_graph(user=user, start=start, direction="both", depth=3)
    return {
        "lineage": graph,
        "lineage_layout": lineage_svg.layout(graph),
        "lineage_edges": lineage_svg.edge_rows(graph),
    }


@login_required
@require_safe
def model_list(request: HttpRequest) -> HttpResponse:
    form = ModelFilterForm(request.GET, **selectors.model_filter_options(user=request.user))
    extra = {"may_create": may_create_models(request.user)}
    return filtered_page(request, form, selectors.model_list, "registry/model_list.html", extra)


@login_required
@require_safe
def model_detail(request: HttpRequest, slug: str) -> HttpResponse:
    user = acting_user(request)
    model = selectors.model_get(user=user, slug=slug)
    context = {
        "model": model,
        "versions": selectors.model_versions(user=user, model=model),
        "datasets": selectors.model_datasets(user=user, model=model),
        "deployments": selectors.model_deployments(user=user, model=model),
        "events": audit_selectors.present_events(
            user=user, events=audit_selectors.model_audit(user=user, model=model)
        ),
        "watching": ModelWatch.objects.filter(model=model, user=user).exists(),
        "may_change": may_change(user, model),
        "retraining": retraining_selectors.model_summary(model=model),
    }
    if RegisteredModel.objects.restrict(user, Action.MANAGE_ACCESS).filter(pk=model.pk).exists():
        context["access"] = access.access_list(model=model)
        grantable = access.grantable_actions(user)
        context["actions"] = [c for c in Action.choices if c[0] in grantable]
    return render(request, "registry/model_detail.html", context)


@login_required
@require_safe
def version_detail(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    user = request.user
    version = selectors.version_get(user=user, slug=slug, number=number)
    importance = selectors.feature_importance_rows(version.feature_importance)
    context = {
        "version": version,
        "model": version.model,
        "artifacts": selectors.version_artifacts(user=user, version=version),
        "deployments": selectors.version_deployments(user=user, version=version),
        "mlflow": mlflow_selectors.version_mirror(version=version),
        "hyperparameters": sorted(version.hyperparameters.items()),
        "metrics": sorted(version.training_metrics.items()),
        "importance": importance,
        "importance_chart": {
            "labels": [row["name"] for row in importance],
            "values": [row["value"] for row in importance],
            "label": "Feature importance",
        },
        **lineage_context(user, Node("version", version.pk)),
        "may_change": may_change(user, version.model),
    }
    return render(request, "registry/version_detail.html", context)


@login_required
@require_safe
def dataset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = selectors.dataset_get(user=request.user, pk=pk)
    context = {
        "dataset": dataset,
        "model": dataset.model,
        "columns": selectors.dataset_columns(dataset),
        # A metadata-only dataset: the schema and profile its source system recorded.
        "external_metadata": (
            json.dumps(dataset.external_metadata, indent=2, sort_keys=True)
            if dataset.external and dataset.external_metadata
            else ""
        ),
        **lineage_context(request.user, Node("dataset", dataset.pk)),
    }
    return render(request, "registry/dataset_detail.html", context)


@login_required
@require_safe
def deployment_list(request: HttpRequest) -> HttpResponse:
    form = DeploymentFilterForm(
        request.GET, models=selectors.deployment_model_options(user=request.user)
    )
    return filtered_page(request, form, selectors.deployment_list, "registry/deployment_list.html")


def _url_or_blank(name: str) -> str:
    """The URL of a page another part of Steward may not have added yet ("" until then)."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def deployment_links(deployment: Any) -> dict[str, str]:
    """Where the detail page points: the version's approval requests, the audit trail of this
    deployment, the alerts page (this deployment's unresolved alerts are on the page itself)."""
    return {
        "approvals_url": f"{reverse('approvals:request-list')}?version={deployment.version_id}",
        "audit_url": f"{reverse('governance:audit-list')}?target_type=registry.deployment"
        f"&target_id={deployment.pk}",
        "alerts_url": _url_or_blank("monitoring:alert-list"),
    }


@login_required
@require_safe
def deployment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    deployment = selectors.deployment_get(user=request.user, pk=pk)
    context = {
        "deployment": deployment,
        "version": deployment.version,
        "model": deployment.version.model,
        "tab": "overview",
        **selectors.deployment_history(user=request.user, deployment=deployment),
        **lineage_context(request.user, Node("deployment", deployment.pk)),
        **detail_monitoring(deployment=deployment),
        **deployment_links(deployment),
    }
    return render(request, "registry/deployment_detail.html", context)
