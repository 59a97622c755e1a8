"""`manage.py verify_audit [--export FILE] [--file FILE]`: check the audit hash chain."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.audit.verification import export_jsonl, verify_jsonl, verify_stored_log


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; name the first bad entry."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", help="verify an exported JSON-lines file instead")
        parser.add_argument("--export", help="write the log as JSON lines to this file first")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["export"]:
            with open(options["export"], "w", encoding="utf-8") as out:
                count = export_jsonl(out)
            self.stdout.write(f"exported {count} entries to {options['export']}")
        if options["file"]:
            with open(options["file"], encoding="utf-8") as lines:
                verdict = verify_jsonl(lines)
        else:
            verdict = verify_stored_log()
        if not verdict.ok:
            raise CommandError(f"audit chain BROKEN at entry {verdict.bad_seq}: {verdict.reason}")
        self.stdout.write(
            self.style.SUCCESS(f"audit chain OK: {verdict.count} entries, head {verdict.head_hash}")
        )
