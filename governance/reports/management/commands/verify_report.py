"""Verify a report file: signature, trust, coverage, and whether Steward issued it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.reports.services import Verification, report_verify


def describe(result: Verification) -> list[str]:
    """The verdict in lines of text, the same facts the upload page shows."""
    v = result.verdict
    yes = {True: "yes", False: "NO"}
    lines = [
        f"file sha256:            {v.sha256}",
        f"signed:                 {yes[v.signed]}",
    ]
    if v.signed:
        lines += [
            f"signer:                 {v.signer} ({v.signer_organisation})",
            f"signed at:              {v.signed_at.isoformat() if v.signed_at else 'unknown'}"
            + (" (signer's clock)" if not v.timestamped_at else ""),
        ]
        if v.timestamped_at:
            lines.append(f"timestamp (RFC 3161):   {v.timestamped_at.isoformat()}")
        lines += [
            f"signature intact:       {yes[v.intact]}",
            f"trusted signer:         {yes[v.trusted]}",
            f"covers entire file:     {yes[v.entire_file]}",
            f"no later modification:  {yes[v.unmodified]}",
            f"validator bottom line:  {yes[v.bottom_line]}",
        ]
    if result.issued:
        e = result.issued
        when = f"{e.created_at:%Y-%m-%d %H:%M} UTC"
        lines.append(f"issued by Steward:      yes, audit entry {e.seq} ({when}, {e.actor_name})")
    else:
        lines.append("issued by Steward:      NO (no audit entry records this sha256)")
    lines += [f"problem: {p}" for p in v.problems]
    lines.append(f"VERDICT: {'VALID' if result.ok else 'INVALID'}")
    return lines


class Command(BaseCommand):
    help = "Verify a signed Steward report; exits 1 unless every check passes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"no file at {path}")
        result = report_verify(path.read_bytes())
        for line in describe(result):
            self.stdout.write(line)
        if not result.ok:
            raise CommandError("the report does not verify", returncode=1)
