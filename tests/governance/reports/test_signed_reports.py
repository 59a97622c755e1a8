"""Exported reports verify with pyHanko against the configured root, cover the entire file,
carry the evidence they claim, and every tampered variant fails with a reason."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest
from django.http import Http404
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pypdf import PdfReader

from governance.audit.models import AuditEvent
from governance.audit.verification import chain_head
from governance.lineage.models import LineageEdge
from governance.readiness.models import ChecklistAnswer
from governance.reports import identity, rendering, services, signing
from governance.reports.models import ReportExport
from registry import services as registry_services
from tests import factories
from tests.governance.reports.builders import monitoring_history


def pdf_text(data: bytes) -> str:
    """All text of the PDF with whitespace removed (table cells wrap words and hashes)."""
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def approved(db):
    return factories.approved_version(
        code_repository="https://git.example.org/credit", code_commit="a1b2c3d4"
    )


@pytest.fixture
def exported(approved, signing_identity) -> tuple[ReportExport, bytes, tuple[int, str]]:
    head = chain_head()
    assert head is not None
    export = services.report_export(actor=approved.model.owner, version_id=approved.pk)
    with export.file.open("rb") as f:
        return export, f.read(), head


def test_version_report_verifies_trusted_entire_file_unmodified(exported):
    export, data, _ = exported
    result = services.report_verify(data)
    v = result.verdict
    assert v.bottom_line and v.trusted and v.intact and v.valid
    assert v.entire_file and v.coverage == "ENTIRE_FILE"
    assert v.unmodified and v.modification == "NONE"
    assert v.problems == []
    assert v.signer == "Steward Report Signer"
    assert result.issued is not None and result.issued.after["sha256"] == export.sha256
    assert result.ok


def test_report_text_has_approvals_checklist_answers_and_the_chain_head(exported, approved):
    export, data, (head_seq, head_hash) = exported
    text = pdf_text(data)
    decisions = [d for r in approved.approval_requests.all() for d in r.decisions.all()]
    assert decisions
    for decision in decisions:
        assert squeeze(decision.reviewer.get_username()) in text
        assert decision.manifest_digest in text
    answers = ChecklistAnswer.objects.filter(version=approved)
    assert answers.exists()
    for answer in answers:
        assert squeeze(answer.evidence_text) in text
    # The head the audit log had when the export began, which the export's own entry chains to.
    assert export.chain_head_seq == head_seq and export.chain_head_hash == head_hash
    assert head_hash in text
    entry = AuditEvent.objects.get(action="reports.exported", target_id=str(export.pk))
    assert entry.prev_hash == head_hash
    assert "a1b2c3d4" in text


def test_the_evidence_manifest_is_attached_inside_the_signed_file(exported, approved):
    export, data, _ = exported
    attached = PdfReader(io.BytesIO(data)).attachments[rendering.MANIFEST_NAME][0]
    manifest = json.loads(attached)
    assert manifest == export.manifest
    digests = {e["sha256"] for e in manifest["digests"]}
    assert {a.sha256 for a in approved.artifacts.all()} <= digests
    assert export.chain_head_hash == manifest["audit_chain_head"]["sha256"]


def test_export_is_audited_with_the_pdf_sha256_and_linked_in_lineage(exported, approved):
    export, data, _ = exported
    import hashlib

    assert export.sha256 == hashlib.sha256(data).hexdigest()
    entry = AuditEvent.objects.get(action="reports.exported", target_id=str(export.pk))
    assert entry.after["sha256"] == export.sha256
    assert entry.actor_name == approved.model.owner.username
    assert LineageEdge.objects.filter(
        upstream_kind="version",
        upstream_id=approved.pk,
        downstream_kind="report",
        downstream_id=export.pk,
        relation="reports_on",
    ).exists()


def test_a_flipped_byte_fails_verification(exported):
    _, data, _ = exported
    tampered = bytearray(data)
    tampered[len(data) // 3] ^= 0x01
    result = services.report_verify(bytes(tampered))
    assert not result.ok and not result.verdict.bottom_line and not result.verdict.intact
    assert any("digest does not match" in p for p in result.verdict.problems)
    assert result.issued is None


def test_an_incremental_update_after_signing_fails_verification(exported):
    _, data, _ = exported
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    writer.root["/StewardNote"] = generic.pdf_string("changed after signing")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    result = services.report_verify(out.getvalue())
    v = result.verdict
    assert v.intact  # the signed revision itself is untouched: "intact" alone would pass it
    assert not v.entire_file and not v.unmodified and not v.bottom_line and not result.ok
    assert any("does not cover the entire file" in p for p in v.problems)


def test_a_signature_by_an_untrusted_key_fails_verification(exported, tmp_path):
    export, data, _ = exported
    # The same report content signed by an identity under a root nobody configured.
    other = identity.create_identity(
        pkcs12_path=tmp_path / "other.p12",
        root_path=tmp_path / "other-root.pem",
        passphrase="",
        organisation="Mallory Ltd",
        common_name="Mallory",
    )
    reader = PdfReader(io.BytesIO(data))
    unsigned = rendering.html_to_pdf(
        "<p>" + "".join(p.extract_text() for p in reader.pages) + "</p>",
        manifest=export.manifest,
        when=export.generated_at,
        base_url=".",
    )
    forged = signing.sign_pdf(unsigned, signer=signing.load_signer(other.pkcs12_path, ""))
    result = services.report_verify(forged)
    v = result.verdict
    assert v.intact and v.entire_file  # a well-formed signature, just not ours
    assert not v.trusted and not v.bottom_line and not result.ok
    assert any("does not chain to a trusted root" in p for p in v.problems)
    assert v.signer == "Mallory"


def test_an_unsigned_pdf_fails_verification(db, signing_identity):
    pdf = rendering.html_to_pdf(
        "<p>plain</p>", manifest={}, when=dt.datetime.now(dt.UTC), base_url="."
    )
    result = services.report_verify(pdf)
    assert not result.ok and result.verdict.problems == ["the file carries no signature"]


@pytest.mark.django_db
def test_deployment_report_covers_the_period_monitoring(signing_identity):
    version = factories.approved_version()
    deployment = factories.production_deployment(version=version)
    features = ["age", "income", "region"]
    reference = registry_services.dataset_upload(
        model=version.model,
        actor=version.model.owner,
        upload=factories.csv_upload("age,income,region\n40,50000,north\n"),
        name="cohort-training",
        kind="training",
    )
    end = monitoring_history(deployment, days=10, features=features, reference=reference)
    export = services.report_export(
        actor=version.model.owner,
        deployment_id=deployment.pk,
        since=end - dt.timedelta(days=10),
        until=end,
    )
    with export.file.open("rb") as f:
        data = f.read()
    assert services.report_verify(data).ok
    text = pdf_text(data)
    assert "accuracyfellbelow0.88" in text and "Resolved" in text
    for feature in features:
        assert feature in text
    assert "Productionmonitoring" in text
    assert "Disparateimpactratio" in text and "0.8500" in text  # fairness, weekly
    drift_digests = {e["sha256"] for e in export.manifest["digests"] if e["kind"] == "drift"}
    assert len(drift_digests) == len(features)
    # The drift section names the reference dataset and its sha256, as does the manifest.
    assert "Comparedwithreferencedatacohort-trainingv1" in text
    assert reference.sha256 in text
    drift_entries = [e for e in export.manifest["digests"] if e["kind"] == "drift"]
    assert {e["reference_sha256"] for e in drift_entries} == {reference.sha256}


def test_outsider_cannot_export_a_model_they_cannot_view(approved, outsider, signing_identity):
    with pytest.raises(Http404):
        services.report_export(actor=outsider, version_id=approved.pk)
    assert not ReportExport.objects.exists()


def test_export_without_a_signing_identity_fails_and_keeps_nothing(approved, settings, tmp_path):
    settings.STEWARD_SIGNING_PKCS12 = tmp_path / "missing.p12"
    with pytest.raises(signing.SigningError):
        services.report_export(actor=approved.model.owner, version_id=approved.pk)
    assert not ReportExport.objects.exists()
    assert not AuditEvent.objects.filter(action="reports.exported").exists()
    assert not any(Path(settings.MEDIA_ROOT).rglob("*.pdf"))
