"""The deployment dashboards: service health, performance over time, feature drift against
importance, training vs production data. Thin: parse the GET form, call the selectors, shape
the chart payloads (drawn by portal/static/steward/charts.js from `json_script` data)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from monitoring.dashboards import deployment_selectors as selectors
from monitoring.dashboards import deployment_shaping as shaping
from monitoring.dashboards.deployment_forms import DateRangeForm, FeatureForm, PerformanceForm
from monitoring.rollups.services import reference_choose
from registry.actors import acting_user
from registry.models import Dataset, Deployment

TABS = {
    "health": "monitoring:deployment-health",
    "performance": "monitoring:deployment-performance",
    "drift": "monitoring:deployment-drift",
    "data": "monitoring:deployment-data",
    "quality": "monitoring:deployment-quality",
}
BLUE, ORANGE, GREEN, RED, GREY = "#3b6fc4", "#c46a1b", "#2e7d4f", "#c0392b", "#6b7785"


def _base(request: HttpRequest, deployment: Deployment, tab: str) -> dict[str, Any]:
    return {
        "deployment": deployment,
        "version": deployment.version,
        "model": deployment.version.model,
        "tab": tab,
        "deployment_options": selectors.deployment_options(user=request.user),
    }


def _line(label: str, data: list[Any], color: str) -> dict[str, Any]:
    return {"label": label, "data": data, "color": color}


def _days(days: list[dt.date]) -> list[str]:
    return [d.isoformat() for d in days]


@login_required
@require_safe
def deployment_switch(request: HttpRequest) -> HttpResponse:
    """The deployment selector's target: on to the same tab of the chosen deployment (whose
    own page decides whether the user may see it)."""
    pk, tab = request.GET.get("deployment", ""), request.GET.get("tab", "health")
    if not pk.isdigit() or tab not in TABS:
        raise Http404("no such deployment or tab")
    url = reverse(TABS[tab], kwargs={"pk": int(pk)})
    kept = {k: v for k, v in request.GET.items() if k in ("start", "end", "metric")}
    return HttpResponseRedirect(f"{url}?{urlencode(kept)}" if kept else url)


@login_required
@require_safe
def deployment_health(request: HttpRequest, pk: int) -> HttpResponse:
    deployment = selectors.deployment_get(user=request.user, pk=pk)
    form = DateRangeForm(request.GET)
    first, last = form.range()
    health = selectors.health_range(deployment=deployment, first=first, last=last)
    days = health["days"]
    labels = _days([d["day"] for d in days])
    charts = {
        "requests": {
            "kind": "bar",
            "labels": labels,
            "y": {"title": "Requests per day"},
            "datasets": [
                _line("Predictions", shaping.series(days, "predictions"), BLUE),
                _line("Errors", shaping.series(days, "errors"), RED),
            ],
            "stacked": True,
        },
        "latency": {
            "kind": "line",
            "labels": labels,
            "y": {"title": "Milliseconds"},
            "datasets": [
                {"label": "p50", "data": shaping.series(days, "latency_p50_ms"), "color": BLUE},
                {"label": "p95", "data": shaping.series(days, "latency_p95_ms"), "color": ORANGE},
            ],
        },
        "rates": {
            "kind": "line",
            "labels": labels,
            "y": {"title": "Per cent", "min": 0},
            "datasets": [
                _line("Error rate %", shaping.series(days, "error_rate", 100), RED),
                {
                    "label": "Cache hit rate %",
                    "data": shaping.series(days, "cache_hit_rate", 100),
                    "color": GREEN,
                },
            ],
        },
        "resources": {
            "kind": "line",
            "labels": labels,
            "y": {"title": "CPU (share of a core)"},
            "y2": {"title": "Memory (MB)"},
            "datasets": [
                {"label": "CPU", "data": shaping.series(days, "cpu_mean"), "color": BLUE},
                {
                    "label": "Memory",
                    "data": shaping.series(days, "memory_mean"),
                    "color": ORANGE,
                    "axis": "y2",
                },
            ],
        },
    }
    totals = health["totals"]
    context = _base(request, deployment, "health") | {
        "form": form,
        "first": first,
        "last": last,
        "totals": totals,
        "days": days,
        "has_data": health["hours"] > 0,
        "has_resources": totals["cpu_mean"] is not None or totals["memory_mean"] is not None,
        "activity": selectors.activity_get(deployment=deployment),
        "charts": charts,
    }
    return render(request, "monitoring/deployment_health.html", context)


@login_required
@require_safe
def deployment_performance(request: HttpRequest, pk: int) -> HttpResponse:
    deployment = selectors.deployment_get(user=request.user, pk=pk)
    metrics = selectors.metric_choices(deployment.version.model.task)
    form = PerformanceForm(request.GET, metrics=metrics)
    first, last = form.range()
    metric = form.chosen_metric()
    view = selectors.performance_view(deployment=deployment, metric=metric, first=first, last=last)
    metric_label = dict(metrics)[metric]
    lines = []
    if view["threshold"] is not None:
        threshold = view["threshold"]
        lines.append({"value": threshold["value"], "label": threshold["label"], "color": RED})
    if view["training"] is not None:
        lines.append(
            {"value": view["training"], "label": "At training", "color": GREY, "dash": True}
        )
    estimate = selectors.estimate_view(deployment=deployment, metric=metric, first=first, last=last)
    datasets = [{"label": metric_label, "data": view["values"], "color": BLUE}]
    if estimate["has_values"]:
        # The band first: "+1" fills down to the next dataset, the lower edge.
        datasets = [
            {"label": "Band upper", "data": estimate["upper"], "color": ORANGE, "band": True,
             "fill": "+1"},
            {"label": "Band lower", "data": estimate["lower"], "color": ORANGE, "band": True},
            {"label": f"Estimated {metric_label}", "data": estimate["values"], "color": ORANGE,
             "dash": True},
            *datasets,
        ]  # fmt: skip
    chart = {
        "kind": "line",
        "labels": _days(view["days"]),
        "y": {"title": metric_label},
        "datasets": datasets,
        "lines": lines,
    }
    realised = {row.day: row for row in view["rows"]}
    estimated = {row.day: row for row in estimate["rows"]}
    table = [
        {
            "day": day,
            "predictions": (realised.get(day) or estimated[day]).predictions,
            "labelled": realised[day].labelled if day in realised else 0,
            "values": [realised[day].metrics.get(key) for key, _ in metrics]
            if day in realised
            else [None for _ in metrics],
            "estimate": (estimated[day].estimated.get(estimate["name"]) or {})
            if day in estimated
            else {},
            "error": estimate["errors"].get(day),
        }
        for day in sorted(set(realised) | set(estimated))
    ]
    context = _base(request, deployment, "performance") | {
        "form": form,
        "first": first,
        "last": last,
        "metric": metric,
        "metric_label": metric_label,
        "metrics": metrics,
        "view": view,
        "table": table,
        "chart": chart,
        "has_figures": any(v is not None for v in view["values"]) or estimate["has_values"],
        "estimate": estimate,
    }
    return render(request, "monitoring/deployment_performance.html", context)


@login_required
@require_safe
def deployment_drift(request: HttpRequest, pk: int) -> HttpResponse:
    deployment = selectors.deployment_get(user=request.user, pk=pk)
    view = selectors.drift_view(deployment=deployment)
    features = view["features"]
    sort = request.GET.get("sort", "")
    descending = request.GET.get("dir", "desc" if sort in ("score", "importance") else "asc")
    table = shaping.sort_rows(list(features), sort, descending == "desc")
    chart = {
        "kind": "drift",
        "labels": [row["feature"] for row in features],
        "scores": [row["score"] for row in features],
        "importance": [row["importance"] for row in features],
        "drifted": [row["drifted"] for row in features],
        "threshold": 1.0,
        "details": [
            {
                "method": row["method"],
                "statistic": row["statistic"],
                "p_value": row["p_value"],
                "threshold": row["threshold"],
                "verdict": "drifted" if row["drifted"] else "no drift",
                "reference": row["reference"],
                "current": row["current"],
            }
            for row in features
        ],
    }
    context = _base(request, deployment, "drift") | {
        "view": view,
        "reference": selectors.reference_panel(deployment=deployment, user=request.user),
        "chart": chart,
        "table": table,
        "sort": sort if sort in shaping.DRIFT_SORT_KEYS else "",
        "descending": descending == "desc",
        "headers": _sort_headers(sort, descending == "desc"),
        "over": [row for row in features if row["drifted"]],
        "score_cap": shaping.DRIFT_SCORE_CAP,
    }
    return render(request, "monitoring/deployment_drift.html", context)


SORT_COLUMNS = (
    ("feature", "Feature"),
    ("type", "Type"),
    ("method", "Method"),
    ("statistic", "Statistic"),
    ("p_value", "p-value"),
    ("threshold", "Threshold"),
    ("score", "Drift score"),
    ("drifted", "Verdict"),
    ("importance", "Importance"),
)


def _sort_headers(sort: str, descending: bool) -> list[dict[str, Any]]:
    """Per column: its label, the link that sorts by it (toggling the direction when it is
    the current column) and its aria-sort value."""
    headers = []
    for key, label in SORT_COLUMNS:
        current = key == sort
        direction = "asc" if current and descending else "desc" if current else "asc"
        aria = ("descending" if descending else "ascending") if current else "none"
        headers.append(
            {"key": key, "label": label, "query": f"?sort={key}&dir={direction}", "aria": aria}
        )
    return headers


def _share_rows(shares: dict[str, Any] | None) -> list[tuple[str, float, float]]:
    if not shares:
        return []
    return list(zip(shares["labels"], shares["reference"], shares["current"], strict=True))


def _histogram(shares: dict[str, Any], title: str) -> dict[str, Any]:
    return {
        "kind": "bar",
        "labels": shares["labels"],
        "y": {"title": title, "min": 0, "percent": True},
        "datasets": [
            {"label": "Reference (training)", "data": shares["reference"], "color": GREY},
            {"label": "Production", "data": shares["current"], "color": BLUE},
        ],
    }


@login_required
@require_safe
def deployment_data(request: HttpRequest, pk: int) -> HttpResponse:
    deployment = selectors.deployment_get(user=request.user, pk=pk)
    probe = DateRangeForm(request.GET)
    first, last = probe.range()
    view = selectors.distribution_view(
        deployment=deployment, feature=request.GET.get("feature"), first=first, last=last
    )
    form = FeatureForm(request.GET, features=view["options"])
    context = _base(request, deployment, "data") | {
        "form": form,
        "reference": selectors.reference_panel(deployment=deployment, user=request.user),
        "first": first,
        "last": last,
        "view": view,
        "feature_chart": (
            _histogram(view["distribution"], "Share of values") if view["distribution"] else None
        ),
        "prediction_chart": (
            _histogram(view["prediction"], "Share of predictions") if view["prediction"] else None
        ),
        "feature_rows": _share_rows(view["distribution"]),
        "prediction_rows": _share_rows(view["prediction"]),
    }
    return render(request, "monitoring/deployment_data.html", context)


@login_required
@require_POST
def deployment_reference(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose the version's reference dataset (owners; audited by the service), then back to
    the "Training vs production" tab."""
    deployment = selectors.deployment_get(user=request.user, pk=pk)
    back = HttpResponseRedirect(reverse("monitoring:deployment-data", args=[deployment.pk]))
    dataset = (
        Dataset.objects.filter(
            model_id=deployment.version.model_id, pk=request.POST.get("dataset") or 0
        ).first()
        if str(request.POST.get("dataset", "")).isdigit()
        else None
    )
    if dataset is None:
        messages.error(request, "Nothing changed: choose one of this model's datasets.")
        return back
    try:
        reference_choose(version=deployment.version, dataset=dataset, actor=acting_user(request))
    except PermissionDenied:
        messages.error(request, "Choosing reference data needs change rights on the model.")
        return back
    messages.success(
        request,
        f"Reference data is now {dataset} (sha256 {dataset.sha256[:12]}…): the profile was "
        "rebuilt, and the next monitoring run summarises every hour on it again.",
    )
    return back
