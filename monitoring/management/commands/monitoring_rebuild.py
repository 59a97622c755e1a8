"""`manage.py monitoring_rebuild --deployment ID --since YYYY-MM-DD`: rebuild the rollups."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.rollups.services import monitoring_rebuild
from registry.models import Deployment


class Command(BaseCommand):
    help = (
        "Mark every hour of a deployment's events from a UTC day stale and queue a monitoring "
        "run that rebuilds them, with their drift windows and daily performance (audited, as "
        "the system). Follow the run on the jobs page."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--deployment", type=int, required=True, help="deployment id")
        parser.add_argument("--since", required=True, help="first UTC day, YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            since = dt.date.fromisoformat(options["since"])
        except ValueError as exc:
            raise CommandError(f"--since: not a YYYY-MM-DD date: {options['since']!r}") from exc
        deployment = Deployment.objects.filter(pk=options["deployment"]).first()
        if deployment is None:
            raise CommandError(f"--deployment: no deployment {options['deployment']}")
        job, marked = monitoring_rebuild(
            deployment=deployment, since=since, actor="system:monitoring_rebuild"
        )
        self.stdout.write(f"{marked} hours marked stale; monitoring run {job.pk} queued")
