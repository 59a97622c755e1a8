"""Demo signed reports: a signing identity (self-signed root, made once), one exported
model version report and one technical documentation (EU AI Act Annex IV) export, so the
reports page and the verify page have something to show. (The signed test logs of the seeded
approvals are queued jobs: the demo's worker issues them.)"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.management import call_command

from governance.reports.choices import ReportKind
from governance.reports.models import ReportExport
from governance.reports.services import report_export
from registry.actors import Actor
from registry.choices import Stage
from registry.models import ModelVersion


def seed_reports(actor: Actor, *, progress: Callable[[str], None] = lambda _m: None) -> None:
    """Create the demo signing identity if there is none, then export one report of the first
    approved version (once)."""
    if not settings.STEWARD_SIGNING_PKCS12.exists():
        call_command("create_signing_identity", verbosity=0)
        progress(f"signing identity: {settings.STEWARD_SIGNING_PKCS12}")
    approved = ModelVersion.objects.filter(stage=Stage.APPROVED).order_by("pk")
    version = approved.first()
    if version is None:
        return
    if not ReportExport.objects.filter(kind=ReportKind.VERSION).exists():
        export = report_export(actor=actor, version_id=version.pk)
        progress(f"signed report of {version}: sha256 {export.sha256[:16]}…")
    if not ReportExport.objects.filter(kind=ReportKind.TECHNICAL_DOCUMENTATION).exists():
        # The version with a deployment, so its post-market monitoring section has content.
        deployed = approved.filter(deployments__isnull=False).first() or version
        export = report_export(
            actor=actor, version_id=deployed.pk, kind=ReportKind.TECHNICAL_DOCUMENTATION
        )
        progress(f"technical documentation of {deployed}: sha256 {export.sha256[:16]}…")
