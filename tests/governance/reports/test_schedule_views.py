"""The reports page's schedule form: create a monthly schedule (audited), bad values beside
their field with nothing stored, only deployments the user may change."""

from __future__ import annotations

import pytest
from django.urls import reverse
from guardian.shortcuts import assign_perm

from governance.audit.models import AuditEvent
from governance.reports.models import ReportSchedule
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def deployment(model_a):
    return factories.deployment(version=factories.model_version(model=model_a))


def test_owner_schedules_a_monthly_report_from_the_reports_page(client, model_a, deployment):
    client.force_login(model_a.owner)
    reports = client.get(reverse("governance:reports")).content.decode()
    assert reverse("reports:schedule-new") in reports
    form = client.get(reverse("reports:schedule-new")).content.decode()
    assert f'value="{deployment.pk}"' in form
    response = client.post(
        reverse("reports:schedule-new"),
        {"deployment": deployment.pk, "recipients": "risk@example.org, ops@example.org"},
    )
    assert response["Location"] == reverse("governance:reports")
    schedule = ReportSchedule.objects.get()
    assert schedule.deployment == deployment and schedule.active
    assert schedule.recipient_list == ["risk@example.org", "ops@example.org"]
    entry = AuditEvent.objects.get(action="reports.schedule.created")
    assert entry.actor == model_a.owner and entry.after["recipients"] == schedule.recipient_list
    page = client.get(reverse("governance:reports")).content.decode()
    assert f'data-schedule="{schedule.pk}"' in page


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"recipients": "not-an-address"}, "recipients"),
        ({"recipients": " , "}, "recipients"),
        ({"recipients": ""}, "recipients"),
        ({"deployment": "999999"}, "deployment"),
    ],
)
def test_a_bad_value_shows_beside_its_field_and_stores_nothing(
    client, model_a, deployment, data, field
):
    client.force_login(model_a.owner)
    before = AuditEvent.objects.count()
    values = {"deployment": deployment.pk, "recipients": "a@example.org"} | data
    page = client.post(reverse("reports:schedule-new"), values)
    assert page.status_code == 200
    assert f'id="id_{field}_error"' in page.content.decode()
    assert not ReportSchedule.objects.exists() and AuditEvent.objects.count() == before


def test_a_viewer_or_outsider_cannot_schedule_the_deployment(client, model_a, deployment, outsider):
    viewer = factories.UserFactory(username="vera")
    assign_perm("view_registeredmodel", viewer, model_a)
    for user in (viewer, outsider):
        client.force_login(user)
        form = client.get(reverse("reports:schedule-new")).content.decode()
        assert f'value="{deployment.pk}"' not in form and "No deployment to schedule" in form
        page = client.post(
            reverse("reports:schedule-new"),
            {"deployment": deployment.pk, "recipients": "a@example.org"},
        )
        assert 'id="id_deployment_error"' in page.content.decode()
    assert not ReportSchedule.objects.exists()


def test_the_schedule_form_needs_a_signed_in_user(client):
    response = client.get(reverse("reports:schedule-new"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_deleting_a_schedule_asks_first_and_is_audited(client, model_a, deployment, outsider):
    schedule = ReportSchedule.objects.create(deployment=deployment, recipients="a@example.org")
    client.force_login(model_a.owner)
    reports = client.get(reverse("governance:reports")).content.decode()
    confirm_url = reverse("reports:schedule-delete", args=[schedule.pk])
    assert confirm_url in reports
    confirm = client.get(confirm_url).content.decode()
    assert "Delete the schedule" in confirm and "a@example.org" in confirm
    assert ReportSchedule.objects.filter(pk=schedule.pk).exists()  # a GET deletes nothing
    client.post(reverse("reports:schedule-change", args=[schedule.pk]), {"change": "delete"})
    assert not ReportSchedule.objects.exists()
    assert AuditEvent.objects.filter(action="reports.schedule.deleted").count() == 1


def test_the_delete_confirmation_is_404_for_whoever_cannot_see_the_schedule(
    client, deployment, outsider
):
    schedule = ReportSchedule.objects.create(deployment=deployment, recipients="a@example.org")
    client.force_login(outsider)
    assert client.get(reverse("reports:schedule-delete", args=[schedule.pk])).status_code == 404
