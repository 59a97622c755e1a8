"""Create a self-signed CA and a report-signing certificate (for the demo and the tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.reports.identity import create_identity


class Command(BaseCommand):
    help = (
        "Write a self-signed root CA (PEM) and a document-signing identity (PKCS#12) to the "
        "paths in STEWARD_SIGNING_PKCS12 and STEWARD_SIGNING_TRUST_ROOTS (first entry). For "
        "demos and tests; production uses the organisation's own certificate."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pkcs12", type=Path, default=None)
        parser.add_argument("--root", type=Path, default=None)
        parser.add_argument("--organisation", default="Steward Demo")
        parser.add_argument("--common-name", default="Steward Report Signer")
        parser.add_argument("--days", type=int, default=825)
        parser.add_argument(
            "--force", action="store_true", help="replace an identity that exists already"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        pkcs12_path = options["pkcs12"] or settings.STEWARD_SIGNING_PKCS12
        root_path = options["root"] or settings.STEWARD_SIGNING_TRUST_ROOTS[0]
        if pkcs12_path.exists() and not options["force"]:
            if options["verbosity"] >= 1:
                self.stdout.write(f"A signing identity exists at {pkcs12_path}; kept (--force).")
            return
        if options["days"] < 1:
            raise CommandError("--days must be at least 1")
        made = create_identity(
            pkcs12_path=pkcs12_path,
            root_path=root_path,
            passphrase=settings.STEWARD_SIGNING_PASSPHRASE,
            organisation=options["organisation"],
            common_name=options["common_name"],
            days=options["days"],
        )
        if options["verbosity"] >= 1:
            self.stdout.write(f"Signing identity: {made.pkcs12_path}")
            self.stdout.write(f"Trust root:       {made.root_path}")
