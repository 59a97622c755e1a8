"""Monthly deployment reports: scheduled by who may change the model, queued once per month
for the month before, e-mailed with the signed PDF attached."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from guardian.shortcuts import assign_perm

from governance.reports import scheduling, services
from governance.reports.jobs import KIND
from governance.reports.models import ReportExport, ReportSchedule
from monitoring.models import JobRun
from monitoring.tasks import run_job
from tests import factories


@pytest.fixture
def deployment(db):
    return factories.production_deployment(version=factories.approved_version())


def test_previous_month_is_the_calendar_month_before():
    start, end = scheduling.previous_month(dt.datetime(2026, 3, 15, 12, tzinfo=dt.UTC))
    assert (start, end) == (
        dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
    )
    start, _ = scheduling.previous_month(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert start == dt.datetime(2025, 12, 1, tzinfo=dt.UTC)


def test_due_schedule_queues_one_job_per_month_and_emails_the_signed_pdf(
    deployment, signing_identity, django_capture_on_commit_callbacks
):
    owner = deployment.version.model.owner
    schedule = scheduling.schedule_create(
        deployment_id=deployment.pk, recipients=["risk@example.org"], actor=owner
    )
    now = dt.datetime.now(dt.UTC) + dt.timedelta(days=40)  # the next month has ended
    with django_capture_on_commit_callbacks(execute=False):
        first = scheduling.schedules_run_due(now=now)
        again = scheduling.schedules_run_due(now=now)
    assert len(first) == 1 and again == []
    job = JobRun.objects.get(pk=first[0])
    start, end = scheduling.previous_month(now)
    assert job.kind == KIND and job.params["since"] == start.isoformat()
    run_job.run(job.pk)
    job.refresh_from_db()
    assert job.state == "succeeded", job.error
    export = ReportExport.objects.get()
    assert (export.period_start, export.period_end) == (start, end)
    assert export.generated_by_name == scheduling.SCHEDULER
    [message] = mail.outbox
    assert message.to == ["risk@example.org"]
    [(name, content, mimetype)] = message.attachments
    assert mimetype == "application/pdf" and name.endswith(".pdf")
    assert services.report_verify(content).ok
    schedule.refresh_from_db()
    assert schedule.last_period_end == end


def test_scheduling_needs_the_change_right(api_as, deployment, outsider, signing_identity):
    model = deployment.version.model
    url = reverse("api:report-schedules")
    body = {"deployment": deployment.pk, "recipients": ["a@example.org"]}
    assert api_as(outsider).post(url, body, format="json").status_code == 404
    assign_perm("registry.view_registeredmodel", outsider, model)
    assert api_as(outsider).post(url, body, format="json").status_code == 403
    assert not ReportSchedule.objects.exists()
    created = api_as(model.owner).post(url, body, format="json")
    assert created.status_code == 201 and created.json()["recipients"] == ["a@example.org"]
    assert [s["id"] for s in api_as(outsider).get(url).json()] == [created.json()["id"]]


def test_schedule_recipients_must_be_addresses(api_as, deployment):
    response = api_as(deployment.version.model.owner).post(
        reverse("api:report-schedules"),
        {"deployment": deployment.pk, "recipients": ["not an address"]},
        format="json",
    )
    assert response.status_code == 400
