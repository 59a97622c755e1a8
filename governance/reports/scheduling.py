"""Monthly deployment reports: create a schedule, queue the due runs (beat calls this daily),
and e-mail each issued report to the schedule's recipients."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from governance import audit
from governance.reports import jobs
from governance.reports.models import ReportExport, ReportSchedule
from monitoring.jobs.queue import job_create
from registry.actors import Actor
from registry.choices import Action
from registry.models import Deployment

SCHEDULER = "system:report-scheduler"


def month_start(moment: dt.datetime) -> dt.datetime:
    """Midnight UTC of the first day of `moment`'s month."""
    utc = moment.astimezone(dt.UTC)
    return utc.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def previous_month(moment: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the calendar month before `moment`'s, in UTC."""
    end = month_start(moment)
    return month_start(end - dt.timedelta(days=1)), end


@transaction.atomic
def schedule_create(*, deployment_id: int, recipients: list[str], actor: Actor) -> ReportSchedule:
    """Schedule monthly reports of a deployment; needs the change right on its model (404 when
    the deployment is invisible, 403 when visible but not changeable)."""
    if not Deployment.objects.restrict(actor, Action.VIEW).filter(pk=deployment_id).exists():
        raise Http404("no such deployment")
    deployment = Deployment.objects.restrict(actor, Action.CHANGE).filter(pk=deployment_id).first()
    if deployment is None:
        raise PermissionDenied("scheduling reports needs the change right on the model")
    if not recipients:
        raise ValidationError({"recipients": "name at least one address"})
    for address in recipients:
        validate_email(address)
    schedule = ReportSchedule(
        deployment=deployment,
        recipients=", ".join(recipients),
        created_by=actor,
        # The first report covers the month that is complete when the schedule is made.
        last_period_end=previous_month(timezone.now())[0],
    )
    schedule.full_clean()
    schedule.save()
    audit.record(
        actor=actor,
        action="reports.schedule.created",
        target=schedule,
        after={"deployment": deployment.pk, "recipients": schedule.recipient_list},
    )
    return schedule


def _changeable_schedule(*, schedule_id: int, actor: Actor) -> ReportSchedule:
    """The schedule, locked, if `actor` may change its deployment's model: 404 when it is not
    visible to them, 403 when visible but not changeable."""
    if not ReportSchedule.objects.restrict(actor, Action.VIEW).filter(pk=schedule_id).exists():
        raise Http404("no such schedule")
    if not ReportSchedule.objects.restrict(actor, Action.CHANGE).filter(pk=schedule_id).exists():
        raise PermissionDenied("changing a report schedule needs the change right on the model")
    return ReportSchedule.objects.select_for_update().get(pk=schedule_id)


def _shown(schedule: ReportSchedule) -> dict[str, Any]:
    return {
        "deployment": schedule.deployment_id,
        "recipients": schedule.recipient_list,
        "active": schedule.active,
    }


@transaction.atomic
def schedule_set_active(*, schedule_id: int, active: bool, actor: Actor) -> ReportSchedule:
    """Pause (active False) or resume (True) a schedule, audited. A paused schedule queues
    nothing; resumed, it issues the months it missed one run at a time, as after an outage."""
    schedule = _changeable_schedule(schedule_id=schedule_id, actor=actor)
    if schedule.active == active:
        return schedule
    before = _shown(schedule)
    schedule.active = active
    schedule.save(update_fields=["active"])
    audit.record(
        actor=actor,
        action="reports.schedule.resumed" if active else "reports.schedule.paused",
        target=schedule,
        before=before,
        after=_shown(schedule),
    )
    return schedule


@transaction.atomic
def schedule_delete(*, schedule_id: int, actor: Actor) -> None:
    """Delete a schedule (reports already issued stay), audited with what it was."""
    schedule = _changeable_schedule(schedule_id=schedule_id, actor=actor)
    audit.record(
        actor=actor, action="reports.schedule.deleted", target=schedule, before=_shown(schedule)
    )
    schedule.delete()


def schedules_run_due(*, now: dt.datetime | None = None) -> list[int]:
    """Queue one export job per active schedule whose last month is not issued yet; returns the
    job ids. Each schedule moves on under a row lock, so overlapping beats queue it once."""
    start, end = previous_month(now or timezone.now())
    queued = []
    for pk in ReportSchedule.objects.filter(active=True).values_list("pk", flat=True):
        with transaction.atomic():
            schedule = ReportSchedule.objects.select_for_update().get(pk=pk)
            if schedule.last_period_end is not None and schedule.last_period_end >= end:
                continue
            params = jobs.params_for(deployment_id=schedule.deployment_id, since=start, until=end)
            params["email"] = schedule.recipient_list
            params["schedule"] = schedule.pk
            queued.append(job_create(kind=jobs.KIND, params=params).pk)
            schedule.last_period_end = end
            schedule.save(update_fields=["last_period_end"])
    return queued


def report_email(*, export: ReportExport, recipients: list[str]) -> int:
    """Send the signed PDF as an attachment; the body says how to verify it."""
    subject_of = export.deployment or export.version
    period = (
        f"{export.period_start:%Y-%m-%d} to {export.period_end:%Y-%m-%d}"
        if export.period_start and export.period_end
        else ""
    )
    message = EmailMessage(
        subject=f"[Steward] Signed report: {subject_of} {period}".strip(),
        body=(
            f"The signed {export.get_kind_display().lower()} of {subject_of} {period} is "
            f"attached.\n\nsha256 {export.sha256}\n\nAny PDF signature validator can check "
            "the signature; `manage.py verify_report FILE.pdf` or the portal's verify page also "
            "confirm that Steward issued exactly this file.\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    with export.file.open("rb") as f:
        message.attach(Path(export.file.name or "report.pdf").name, f.read(), "application/pdf")
    return message.send()
