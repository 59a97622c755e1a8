"""Export a signed report from the command line (scripts, cron)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404
from django.utils import timezone

from governance.reports.choices import ReportKind
from governance.reports.services import report_export, techdoc_bytes, techdoc_json
from governance.reports.signing import SigningError


def moment(text: str) -> dt.datetime:
    """An ISO 8601 date or date and time; without an offset it is UTC."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"not an ISO 8601 date or time: {text!r}") from exc
    return value if timezone.is_aware(value) else value.replace(tzinfo=dt.UTC)


class Command(BaseCommand):
    help = "Render, sign and record one report; writes the PDF to --out."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # `--version ID` names the model version, as the issue asks: it replaces Django's
        # `--version` (which would print the Django version).
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        subject = parser.add_mutually_exclusive_group(required=True)
        subject.add_argument("--version", dest="version_id", type=int, help="model version id")
        subject.add_argument("--deployment", dest="deployment_id", type=int, help="deployment id")
        parser.add_argument("--since", type=moment, help="period start (deployment reports)")
        parser.add_argument("--until", type=moment, help="period end (deployment reports)")
        parser.add_argument(
            "--kind",
            choices=["version", "deployment", ReportKind.TECHNICAL_DOCUMENTATION],
            default="",
            help="technical-documentation: the version's EU AI Act Annex IV documentation",
        )
        parser.add_argument(
            "--format",
            choices=["pdf", "json"],
            default="pdf",
            help="json: the technical documentation as JSON (unsigned, not recorded)",
        )
        parser.add_argument("--out", type=Path, required=True, help="where to write the file")
        parser.add_argument(
            "--as", dest="username", help="export as this user (their view rights apply)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor: Any = "system:export_report"
        if options["username"]:
            actor = get_user_model().objects.filter(username=options["username"]).first()
            if actor is None:
                raise CommandError(f"no user named {options['username']!r}")
        techdoc = options["kind"] == ReportKind.TECHNICAL_DOCUMENTATION
        if options["format"] == "json" and not techdoc:
            raise CommandError("--format json is for --kind technical-documentation")
        if techdoc and options["version_id"] is None:
            raise CommandError("technical documentation is exported for a --version")
        try:
            if options["format"] == "json":
                doc = techdoc_json(actor=actor, version_id=options["version_id"])
                options["out"].write_bytes(techdoc_bytes(doc))
                self.stdout.write(f"Wrote {options['out']} ({doc['gaps_total']} gaps to fill)")
                return
            export = report_export(
                actor=actor,
                version_id=options["version_id"],
                deployment_id=options["deployment_id"],
                since=options["since"],
                until=options["until"],
                kind=options["kind"],
            )
        except (Http404, SigningError) as exc:
            raise CommandError(str(exc)) from exc
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        with export.file.open("rb") as source, options["out"].open("wb") as out:
            shutil.copyfileobj(source, out)
        self.stdout.write(f"Wrote {options['out']} ({export.size} bytes)")
        self.stdout.write(f"sha256 {export.sha256}")
