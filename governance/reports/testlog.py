"""Signed test logs: when a version's approval completes, a validation report (metrics,
fairness, drift at release, the readiness checklist, the decisions) is rendered and signed
with the organisation's key on behalf of the approving reviewers, who are named in the
signed content and in the signature's /Name and /Reason. It is kept as a `ReportExport` of
kind "test-log" linked to the approval request (EU AI Act Annex IV point 2(g): "test logs
and all test reports dated and signed by the responsible persons").

The approval workflow queues the `approval_test_log` job (`governance.approvals.choices.
TEST_LOG_JOB`) when a request closes as approved; the body registered here issues the log
once per request.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from governance import audit, lineage
from governance.approvals.choices import RequestState, Verdict
from governance.approvals.models import ApprovalRequest
from governance.lineage.models import NodeKind, Relation
from governance.reports import rendering, selectors, signing
from governance.reports.choices import ReportKind
from governance.reports.models import ReportExport
from governance.reports.selectors import EXPORTED, Evidence
from governance.reports.techdoc import drift_at
from registry.models import ModelVersion

ISSUER = "system:test-log"


def reviewers_of(request: ApprovalRequest) -> list[str]:
    """The usernames of the reviewers whose approvals completed the request, in order."""
    decisions = request.decisions.filter(
        verdict=Verdict.APPROVE, manifest_digest=request.manifest_digest
    ).select_related("reviewer")
    return [d.reviewer.get_username() for d in decisions.order_by("created_at", "pk")]


def test_log_context(request: ApprovalRequest) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the test log shows, and its evidence manifest."""
    version: ModelVersion = request.version
    evidence = Evidence()
    evidence.add(
        "approval_request", f"request {request.pk} ({request.kind})", request.manifest_digest
    )
    decisions = list(request.decisions.select_related("reviewer").order_by("created_at", "pk"))
    for d in decisions:
        evidence.add(
            "approval_decision",
            f"request {request.pk}: {d.reviewer.get_username()} {d.verdict}",
            d.manifest_digest,
        )
    deployments = list(version.deployments.all())
    drift = drift_at(deployments, request.closed_at)
    for row in drift:
        evidence.add("drift", f"{row.feature} at release", row.current_digest, method=row.method)
    reviewers = reviewers_of(request)
    when = timezone.now()
    chain = selectors.chain_state(evidence)
    context: dict[str, Any] = {
        "title": f"Signed test log: {version.model.name} v{version.number}",
        "identity": selectors.identity(version),
        "request": request,
        "decisions": decisions,
        "reviewers": reviewers,
        "lineage": selectors.lineage(version, evidence),
        "training": selectors.training(version),
        "checklist": selectors.checklist(version),
        "drift": drift,
        "chain": chain,
        "generated_at": when,
        "font_dir": settings.STEWARD_REPORT_FONT_DIR.as_uri(),
    }
    manifest = {
        "format": "steward-report-manifest/1",
        "kind": ReportKind.TEST_LOG,
        "model": version.model.slug,
        "version": version.number,
        "approval_request": request.pk,
        "reviewers": reviewers,
        "generated_at": when,
        "audit_chain_head": {"seq": chain["head_seq"], "sha256": chain["head_hash"]},
        "digests": evidence.entries,
    }
    context["manifest_entries"] = evidence.entries
    return context, manifest


def test_log_issue(*, request_id: int) -> ReportExport:
    """Render and sign the test log of an approved request, once (a second call returns the
    log already issued). Audited as `reports.exported` and linked in lineage to the version."""
    existing = ReportExport.objects.filter(
        kind=ReportKind.TEST_LOG, approval_request_id=request_id
    ).first()
    if existing is not None:
        return existing
    request = ApprovalRequest.objects.select_related("version__model").get(pk=request_id)
    if request.state != RequestState.APPROVED:
        raise ValueError(f"request {request.pk} is {request.state}, not approved")
    signer = signing.load_signer(
        settings.STEWARD_SIGNING_PKCS12, settings.STEWARD_SIGNING_PASSPHRASE
    )
    context, manifest = test_log_context(request)
    when = context["generated_at"]
    html = render_to_string("reports/test_log.html", context)
    pdf = rendering.html_to_pdf(html, manifest=manifest, when=when, base_url=str(settings.BASE_DIR))
    names = ", ".join(context["reviewers"])
    signed = signing.sign_pdf(
        pdf,
        signer=signer,
        timestamper=signing.timestamper_for(settings.STEWARD_TSA_URL),
        reason=f"Validation of {request.version} approved by {names} (request {request.pk})",
        name=names,
    )
    if signer.signing_cert is None:
        raise RuntimeError("the report signer has no certificate")
    version = request.version
    chain = context["chain"]
    export = ReportExport(
        kind=ReportKind.TEST_LOG,
        version=version,
        approval_request=request,
        sha256=hashlib.sha256(signed).hexdigest(),
        size=len(signed),
        manifest=json.loads(rendering.manifest_bytes(manifest)),
        chain_head_seq=chain["head_seq"],
        chain_head_hash=chain["head_hash"],
        signer=f"{signer.signing_cert.subject.human_friendly} for {names}"[:300],
        timestamped=bool(settings.STEWARD_TSA_URL),
        generated_by_name=ISSUER,
        generated_at=when,
    )
    name = f"test-log-{version.model.slug}-v{version.number}-request{request.pk}.pdf"
    export.file.save(name, ContentFile(signed), save=False)
    try:
        with transaction.atomic():
            _save(export, request, context["reviewers"])
    except IntegrityError:  # another worker issued it meanwhile
        export.file.delete(save=False)
        return ReportExport.objects.get(kind=ReportKind.TEST_LOG, approval_request=request)
    except BaseException:
        export.file.delete(save=False)
        raise
    return export


def _save(export: ReportExport, request: ApprovalRequest, reviewers: list[str]) -> None:
    """Keep the row (the database refuses a second log of one request), audit it with the
    file's digest, and link it to the version."""
    version = request.version
    export.full_clean(validate_constraints=False)
    export.save()
    audit.record(
        actor=ISSUER,
        action=EXPORTED,
        target=export,
        after={
            **export.audit_fields(),
            "approval_request": request.pk,
            "reviewers": reviewers,
        },
    )
    lineage.link(
        upstream=version,
        downstream=lineage.Node(NodeKind.REPORT, export.pk),
        relation=Relation.REPORTS_ON,
        actor=ISSUER,
    )


def run(job: Any, progress: Callable[[float], None]) -> dict[str, Any]:
    """The `approval_test_log` job: issue the test log of the request its params name."""
    export = test_log_issue(request_id=job.params["request"])
    progress(1.0)
    return {
        "export": export.pk,
        "sha256": export.sha256,
        "download": reverse("api:report-export-download", kwargs={"pk": export.pk}),
    }
