"""Portfolio pages: the status overview, the deployment inventory and the alert list.

Thin: parse the query, call the selectors in portfolio_selectors, shape rows for the
templates. Acknowledge and resolve call the alert services under the API's rule (404 unless
the alert's deployment is visible; change rights on its model to act, else an error message).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from monitoring.alerts import services as alert_services
from monitoring.alerts.selectors import alert_list
from monitoring.dashboards import model_inventory
from monitoring.dashboards import portfolio_selectors as selectors
from monitoring.dashboards.portfolio_forms import InventoryFilterForm
from monitoring.models import Alert

PAGE_SIZE = 25
LEVEL_LABEL = {str(level): label for level, label in selectors.LEVELS}
# Columns whose first click sorts downwards: the busiest or the worst first.
WORST_FIRST = {"share", "accuracy", "drift", "health"}


def _page(request: HttpRequest, items: Any) -> Any:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


# Portfolio ------------------------------------------------------------------------------------


@login_required
@require_safe
def portfolio(request: HttpRequest) -> HttpResponse:
    """Figure 1.1: active deployments, and per status axis the share at each level."""
    summary = selectors.portfolio_summary(user=request.user)
    inventory = reverse("monitoring:inventory")
    charts: dict[str, Any] = {}
    for axis in summary["axes"]:
        for level in axis["levels"]:
            level["href"] = f"{inventory}?{urlencode({axis['param']: level['level']})}"
        charts[axis["axis"]] = {
            "title": axis["label"],
            "levels": [level["level"] for level in axis["levels"]],
            "labels": [level["label"] for level in axis["levels"]],
            "counts": [level["count"] for level in axis["levels"]],
            "hrefs": [level["href"] for level in axis["levels"]],
        }
    context = {
        "summary": summary,
        "charts": charts,
        "prediction_total": selectors.prediction_total(user=request.user),
        "revalidation_overdue": model_inventory.overdue_count(user=request.user),
    }
    return render(request, "monitoring/dashboards/portfolio.html", context)


# Inventory ------------------------------------------------------------------------------------


def _sort_headers(query: QueryDict, sort: str) -> list[dict[str, Any]]:
    """Per column: its label, the link that sorts by it (reversing the current order on the
    sorted column), and the aria-sort value of the sorted one."""
    headers = []
    for key, column in selectors.COLUMNS.items():
        if sort == key:
            target, state = f"-{key}", "ascending"
        elif sort == f"-{key}":
            target, state = key, "descending"
        else:
            target, state = (f"-{key}" if key in WORST_FIRST else key), ""
        params = query.copy()
        params["sort"] = target
        params.pop("page", None)
        headers.append(
            {"key": key, "label": column.label, "href": f"?{params.urlencode()}", "sorted": state}
        )
    return headers


def _status_cells(deployment: Any) -> list[dict[str, str]]:
    cells = []
    for axis in selectors.AXES:
        level = getattr(deployment, f"{axis}_level")
        cells.append(
            {
                "axis": selectors.AXIS_LABEL[axis],
                "level": level,
                "label": LEVEL_LABEL.get(level, level),
                "reason": getattr(deployment, f"{axis}_reason"),
            }
        )
    return cells


@login_required
@require_safe
def inventory(request: HttpRequest) -> HttpResponse:
    """Figure 1.2: one row per deployment the user may view, sortable and filterable."""
    user = request.user
    form = InventoryFilterForm(request.GET, **selectors.inventory_filter_options(user=user))
    values = form.values()
    sort = request.GET.get("sort", "")
    if sort.lstrip("-") not in selectors.COLUMNS:
        sort = selectors.DEFAULT_SORT
    rows = selectors.inventory_list(
        user=user, search=values.get("q", ""), filters=values, sort=sort
    )
    page = _page(request, rows)
    total = selectors.prediction_total(user=user)
    for deployment in page:
        deployment.share = selectors.share_of(deployment.predictions, total)
        deployment.status_cells = _status_cells(deployment)
    context = {
        "form": form,
        "page_obj": page,
        "filtered": bool(values),
        "sort": sort,
        "headers": _sort_headers(request.GET, sort),
        "prediction_total": total,
    }
    return render(request, "monitoring/dashboards/inventory.html", context)


# Alerts ---------------------------------------------------------------------------------------

TAB_STATES = {state for state, _ in selectors.ALERT_TABS}


def _alert_state(value: str | None) -> str:
    return value if value in TAB_STATES else "open"


@login_required
@require_safe
def alert_list_page(request: HttpRequest) -> HttpResponse:
    """Alerts on visible deployments by state, with acknowledge and resolve for those who
    hold change rights on the alert's model."""
    user = request.user
    state = _alert_state(request.GET.get("state"))
    page = _page(request, selectors.alert_page_list(user=user, state=state))
    changeable = selectors.alerts_changeable(user=user, ids=[alert.pk for alert in page])
    for alert in page:
        alert.can_change = alert.pk in changeable
    counts = selectors.alert_state_counts(user=user)
    tabs = [
        {"state": key, "label": label, "count": counts[key], "current": key == state}
        for key, label in selectors.ALERT_TABS
    ]
    context = {"page_obj": page, "state": state, "tabs": tabs, "any_alert": counts["all"] > 0}
    return render(request, "monitoring/dashboards/alert_list.html", context)


def _alert_action(
    request: HttpRequest, pk: int, service: Callable[..., Alert], done: str
) -> HttpResponse:
    alert = get_object_or_404(alert_list(user=request.user), pk=pk)
    back = HttpResponseRedirect(
        f"{reverse('monitoring:alert-list')}?state={_alert_state(request.POST.get('state'))}"
    )
    try:
        service(alert=alert, actor=request.user)  # the service checks "change" on the model
    except PermissionDenied:
        messages.error(
            request, f"You may not change alert {alert.pk}: that needs change rights on its model."
        )
    except alert_services.InvalidTransition as exc:
        messages.error(request, f"Nothing changed: {exc}.")
    else:
        messages.success(request, f"Alert {alert.pk} is {done}.")
    return back


@login_required
@require_POST
def alert_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    return _alert_action(request, pk, alert_services.alert_acknowledge, "acknowledged")


@login_required
@require_POST
def alert_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    return _alert_action(request, pk, alert_services.alert_resolve, "resolved")
