"""`manage.py audit_checkpoint`: sign the audit chain's current head now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from governance.audit.checkpointing import checkpoint_dir, checkpoint_now, write_missing_files


class Command(BaseCommand):
    help = "Sign a checkpoint of the audit chain's current head (database row and JSON file)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--sync-files",
            action="store_true",
            help="also write the file of any stored checkpoint whose file is missing",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        row = checkpoint_now()
        if row is None:
            self.stdout.write("the audit log is empty: nothing to sign")
        else:
            self.stdout.write(
                f"checkpoint at entry {row.seq}: head {row.head_hash}, key {row.key_id}"
            )
        if options["sync_files"]:
            written = write_missing_files()
            self.stdout.write(f"{written} missing checkpoint files written to {checkpoint_dir()}")
