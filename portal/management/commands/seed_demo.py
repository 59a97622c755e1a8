"""`manage.py seed_demo`: demo users, trained models and their history, through the services."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from portal.demo.seeding import DEMO_LOGINS, DemoUsers, ModelSummary, seed_demo
from registry.choices import Stage

HEADER = ("Model", "Result", "Versions", "Datasets", "Artifacts", "Deployments")


def _stages(summary: ModelSummary) -> str:
    return ", ".join(f"v{n} {Stage(s).label.lower()}" for n, s in enumerate(summary.stages, 1))


def summary_table(summaries: list[ModelSummary]) -> list[str]:
    """One line per model: what it holds and whether this run created or skipped it."""
    rows = [HEADER] + [
        (
            s.name,
            "created" if s.created else "skipped (exists)",
            _stages(s),
            str(s.datasets),
            str(s.artifacts),
            str(s.deployments),
        )
        for s in summaries
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return [line.rstrip() for line in lines]


def logins_block(users: DemoUsers) -> list[str]:
    """The documented demo logins (public passwords: for demos only) and the API token."""
    lines = ["Demo logins (documented passwords: for demos only, never in production)"]
    for login in DEMO_LOGINS:
        role = f"{login.group} (superuser)" if login.superuser else login.group
        lines.append(f"  {login.username:<10} {login.password:<18} {role}")
    if users.token:
        lines.append(f"  API token of scientist: {users.token}")
        lines.append(f"  (use it as the header  Authorization: Token {users.token})")
    else:
        lines.append(
            "  API token of scientist: printed by the first seed (secrets are shown once);"
        )
        lines.append("  get another with POST /api/v1/auth/token/ (user name and password)")
    return lines


class Command(BaseCommand):
    help = (
        "Seed demo users and four scikit-learn models (trained on data sets scikit-learn ships "
        "and a synthetic cohort) with versions, data sets, artifacts and deployments, all "
        "through the registry's services. Idempotent: existing demo models are skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--quiet", action="store_true", help="Print nothing (errors still raise)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        quiet = options["quiet"] or options["verbosity"] == 0
        users, summaries = seed_demo(progress=(lambda _m: None) if quiet else self._progress)
        if quiet:
            return
        self.stdout.write("")
        for line in summary_table(summaries):
            self.stdout.write(line)
        self.stdout.write("")
        for line in logins_block(users):
            self.stdout.write(line)

    def _progress(self, message: str) -> None:
        self.stdout.write(message)
