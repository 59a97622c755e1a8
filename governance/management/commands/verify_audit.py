"""`manage.py verify_audit`: check the audit hash chain against its head and the signed
checkpoints (database rows and files); name the first bad entry, or the window a rewrite
hides in. `--export FILE` writes the log as JSON lines; `--file FILE` verifies such a file
offline, with `--checkpoints DIR --public-key PEM` to check it against checkpoints too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.audit.chain import ChainVerdict
from governance.audit.checkpointing import key_path
from governance.audit.verification import audit_report, export_jsonl, verify_jsonl


def describe_failure(verdict: ChainVerdict) -> str:
    where = f" at entry {verdict.bad_seq}" if verdict.bad_seq is not None else ""
    text = f"audit chain BROKEN{where}: {verdict.reason}"
    if verdict.window:
        text += f" [window {verdict.window[0]}..{verdict.window[1]}]"
    return text


class Command(BaseCommand):
    help = "Verify the audit log's hash chain and signed checkpoints; name the first bad entry."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", help="verify an exported JSON-lines file instead")
        parser.add_argument("--export", help="write the log as JSON lines to this file first")
        parser.add_argument(
            "--checkpoints", help="with --file: a folder of checkpoint files to check against"
        )
        parser.add_argument(
            "--public-key",
            action="append",
            default=[],
            help="a trusted public key PEM (repeat for keys used before a rotation)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["export"]:
            with open(options["export"], "w", encoding="utf-8") as out:
                count = export_jsonl(out)
            self.stdout.write(f"exported {count} entries to {options['export']}")
        extra_keys = [Path(p) for p in options["public_key"]]
        notes: tuple[str, ...] = ()
        if options["file"]:
            verdict = self._verify_file(options["file"], options["checkpoints"], extra_keys)
        else:
            report = audit_report(extra_keys=extra_keys)
            verdict, notes = report.verdict, report.notes
        for note in notes:
            self.stderr.write(f"warning: {note}")
        if not verdict.ok:
            raise CommandError(describe_failure(verdict))
        signed = (
            f"; signed through entry {verdict.signed_through}" if verdict.signed_through else ""
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"audit chain OK: {verdict.count} entries, head {verdict.head_hash}{signed}"
            )
        )

    def _verify_file(self, path: str, checkpoints: str | None, keys: list[Path]) -> ChainVerdict:
        if checkpoints and not keys and key_path().exists():
            keys = [key_path()]
        with open(path, encoding="utf-8") as lines:
            return verify_jsonl(
                lines,
                checkpoint_files=Path(checkpoints) if checkpoints else None,
                public_keys=keys,
            )
