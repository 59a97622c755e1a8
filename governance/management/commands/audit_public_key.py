"""`manage.py audit_public_key [--output FILE]`: the public half of the checkpoint key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from governance.audit import keys
from governance.audit.checkpointing import signing_key


class Command(BaseCommand):
    help = "Print (or write) the audit checkpoint signing key's public key, as PEM."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", help="write the PEM to this file instead of stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        public = signing_key().public_key()  # creates the key pair on first use
        pem = keys.public_pem(public)
        if options["output"]:
            Path(options["output"]).write_text(pem, encoding="utf-8")
            self.stderr.write(f"key {keys.key_id(public)} written to {options['output']}")
        else:
            self.stdout.write(pem, ending="")
            self.stderr.write(f"key id {keys.key_id(public)}")
