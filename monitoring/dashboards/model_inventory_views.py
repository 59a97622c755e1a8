"""The model-risk inventory page and its CSV / JSON export (monitoring/dashboards/
model_inventory.py does the reading)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from governance.audit.export import csv_lines
from monitoring.dashboards import model_inventory as inventory

PAGE_SIZE = 25


@login_required
@require_safe
def model_inventory(request: HttpRequest) -> HttpResponse:
    """One row per model the user may view, filterable; soonest validation due first."""
    form = inventory.ModelInventoryFilterForm(request.GET)
    values = form.values()
    models = inventory.model_inventory(
        user=request.user, search=values.get("q", ""), filters=values
    )
    page = Paginator(models, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page_obj": page,
        "filtered": bool(values),
        "query": query.urlencode(),
        "today": timezone.localdate(),
    }
    return render(request, "monitoring/dashboards/model_inventory.html", context)


@login_required
@require_safe
def model_inventory_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """Every model the page's filters match (no pagination), as CSV or JSON."""
    form = inventory.ModelInventoryFilterForm(request.GET)
    values = form.values()
    models = inventory.model_inventory(
        user=request.user, search=values.get("q", ""), filters=values
    )
    stamp = timezone.localdate().isoformat()
    if fmt == "csv":
        rows = (inventory.export_row(model) for model in models)
        columns = [key for key, _ in inventory.COLUMNS]
        headers = [header for _, header in inventory.COLUMNS]
        text = "".join(csv_lines(rows, columns, headers))
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(inventory.as_json(models), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="model-inventory-{stamp}.{fmt}"'
    return response
