"""The ways in: the API and the UI queue a background job whose progress the requester
follows; the commands export and verify; the upload page verifies. Permissions: exporting
needs view rights on the model (404 otherwise); verifying is open to every signed-in user."""

from __future__ import annotations

import io
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from governance.reports import services
from governance.reports.jobs import KIND
from governance.reports.models import ReportExport
from monitoring.jobs.tasks import run_job
from monitoring.models import JobRun
from tests import factories


@pytest.fixture
def approved(db):
    return factories.approved_version()


def run_queued(job_id: int) -> JobRun:
    """What a worker does with the queued run (the worker itself is tested in tests/monitoring)."""
    run_job.run(job_id)
    return JobRun.objects.get(pk=job_id)


def test_api_export_queues_a_job_the_requester_follows_to_the_download(
    api_as, approved, signing_identity, django_capture_on_commit_callbacks
):
    owner = approved.model.owner
    api = api_as(owner)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = api.post(
            reverse("api:report-export-list"), {"version": approved.pk}, format="json"
        )
    assert response.status_code == 202, response.content
    assert len(queued) == 1  # dispatched to the workers after commit
    job = run_queued(response.json()["id"])
    assert job.state == "succeeded" and job.progress == 1.0
    status = api.get(reverse("api:report-job-detail", kwargs={"pk": job.pk})).json()
    assert status["state"] == "succeeded"
    download = api.get(status["result"]["download"])
    assert download.status_code == 200
    data = b"".join(download.streaming_content)
    assert download["X-Checksum-SHA256"] == status["result"]["sha256"]
    assert services.report_verify(data).ok
    listed = api.get(reverse("api:report-export-list")).json()["results"]
    assert [e["sha256"] for e in listed] == [status["result"]["sha256"]]


def test_api_export_of_an_invisible_model_is_404_and_queues_nothing(
    api_as, approved, outsider, signing_identity
):
    response = api_as(outsider).post(
        reverse("api:report-export-list"), {"version": approved.pk}, format="json"
    )
    assert response.status_code == 404
    assert not JobRun.objects.filter(kind=KIND).exists()


def test_api_export_needs_exactly_one_subject(api_as, approved):
    api = api_as(approved.model.owner)
    assert api.post(reverse("api:report-export-list"), {}, format="json").status_code == 400
    deployment = factories.deployment(version=approved)
    both = {"version": approved.pk, "deployment": deployment.pk}
    assert api.post(reverse("api:report-export-list"), both, format="json").status_code == 400


def test_another_users_export_job_and_report_are_404(
    api_as, approved, outsider, reviewer, signing_identity
):
    export = services.report_export(actor=approved.model.owner, version_id=approved.pk)
    job = JobRun.objects.create(kind=KIND, requested_by=approved.model.owner, params={})
    api = api_as(outsider)
    assert api.get(reverse("api:report-job-detail", kwargs={"pk": job.pk})).status_code == 404
    detail = reverse("api:report-export-detail", kwargs={"pk": export.pk})
    assert api.get(detail).status_code == 404
    assert api.get(reverse("api:report-export-list")).json()["results"] == []
    # A reviewer may view every model, so sees the report, and every job run, as the job
    # page shows them (one rule for every list of runs).
    api = api_as(reviewer)
    assert api.get(detail).status_code == 200
    assert api.get(reverse("api:report-job-detail", kwargs={"pk": job.pk})).status_code == 200


def test_the_report_job_view_follows_the_job_pages_rule(client, api_as, approved, reviewer):
    from monitoring.selectors import job_run_list

    owner = approved.model.owner
    job = JobRun.objects.create(kind=KIND, requested_by=owner, params={})
    for user in (owner, reviewer, factories.UserFactory(username="nemo")):
        client.force_login(user)
        on_page = {run.pk for run in client.get("/monitoring/jobs/").context["page_obj"]}
        follow = api_as(user).get(reverse("api:report-job-detail", kwargs={"pk": job.pk}))
        assert (job.pk in on_page) == (follow.status_code == 200)
        assert (job.pk in on_page) == job_run_list(user=user).filter(pk=job.pk).exists()


def test_ui_export_button_starts_a_job_and_shows_its_progress_page(
    client, approved, signing_identity, django_capture_on_commit_callbacks
):
    client.force_login(approved.model.owner)
    page = client.get(reverse("governance:reports"))
    assert f'value="{approved.pk}"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("reports:export"), {"version": approved.pk})
    job = JobRun.objects.get(kind=KIND)
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:job", kwargs={"pk": job.pk})
    progress = client.get(response["Location"]).content.decode()
    assert reverse("api:report-job-detail", kwargs={"pk": job.pk}) in progress
    assert "<script>" not in progress  # the polling lives in a static file
    run_queued(job.pk)
    done = client.get(response["Location"]).content.decode()
    export = ReportExport.objects.get()
    assert reverse("api:report-export-download", kwargs={"pk": export.pk}) in done


def test_ui_export_of_an_invisible_model_is_404(client, approved, outsider):
    client.force_login(outsider)
    assert client.post(reverse("reports:export"), {"version": approved.pk}).status_code == 404
    assert not JobRun.objects.filter(kind=KIND).exists()


def test_verify_page_reports_a_valid_report_and_a_tampered_one(
    client, approved, outsider, signing_identity
):
    export = services.report_export(actor=approved.model.owner, version_id=approved.pk)
    data = export.file.read()
    client.force_login(outsider)  # verification is open to any signed-in user
    page = client.post(
        reverse("reports:verify"), {"file": SimpleUploadedFile("r.pdf", data)}
    ).content.decode()
    assert "Valid" in page and export.sha256 in page and "Steward Report Signer" in page
    tampered = bytearray(data)
    tampered[len(data) // 2] ^= 0x01
    page = client.post(
        reverse("reports:verify"), {"file": SimpleUploadedFile("r.pdf", bytes(tampered))}
    ).content.decode()
    assert "Not valid" in page and "no record of issuing" in page


def test_verify_page_needs_a_signed_in_user(client):
    response = client.get(reverse("reports:verify"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_api_verify_answers_the_verdict(api_as, approved, outsider, signing_identity):
    export = services.report_export(actor=approved.model.owner, version_id=approved.pk)
    body = api_as(outsider).post(
        reverse("api:report-verify"),
        {"file": SimpleUploadedFile("r.pdf", export.file.read())},
        format="multipart",
    )
    assert body.status_code == 200
    answer = body.json()
    assert answer["ok"] and answer["trusted"] and answer["entire_file"] and answer["issued"]


def test_export_and_verify_commands(approved, signing_identity, tmp_path):
    out_file = tmp_path / "report.pdf"
    out = StringIO()
    call_command("export_report", "--version", str(approved.pk), "--out", str(out_file), stdout=out)
    export = ReportExport.objects.get()
    assert export.sha256 in out.getvalue()
    assert export.generated_by_name == "system:export_report"
    verified = StringIO()
    call_command("verify_report", str(out_file), stdout=verified)
    text = verified.getvalue()
    assert "VERDICT: VALID" in text and "covers entire file:     yes" in text
    data = bytearray(out_file.read_bytes())
    data[len(data) // 2] ^= 0x01
    Path(out_file).write_bytes(bytes(data))
    failed = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_report", str(out_file), stdout=failed)
    assert "VERDICT: INVALID" in failed.getvalue()


def test_export_command_as_a_user_applies_their_rights(approved, outsider, tmp_path):
    with pytest.raises(CommandError):
        call_command(
            "export_report",
            "--version",
            str(approved.pk),
            "--as",
            outsider.username,
            "--out",
            str(tmp_path / "x.pdf"),
            stdout=io.StringIO(),
        )


def test_the_report_shows_in_the_versions_lineage_for_who_may_view_it(
    api_as, approved, outsider, signing_identity
):
    export = services.report_export(actor=approved.model.owner, version_id=approved.pk)
    url = reverse("api:lineage-graph", kwargs={"kind": "version", "pk": approved.pk})
    graph = api_as(approved.model.owner).get(url).json()
    reports = [n for n in graph["nodes"] if n["kind"] == "report"]
    assert [n["id"] for n in reports] == [export.pk]
    assert reports[0]["url"] == reverse("api:report-export-download", kwargs={"pk": export.pk})
    assert api_as(outsider).get(url).status_code == 404
