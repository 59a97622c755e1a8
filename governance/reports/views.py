"""Report pages: start an export and follow its progress, verify an uploaded report."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from governance.reports import scheduling, services
from governance.reports.api import report_jobs, start_export
from governance.reports.forms import ExportForm, VerifyForm
from registry.actors import acting_user


@login_required
@require_POST
def export_start(request: HttpRequest) -> HttpResponse:
    """Queue an export of a version or deployment the user may view (404 otherwise)."""
    form = ExportForm(request.POST)
    if not form.is_valid():
        problems = " ".join(str(error) for error in form.non_field_errors())
        messages.error(request, problems or "Check the period.")
        return redirect("governance:reports")
    try:
        job = start_export(user=acting_user(request), data=form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("governance:reports")
    messages.success(request, "The report is being rendered and signed.")
    return redirect("reports:job", pk=job.pk)


@login_required
@require_safe
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress of the user's own export job, then the download link."""
    job = get_object_or_404(report_jobs(request.user), pk=pk)
    return render(request, "reports/job.html", {"job": job})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Upload a report and see whether it verifies; open to every signed-in user."""
    form = VerifyForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = services.report_verify(form.cleaned_data["file"].read())
    return render(request, "reports/verify.html", {"form": form, "result": result})


SCHEDULE_CHANGES = {
    "pause": "Schedule paused: no report is issued until it is resumed.",
    "resume": "Schedule resumed: missed months are issued one run at a time.",
    "delete": "Schedule deleted; the reports it issued stay.",
}


@login_required
@require_POST
def schedule_change(request: HttpRequest, pk: int) -> HttpResponse:
    """Pause, resume or delete a monthly schedule. The services check the change right: 404
    when the schedule is not visible; visible but not changeable, an error message."""
    change = request.POST.get("change", "")
    if change not in SCHEDULE_CHANGES:
        messages.error(request, "Choose pause, resume or delete.")
        return redirect("governance:reports")
    try:
        if change == "delete":
            scheduling.schedule_delete(schedule_id=pk, actor=acting_user(request))
        else:
            scheduling.schedule_set_active(
                schedule_id=pk, active=change == "resume", actor=acting_user(request)
            )
    except PermissionDenied as exc:  # visible but not changeable: say so on the page
        messages.error(request, str(exc))
        return redirect("governance:reports")
    messages.success(request, SCHEDULE_CHANGES[change])
    return redirect("governance:reports")
