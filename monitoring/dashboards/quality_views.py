"""The "Data quality" tab of a deployment: per feature, the shares of missing values, type
errors, values outside the reference range and unseen categories over the chosen UTC days,
summed from the hourly quality rows (the API's figures, by the same selector)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from monitoring.dashboards import deployment_selectors as selectors
from monitoring.dashboards.deployment_forms import DateRangeForm
from monitoring.dashboards.deployment_views import BLUE, GREY, ORANGE, RED, _base
from monitoring.rollups.quality_selectors import quality_window

SHARES = (
    ("missing_share", "Missing", RED),
    ("type_error_share", "Type errors", GREY),
    ("out_of_range_share", "Out of range", ORANGE),
    ("unseen_share", "Unseen categories", BLUE),
)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _chart(features: list[dict[str, Any]]) -> dict[str, Any]:
    """Bars per feature, one per share (missing shares are absent figures, not zero)."""
    return {
        "kind": "bar",
        "labels": [row["feature"] for row in features],
        "y": {"title": "Share of values", "min": 0, "percent": True},
        "datasets": [
            {"label": label, "data": [row[key] for row in features], "color": color}
            for key, label, color in SHARES
        ],
    }


def _flagged(row: dict[str, Any]) -> bool:
    return any(row[key] for key, _, _ in SHARES)


@login_required
@require_safe
def deployment_quality(request: HttpRequest, pk: int) -> HttpResponse:
    deployment = selectors.deployment_get(user=request.user, pk=pk)
    form = DateRangeForm(request.GET)
    first, last = form.range()
    window = quality_window(
        deployment=deployment,
        start=_day_start(first),
        end=_day_start(last) + dt.timedelta(days=1),
    )
    features = [row | {"flagged": _flagged(row)} for row in window["features"]]
    context = _base(request, deployment, "quality") | {
        "form": form,
        "first": first,
        "last": last,
        "window": window,
        "features": features,
        "flagged": [row for row in features if row["flagged"]],
        "chart": _chart(features),
    }
    return render(request, "monitoring/deployment_quality.html", context)
