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
from monitoring.jobs.tasks import run_job
from monitoring.models import JobRun
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


def _schedule(deployment):
    return scheduling.schedule_create(
        deployment_id=deployment.pk,
        recipients=["risk@example.org"],
        actor=deployment.version.model.owner,
    )


def test_a_paused_schedule_queues_nothing_until_resumed_and_both_are_audited(
    api_as, deployment, reviewer
):
    from governance.audit.models import AuditEvent

    owner = deployment.version.model.owner
    schedule = _schedule(deployment)
    url = reverse("api:report-schedule-pause", kwargs={"pk": schedule.pk})
    assert api_as(reviewer).post(url).status_code in (403, 404)
    paused = api_as(owner).post(url)
    assert paused.status_code == 200 and paused.json()["active"] is False
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=40)
    assert scheduling.schedules_run_due(now=later) == []
    resumed = api_as(owner).post(reverse("api:report-schedule-resume", kwargs={"pk": schedule.pk}))
    assert resumed.json()["active"] is True
    assert len(scheduling.schedules_run_due(now=later)) == 1
    actions = list(
        AuditEvent.objects.filter(action__startswith="reports.schedule.").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == [
        "reports.schedule.created",
        "reports.schedule.paused",
        "reports.schedule.resumed",
    ]


def test_deleting_a_schedule_needs_the_change_right_and_is_audited(api_as, deployment, outsider):
    from governance.audit.models import AuditEvent

    schedule = _schedule(deployment)
    url = reverse("api:report-schedule-detail", kwargs={"pk": schedule.pk})
    assert api_as(outsider).delete(url).status_code == 404
    assign_perm("registry.view_registeredmodel", outsider, deployment.version.model)
    assert api_as(outsider).get(url).json()["id"] == schedule.pk
    assert api_as(outsider).delete(url).status_code == 403
    assert api_as(deployment.version.model.owner).delete(url).status_code == 204
    assert not ReportSchedule.objects.exists()
    entry = AuditEvent.objects.get(action="reports.schedule.deleted")
    assert entry.before["recipients"] == ["risk@example.org"]


def test_the_reports_page_pauses_resumes_and_deletes_a_schedule(client, deployment):
    owner = deployment.version.model.owner
    schedule = _schedule(deployment)
    client.force_login(owner)
    page = client.get(reverse("governance:reports")).content.decode()
    assert f'data-schedule="{schedule.pk}"' in page and "Pause</button>" in page
    url = reverse("reports:schedule-change", kwargs={"pk": schedule.pk})
    client.post(url, {"change": "pause"})
    schedule.refresh_from_db()
    assert not schedule.active
    assert "Resume</button>" in client.get(reverse("governance:reports")).content.decode()
    client.post(url, {"change": "resume"})
    schedule.refresh_from_db()
    assert schedule.active
    client.post(url, {"change": "delete"})
    assert not ReportSchedule.objects.exists()


def test_an_outsider_cannot_change_a_schedule_from_the_page(client, deployment, outsider):
    schedule = _schedule(deployment)
    client.force_login(outsider)
    url = reverse("reports:schedule-change", kwargs={"pk": schedule.pk})
    assert client.post(url, {"change": "delete"}).status_code == 404
    assert ReportSchedule.objects.filter(pk=schedule.pk).exists()
