"""Signed test logs: a version's approval queues the rendering of a validation report that is
signed on behalf of the approving reviewers, named in the text and in the signature's /Name
and /Reason, and kept as a report linked to the approval request."""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse
from pyhanko.pdf_utils.reader import PdfFileReader
from pypdf import PdfReader

from governance.approvals.choices import TEST_LOG_JOB
from governance.approvals.models import ApprovalRequest
from governance.audit.models import AuditEvent
from governance.reports import services, testlog
from governance.reports.choices import ReportKind
from governance.reports.models import ReportExport
from monitoring.jobs.tasks import run_job
from monitoring.models import JobRun
from tests import factories


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def approved(db):
    return factories.approved_version()


def _request(version) -> ApprovalRequest:
    return ApprovalRequest.objects.get(version=version, kind="version", state="approved")


def test_approval_queues_one_test_log_job_per_approved_request(approved):
    request = _request(approved)
    jobs = JobRun.objects.filter(kind=TEST_LOG_JOB)
    assert [j.params for j in jobs] == [{"request": request.pk}]


def test_the_test_log_is_signed_names_the_reviewers_and_is_attached(approved, signing_identity):
    request = _request(approved)
    job = JobRun.objects.get(kind=TEST_LOG_JOB)
    run_job.run(job.pk)
    job.refresh_from_db()
    assert job.state == "succeeded", job.error
    log = ReportExport.objects.get(kind=ReportKind.TEST_LOG)
    assert log.approval_request_id == request.pk and log.version_id == approved.pk
    reviewers = [d.reviewer.get_username() for d in request.decisions.all()]
    assert reviewers and testlog.reviewers_of(request) == reviewers
    with log.file.open("rb") as f:
        data = f.read()
    assert services.report_verify(data).ok
    text = squeeze("".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))
    for name in reviewers:
        assert squeeze(name) in text
    assert squeeze("Drift at release") in text and squeeze("Readiness checklist") in text
    signature = PdfFileReader(io.BytesIO(data)).embedded_signatures[0].sig_object
    assert all(name in str(signature["/Name"]) for name in reviewers)
    assert all(name in str(signature["/Reason"]) for name in reviewers)
    entry = AuditEvent.objects.get(action="reports.exported", after__sha256=log.sha256)
    assert entry.after["approval_request"] == request.pk
    assert entry.after["reviewers"] == reviewers
    # Issued once: running the job again returns the same log.
    assert testlog.test_log_issue(request_id=request.pk).pk == log.pk
    assert ReportExport.objects.filter(kind=ReportKind.TEST_LOG).count() == 1


def test_the_request_page_and_the_api_show_the_log_to_viewers_only(
    approved, signing_identity, client, api_as, outsider
):
    request = _request(approved)
    log = testlog.test_log_issue(request_id=request.pk)
    owner = approved.model.owner
    client.force_login(owner)
    page = client.get(reverse("approvals:request-detail", kwargs={"pk": request.pk}))
    assert reverse("api:report-export-download", kwargs={"pk": log.pk}) in page.content.decode()
    listed = (
        api_as(owner)
        .get(reverse("api:report-export-list"), {"approval_request": request.pk})
        .json()["results"]
    )
    assert [(e["id"], e["kind"]) for e in listed] == [(log.pk, "test-log")]
    hidden = (
        api_as(outsider)
        .get(reverse("api:report-export-list"), {"approval_request": request.pk})
        .json()["results"]
    )
    assert hidden == []


def test_production_and_rejected_requests_queue_no_test_log(approved):
    factories.production_deployment(version=approved)
    assert JobRun.objects.filter(kind=TEST_LOG_JOB).count() == 1  # the version approval's
    from governance.approvals import services as approvals

    other = factories.model_version(model=approved.model)
    from registry import services as registry_services

    registry_services.artifact_upload(
        version=other,
        actor=other.model.owner,
        upload=factories.binary_upload(b"other weights"),
        kind="model",
    )
    factories.answer_required_items(other)
    request = approvals.request_version_approval(version=other, actor=other.model.owner)
    reviewer = factories.UserFactory(username="rejecter", roles=["reviewers"])
    approvals.decide(request=request, actor=reviewer, verdict="reject", comment="not yet")
    assert JobRun.objects.filter(kind=TEST_LOG_JOB).count() == 1


def test_a_request_not_approved_gets_no_test_log(approved, signing_identity):
    from governance.approvals import services as approvals

    other = factories.model_version(model=approved.model)
    from registry import services as registry_services

    registry_services.artifact_upload(
        version=other,
        actor=other.model.owner,
        upload=factories.binary_upload(b"pending weights"),
        kind="model",
    )
    request = approvals.request_version_approval(version=other, actor=other.model.owner)
    with pytest.raises(ValueError):
        testlog.test_log_issue(request_id=request.pk)
