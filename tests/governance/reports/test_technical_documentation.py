"""The technical documentation export (EU AI Act Annex IV): a signed PDF that verifies, holds
every section heading and every gap the document lists, and carries the JSON document that
validates against the schema in the repository; the JSON from the API and the command."""

from __future__ import annotations

import io
import json
import re
from io import StringIO

import jsonschema
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from pypdf import PdfReader

from governance.audit.models import AuditEvent
from governance.reports import services, techdoc
from governance.reports.choices import ReportKind
from monitoring.jobs.tasks import run_job
from monitoring.models import AlertRule, JobRun
from tests import factories
from tests.governance.reports.builders import monitoring_history


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return squeeze("".join(page.extract_text() for page in reader.pages))


@pytest.fixture
def demo_like(db):
    """An approved version with a production deployment, monitoring history, an alert rule
    and monitoring settings: what the demo's versions have."""
    version = factories.approved_version(
        code_repository="https://git.example.org/credit", code_commit="a1b2c3d4"
    )
    deployment = factories.production_deployment(version=version)
    monitoring_history(deployment, days=10, features=["age", "income"])
    factories.monitoring_settings(deployment, sensitive_attribute="region")
    AlertRule.objects.create(
        model=version.model, source="metric", name="roc_auc", comparator="lt", threshold=0.8
    )
    return version


def test_the_json_validates_and_every_statement_names_a_real_source(demo_like):
    doc = services.techdoc_json(actor=demo_like.model.owner, version_id=demo_like.pk)
    jsonschema.validate(doc, techdoc.schema())
    assert [s["number"] for s in doc["sections"]] == list(range(1, 10))
    assert [s["title"] for s in doc["sections"]] == list(techdoc.SECTION_TITLES)
    seqs = set(AuditEvent.objects.values_list("seq", flat=True))
    statements = [st for s in doc["sections"] for st in s["statements"]]
    assert statements
    for st in statements:
        if st["source"]["audit_entry"] is not None:
            assert st["source"]["audit_entry"] in seqs
    # The version's registration is cited with the entry that registered it.
    registered = AuditEvent.objects.get(
        action="registry.version.registered", target_id=str(demo_like.pk)
    )
    version_sources = [
        st["source"]["audit_entry"]
        for st in statements
        if st["source"]["object"] == f"registry.modelversion:{demo_like.pk}"
    ]
    assert version_sources and min(version_sources) >= registered.seq
    # Post-market monitoring names the alert rule and the monitoring settings.
    plan = doc["sections"][8]
    sources = [st["source"]["object"] for st in plan["statements"]]
    assert any(source.startswith("monitoring.alertrule:") for source in sources)
    assert any("sensitiveattributeregion" in squeeze(st["value"]) for st in plan["statements"])
    # What Steward cannot know is a gap, e.g. the declaration of conformity.
    assert doc["sections"][7]["statements"] == [] and doc["sections"][7]["gaps"]
    assert doc["gaps_total"] == sum(len(s["gaps"]) for s in doc["sections"])
    # The crosswalk section: the settled required items evidence some controls.
    assert doc["crosswalk"]["frameworks"]["ISO/IEC 42001:2023 Annex A"]["evidenced"] > 0


def test_the_schema_refuses_a_statement_without_a_source(demo_like):
    doc = services.techdoc_json(actor=demo_like.model.owner, version_id=demo_like.pk)
    del doc["sections"][0]["statements"][0]["source"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, techdoc.schema())


def test_a_version_without_an_intended_use_lists_it_as_a_gap(db):
    version = factories.model_version()
    doc = services.techdoc_json(actor=version.model.owner, version_id=version.pk)
    jsonschema.validate(doc, techdoc.schema())
    gaps = [g["text"] for g in doc["sections"][0]["gaps"]]
    assert any("intended purpose" in g for g in gaps)
    labels = [st["label"] for st in doc["sections"][0]["statements"]]
    assert "Intended use" not in labels


def test_the_signed_pdf_verifies_and_holds_every_heading_and_gap(demo_like, signing_identity):
    export = services.report_export(
        actor=demo_like.model.owner,
        version_id=demo_like.pk,
        kind=ReportKind.TECHNICAL_DOCUMENTATION,
    )
    assert export.kind == ReportKind.TECHNICAL_DOCUMENTATION
    with export.file.open("rb") as f:
        data = f.read()
    result = services.report_verify(data)
    assert result.ok, result.verdict.problems
    text = pdf_text(data)
    for number, title in enumerate(techdoc.SECTION_TITLES, start=1):
        assert squeeze(f"{number} {title}") in text
    reader = PdfReader(io.BytesIO(data))
    attached = json.loads(reader.attachments[techdoc.ATTACHMENT_NAME][0])
    jsonschema.validate(attached, techdoc.schema())
    gaps = [g for s in attached["sections"] for g in s["gaps"]]
    assert gaps
    for gap in gaps:
        assert squeeze(gap["text"]) in text
    assert squeeze("Appendix A Control crosswalk") in text
    entry = AuditEvent.objects.get(action="reports.exported", after__sha256=export.sha256)
    assert entry.after["kind"] == ReportKind.TECHNICAL_DOCUMENTATION


def test_technical_documentation_of_a_deployment_is_refused(demo_like, signing_identity):
    from django.core.exceptions import ValidationError

    deployment = demo_like.deployments.first()
    with pytest.raises(ValidationError):
        services.report_export(
            actor=demo_like.model.owner,
            deployment_id=deployment.pk,
            kind=ReportKind.TECHNICAL_DOCUMENTATION,
        )


def test_the_api_serves_the_json_to_a_viewer_and_404_to_an_outsider(api_as, demo_like, outsider):
    url = reverse("api:report-technical-documentation", kwargs={"pk": demo_like.pk})
    response = api_as(demo_like.model.owner).get(url)
    assert response.status_code == 200
    jsonschema.validate(response.json(), techdoc.schema())
    assert api_as(outsider).get(url).status_code == 404


def test_the_api_export_queues_a_technical_documentation_job(
    api_as, demo_like, signing_identity, django_capture_on_commit_callbacks
):
    api = api_as(demo_like.model.owner)
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post(
            reverse("api:report-export-list"),
            {"version": demo_like.pk, "kind": ReportKind.TECHNICAL_DOCUMENTATION},
            format="json",
        )
    assert response.status_code == 202, response.content
    run_job.run(response.json()["id"])
    job = JobRun.objects.get(pk=response.json()["id"])
    assert job.state == "succeeded", job.error
    listed = api.get(reverse("api:report-export-list"), {"kind": "technical-documentation"})
    assert [e["sha256"] for e in listed.json()["results"]] == [job.result["sha256"]]


def test_the_ui_offers_the_export_and_the_json(client, demo_like, signing_identity):
    client.force_login(demo_like.model.owner)
    page = client.get(reverse("governance:reports")).content.decode()
    assert 'value="technical-documentation"' in page
    url = reverse("reports:technical-documentation", kwargs={"pk": demo_like.pk})
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    jsonschema.validate(json.loads(response.content), techdoc.schema())


def test_the_command_writes_the_pdf_or_the_json(demo_like, signing_identity, tmp_path):
    out = tmp_path / "techdoc.pdf"
    call_command(
        "export_report",
        "--version",
        str(demo_like.pk),
        "--kind",
        "technical-documentation",
        "--out",
        str(out),
        stdout=StringIO(),
    )
    assert services.report_verify(out.read_bytes()).ok
    out_json = tmp_path / "techdoc.json"
    call_command(
        "export_report",
        "--version",
        str(demo_like.pk),
        "--kind",
        "technical-documentation",
        "--format",
        "json",
        "--out",
        str(out_json),
        stdout=StringIO(),
    )
    jsonschema.validate(json.loads(out_json.read_text()), techdoc.schema())
    with pytest.raises(CommandError):
        call_command(
            "export_report",
            "--version",
            str(demo_like.pk),
            "--format",
            "json",
            "--out",
            str(out_json),
            stdout=StringIO(),
        )


def test_the_model_cards_sections_are_statements_sourced_from_its_revision_or_gaps(db):
    from governance.modelcards.services import card_save

    version = factories.model_version()
    owner = version.model.owner
    revision = card_save(version=version, actor=owner, text={"limitations": "Thin credit files."})
    doc = services.techdoc_json(actor=owner, version_id=version.pk)
    jsonschema.validate(doc, techdoc.schema())
    general = doc["sections"][0]
    (written,) = [
        st
        for st in general["statements"]
        if st["label"] == "Model card: Limitations and known failure modes"
    ]
    assert written["value"] == "Thin credit files."
    assert written["source"]["object"] == f"governance.modelcardrevision:{revision.pk}"
    assert written["source"]["audit_entry"] is not None
    gaps = [g["text"] for g in general["gaps"]]
    assert "Model card, Intended users: not written yet." in gaps
    assert not any("Limitations" in g for g in gaps)
