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
from governance.reports.forms import ExportForm, ScheduleForm, VerifyForm
from governance.reports.models import ReportSchedule
from registry.actors import acting_user
from registry.choices import Action
from registry.choices import DeploymentStatus as Lifecycle
from registry.form_errors import show_service_error
from registry.models import Deployment


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
def technical_documentation(request: HttpRequest, pk: int) -> HttpResponse:
    """The technical documentation of version `pk` as a JSON download (404 when not visible)."""
    doc = services.techdoc_json(actor=acting_user(request), version_id=pk)
    response = HttpResponse(
        services.techdoc_bytes(doc), content_type="application/json; charset=utf-8"
    )
    name = f"technical-documentation-{doc['model']['slug']}-v{doc['version']['number']}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


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


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def schedule_new(request: HttpRequest) -> HttpResponse:
    """Schedule a monthly report of an active deployment the user may change (the service
    checks the right again and audits)."""
    deployments = list(
        Deployment.objects.restrict(request.user, Action.CHANGE)
        .filter(status=Lifecycle.ACTIVE)
        .select_related("version__model")
        .order_by("version__model__name", "pk")[:500]
    )
    form = ScheduleForm(request.POST or None, deployments=deployments)
    if request.method == "POST" and form.is_valid():
        try:
            schedule = scheduling.schedule_create(
                deployment_id=form.cleaned_data["deployment"],
                recipients=form.recipient_list(),
                actor=acting_user(request),
            )
        except ValidationError as exc:
            show_service_error(form, exc, unnamed_field="recipients")
        else:
            messages.success(
                request, f"Monthly report of deployment #{schedule.deployment_id} scheduled."
            )
            return redirect("governance:reports")
    return render(request, "reports/schedule_new.html", {"form": form, "deployments": deployments})


@login_required
@require_safe
def schedule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """The confirmation before a schedule is deleted (404 when not visible); the button posts
    to `schedule_change`, whose service checks the change right."""
    visible = ReportSchedule.objects.restrict(request.user, Action.VIEW)
    schedule = get_object_or_404(visible.select_related("deployment__version__model"), pk=pk)
    return render(request, "reports/schedule_delete.html", {"schedule": schedule})
