"""Demo signed reports: a signing identity (self-signed root, made once) and one exported
model version report, so the reports page and the verify page have something to show."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.management import call_command

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
    if ReportExport.objects.exists():
        return
    version = ModelVersion.objects.filter(stage=Stage.APPROVED).order_by("pk").first()
    if version is None:
        return
    export = report_export(actor=actor, version_id=version.pk)
    progress(f"signed report of {version}: sha256 {export.sha256[:16]}…")
