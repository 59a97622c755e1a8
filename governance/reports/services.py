"""Export and verify signed reports.

`report_export` gathers the subject's evidence, renders it, signs it with the organisation's
identity, stores the file, and records the export in the audit log (with the PDF's sha256)
and in lineage, in one transaction. `report_verify` is what the command and the upload page
run: pyHanko's verdict against the configured roots, and whether Steward issued that file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone

from governance import audit, lineage
from governance.approvals.models import ApprovalRequest
from governance.audit.models import AuditEvent
from governance.lineage.models import NodeKind, Relation
from governance.reports import rendering, selectors, signing, techdoc, verification
from governance.reports.choices import ReportKind
from governance.reports.models import ReportExport
from governance.reports.selectors import EXPORTED, Evidence, Subject
from registry.actors import Actor, SystemActor
from registry.choices import Action
from registry.models import Deployment, ModelVersion

Progress = Callable[[float], None]
DEFAULT_PERIOD_DAYS = 30
MANIFEST_FORMAT = "steward-report-manifest/1"
# What an export may be asked for besides the subject's own report (version or deployment).
EXPORTABLE_KINDS = (ReportKind.VERSION, ReportKind.DEPLOYMENT, ReportKind.TECHNICAL_DOCUMENTATION)


@dataclass(frozen=True)
class Verification:
    verdict: verification.ReportVerdict
    issued: AuditEvent | None

    @property
    def ok(self) -> bool:
        return self.verdict.ok and self.issued is not None


# Who exports: a signed-in user (who sees what they may view), or a named system process (a
# schedule, a management command) or None, which read everything.
ReportActor = Actor | SystemActor | None


def actor_name(actor: ReportActor) -> str:
    if isinstance(actor, User):
        return actor.get_username()
    return actor or "system"


def subject_for(
    *,
    actor: ReportActor,
    version_id: int | None = None,
    deployment_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> Subject:
    """The version or deployment `actor` may view (Http404 otherwise; a named system process,
    a string, reads everything), with the period of a deployment report (default: the last
    30 days up to now)."""
    if (version_id is None) == (deployment_id is None):
        raise ValidationError("name either a version or a deployment")
    # A string or None reads everything; anyone else (an anonymous user too) what they may view.
    viewer = None if actor is None or isinstance(actor, str) else actor
    if deployment_id is not None:
        deployments = (
            Deployment.objects.all()
            if viewer is None
            else Deployment.objects.restrict(viewer, Action.VIEW)
        )
        deployment = deployments.select_related("version__model").filter(pk=deployment_id).first()
        if deployment is None:
            raise Http404("no such deployment")
        until = until or timezone.now()
        since = since or until - dt.timedelta(days=DEFAULT_PERIOD_DAYS)
        if since >= until:
            raise ValidationError("the period's start must come before its end")
        return Subject(version=deployment.version, deployment=deployment, since=since, until=until)
    versions = (
        ModelVersion.objects.all()
        if viewer is None
        else ModelVersion.objects.restrict(viewer, Action.VIEW)
    )
    found = versions.select_related("model__owner", "created_by").filter(pk=version_id or 0)
    version = found.first()
    if version is None:
        raise Http404("no such version")
    return Subject(version=version)


def report_context(
    subject: Subject, *, actor: ReportActor, when: dt.datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the template shows and the manifest of every digest in it."""
    evidence = Evidence()
    version = subject.version
    context: dict[str, Any] = {
        "subject": subject,
        "title": (
            f"Deployment report: {version.model.name} v{version.number}"
            if subject.deployment
            else f"Model version report: {version.model.name} v{version.number}"
        ),
        "identity": selectors.identity(version),
        "lineage": selectors.lineage(version, evidence),
        "training": selectors.training(version),
        "checklist": selectors.checklist(version),
        "approvals": selectors.approvals(version, evidence),
        "generated_by": actor_name(actor),
        "generated_at": when,
        "font_dir": settings.STEWARD_REPORT_FONT_DIR.as_uri(),
    }
    if subject.deployment:
        context["performance"] = selectors.performance(subject)
        context["drift"] = selectors.drift(subject, evidence)
        context["health"] = selectors.health(subject)
        context["alerts"] = selectors.alerts(subject)
    context["audit_trail"], context["audit_total"] = selectors.audit_trail(subject)
    context["chain"] = selectors.chain_state(evidence)
    manifest = {
        "format": MANIFEST_FORMAT,
        "kind": subject.kind,
        "model": version.model.slug,
        "version": version.number,
        "deployment": subject.deployment.pk if subject.deployment else None,
        "period": [subject.since, subject.until] if subject.deployment else None,
        "generated_by": context["generated_by"],
        "generated_at": when,
        "audit_chain_head": {
            "seq": context["chain"]["head_seq"],
            "sha256": context["chain"]["head_hash"],
        },
        "digests": evidence.entries,
    }
    context["manifest_sha256"] = hashlib.sha256(rendering.manifest_bytes(manifest)).hexdigest()
    context["manifest_entries"] = evidence.entries
    return context, manifest


@dataclass(frozen=True)
class Rendered:
    """A signed report before it is stored: the file, what it shows, its manifest, and who
    signed it."""

    pdf: bytes
    context: dict[str, Any]
    manifest: dict[str, Any]
    signer: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()


def techdoc_context(
    subject: Subject, *, actor: ReportActor, when: dt.datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The technical documentation (Annex IV) of the subject's version: what the template
    shows (the document itself under "doc") and the evidence manifest."""
    evidence = Evidence()
    version = subject.version
    selectors.lineage(version, evidence)
    selectors.approvals(version, evidence)
    chain = selectors.chain_state(evidence)
    doc = techdoc.document(version, generated_by=actor_name(actor), when=when, chain=chain)
    context: dict[str, Any] = {
        "subject": subject,
        "title": f"Technical documentation: {version.model.name} v{version.number}",
        "identity": selectors.identity(version),
        "doc": doc,
        "controls": doc["crosswalk"]["controls"],
        "chain": chain,
        "generated_by": doc["generated_by"],
        "generated_at": when,
        "font_dir": settings.STEWARD_REPORT_FONT_DIR.as_uri(),
    }
    manifest = {
        "format": MANIFEST_FORMAT,
        "kind": ReportKind.TECHNICAL_DOCUMENTATION,
        "model": version.model.slug,
        "version": version.number,
        "deployment": None,
        "period": None,
        "generated_by": doc["generated_by"],
        "generated_at": when,
        "audit_chain_head": doc["audit_chain_head"],
        "digests": evidence.entries,
        "technical_documentation_sha256": hashlib.sha256(techdoc_bytes(doc)).hexdigest(),
    }
    context["manifest_sha256"] = hashlib.sha256(rendering.manifest_bytes(manifest)).hexdigest()
    context["manifest_entries"] = evidence.entries
    context["techdoc_sha256"] = manifest["technical_documentation_sha256"]
    return context, manifest


def techdoc_bytes(doc: dict[str, Any]) -> bytes:
    """The technical documentation as attached to its PDF and sent as JSON."""
    return json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=True).encode()


def techdoc_json(*, actor: ReportActor, version_id: int) -> dict[str, Any]:
    """The technical documentation of a version `actor` may view (Http404 otherwise), as the
    JSON the schema describes. Not stored or signed: the signed form is the PDF export, which
    carries this document as an attachment."""
    if getattr(actor, "is_authenticated", None) is False:
        raise PermissionDenied("sign in to read technical documentation")
    subject = subject_for(actor=actor, version_id=version_id)
    chain = selectors.chain_state(Evidence())
    return techdoc.document(
        subject.version, generated_by=actor_name(actor), when=timezone.now(), chain=chain
    )


TEMPLATES = {
    ReportKind.VERSION: "reports/report.html",
    ReportKind.DEPLOYMENT: "reports/report.html",
    ReportKind.TECHNICAL_DOCUMENTATION: "reports/techdoc.html",
}


def render_and_sign(
    subject: Subject,
    *,
    actor: ReportActor,
    when: dt.datetime,
    progress: Progress,
    kind: str = "",
) -> Rendered:
    """Gather, render (WeasyPrint) and sign (pyHanko). The identity is loaded first, so a
    missing or locked key fails before the costly rendering. `kind` is the subject's own
    report unless it names the technical documentation."""
    signer = signing.load_signer(
        settings.STEWARD_SIGNING_PKCS12, settings.STEWARD_SIGNING_PASSPHRASE
    )
    kind = kind or subject.kind
    extra: dict[str, tuple[bytes, str]] = {}
    if kind == ReportKind.TECHNICAL_DOCUMENTATION:
        context, manifest = techdoc_context(subject, actor=actor, when=when)
        extra[techdoc.ATTACHMENT_NAME] = (
            techdoc_bytes(context["doc"]),
            "The technical documentation as JSON (technical-documentation.schema.json)",
        )
    else:
        context, manifest = report_context(subject, actor=actor, when=when)
    progress(0.3)
    html = render_to_string(TEMPLATES[ReportKind(kind)], context)
    pdf = rendering.html_to_pdf(
        html, manifest=manifest, when=when, base_url=str(settings.BASE_DIR), extra=extra
    )
    progress(0.7)
    signed = signing.sign_pdf(
        pdf,
        signer=signer,
        timestamper=signing.timestamper_for(settings.STEWARD_TSA_URL),
        reason=context["title"],
    )
    progress(0.9)
    if signer.signing_cert is None:
        raise RuntimeError("the report signer has no certificate")
    label = signer.signing_cert.subject.human_friendly[:300]
    return Rendered(pdf=signed, context=context, manifest=manifest, signer=label)


def report_export(
    *,
    actor: ReportActor,
    version_id: int | None = None,
    deployment_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    progress: Progress | None = None,
    kind: str = "",
) -> ReportExport:
    """Render, sign and keep one report; audited as `reports.exported` with the PDF's sha256
    and linked in lineage to its version (and deployment). `actor` must be able to view the
    subject (Http404 otherwise); a string names a system process (the scheduler, cron).
    `kind` "technical-documentation" exports a version's Annex IV documentation instead of
    its version report."""
    progress = progress or (lambda _: None)
    if getattr(actor, "is_authenticated", None) is False:
        raise PermissionDenied("sign in to export a report")
    if kind and kind not in EXPORTABLE_KINDS:
        raise ValidationError({"kind": f"one of {', '.join(EXPORTABLE_KINDS)}"})
    if kind != ReportKind.TECHNICAL_DOCUMENTATION:
        kind = ""  # the subject's own report: a version's, or a deployment's
    elif version_id is None:
        raise ValidationError({"kind": "technical documentation is exported for a version"})
    subject = subject_for(
        actor=actor, version_id=version_id, deployment_id=deployment_id, since=since, until=until
    )
    when = timezone.now()
    rendered = render_and_sign(subject, actor=actor, when=when, progress=progress, kind=kind)
    export = _unsaved_export(subject, rendered, actor=actor, when=when, kind=kind)
    with transaction.atomic():
        try:
            export.full_clean()
            export.save()
            _record(export, subject, rendered, actor=actor)
        except BaseException:
            export.file.delete(save=False)
            raise
    progress(1.0)
    return export


def _unsaved_export(
    subject: Subject,
    rendered: Rendered,
    *,
    actor: ReportActor,
    when: dt.datetime,
    kind: str = "",
    approval_request: ApprovalRequest | None = None,
) -> ReportExport:
    """The row, with its file written to storage (deleted again if the row is not saved)."""
    chain = rendered.context["chain"]
    kind = kind or subject.kind
    export = ReportExport(
        kind=kind,
        approval_request=approval_request,
        version=subject.version,
        deployment=subject.deployment,
        period_start=subject.since,
        period_end=subject.until,
        sha256=rendered.sha256,
        size=len(rendered.pdf),
        manifest=json.loads(rendering.manifest_bytes(rendered.manifest)),
        chain_head_seq=chain["head_seq"],
        chain_head_hash=chain["head_hash"],
        signer=rendered.signer,
        timestamped=bool(settings.STEWARD_TSA_URL),
        generated_by=actor if isinstance(actor, User) else None,
        generated_by_name=actor_name(actor),
        generated_at=when,
    )
    version = subject.version
    name = f"{kind}-{version.model.slug}-v{version.number}-{when:%Y%m%dT%H%M%SZ}.pdf"
    export.file.save(name, ContentFile(rendered.pdf), save=False)
    return export


def _record(
    export: ReportExport, subject: Subject, rendered: Rendered, *, actor: ReportActor
) -> None:
    """The audit entry with the PDF's digest, and the report's lineage edges."""
    audit.record(
        actor=actor,
        action=EXPORTED,
        target=export,
        after={
            **export.audit_fields(),
            "deployment": subject.deployment.pk if subject.deployment else None,
            "manifest_sha256": rendered.context["manifest_sha256"],
        },
    )
    node = lineage.Node(NodeKind.REPORT, export.pk)
    upstreams = [subject.version, *([subject.deployment] if subject.deployment else [])]
    for upstream in upstreams:
        lineage.link(upstream=upstream, downstream=node, relation=Relation.REPORTS_ON, actor=actor)


def trust_roots() -> list[Any]:
    return verification.read_roots(
        p.read_bytes() for p in settings.STEWARD_SIGNING_TRUST_ROOTS if p.exists()
    )


def report_verify(data: bytes) -> Verification:
    """pyHanko's verdict on `data` against the configured roots, and the audit entry that
    records Steward issuing exactly these bytes (None if Steward never did)."""
    verdict = verification.verify_pdf(data, trust_roots=trust_roots())
    return Verification(verdict=verdict, issued=selectors.issued_event(verdict.sha256))
