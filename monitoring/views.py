"""Monitoring pages: the background job runs, as `monitoring.selectors.job_run_list` lets
each user see them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from monitoring.choices import JobState
from monitoring.models import JobRun
from monitoring.selectors import job_run_list, sees_all_jobs
from registry.api.fields import object_id
from registry.forms import ANY, ListForm, choice_field

PAGE_SIZE = 25
MAX_PROGRESS_IDS = 100


class JobFilterForm(ListForm):
    state = forms.ChoiceField(label="State", required=False, choices=ANY + JobState.choices)
    kind = forms.ChoiceField(label="Job", required=False)

    def __init__(self, *args: Any, kinds: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "kind").choices = ANY + [(k, k.replace("_", " ")) for k in kinds]


@login_required
@require_safe
def job_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    kinds = job_run_list(user=user).order_by("kind").values_list("kind", flat=True).distinct()
    form = JobFilterForm(request.GET, kinds=list(kinds))
    values = form.values()
    runs = job_run_list(user=user, state=values.get("state", ""), kind=values.get("kind", ""))
    page = Paginator(runs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page_obj": page,
        "filtered": bool(values),
        "all_jobs": sees_all_jobs(user),
        "any_in_flight": any(run.in_flight for run in page),
    }
    return render(request, "monitoring/job_list.html", context)


def elapsed_s(run: JobRun) -> float | None:
    """Seconds from start to finish, or so far for a run still going; None before it starts."""
    if run.started_at is None:
        return None
    end = run.finished_at or timezone.now()
    return max(0.0, (end - run.started_at).total_seconds())


def progress_entry(run: JobRun) -> dict[str, Any]:
    """What the job page's script needs to redraw one row."""
    return {
        "id": run.pk,
        "state": run.state,
        "state_label": run.get_state_display(),
        "in_flight": run.in_flight,
        "progress": round(min(max(run.progress, 0.0), 1.0), 4),
        "elapsed_s": elapsed_s(run),
        "error": run.error[:200],
    }


def _ids(raw: str) -> list[int]:
    # An id past 64 bits names no run and would overflow the database's integer: left out.
    ids = [number for part in raw.split(",") if (number := object_id(part)) is not None]
    return ids[:MAX_PROGRESS_IDS]


@login_required
@require_safe
def job_progress(request: HttpRequest) -> JsonResponse:
    """GET ?ids=1,2: state and progress of those runs among the ones the user may see (the
    others are left out, exactly as the job list leaves them out)."""
    ids = _ids(request.GET.get("ids", ""))
    runs = job_run_list(user=request.user).filter(pk__in=ids) if ids else JobRun.objects.none()
    return JsonResponse({"runs": [progress_entry(run) for run in runs]})
