"""manage.py mlflow_sync --tracking-uri URI [--models NAME,...]: mirror an MLflow registry now.

The connection is registered (audited as done by the command) when no connection has that
tracking URI yet; credentials come from MLFLOW_TRACKING_USERNAME / _PASSWORD / _TOKEN.
"""

from __future__ import annotations

import json
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.mlflow import connections
from governance.mlflow.gateway import MlflowUnavailable
from governance.mlflow.models import MlflowConnection
from governance.mlflow.sync import connection_sync


class Command(BaseCommand):
    help = "Mirror an MLflow Model Registry into Steward (registers the connection if new)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tracking-uri", required=True)
        parser.add_argument("--models", default="", help="NAME,NAME,... (default: all)")
        parser.add_argument("--team", default="", help="team of new models (a new connection)")
        parser.add_argument("--alias", default="", help="protected alias (a new connection)")

    def handle(self, *args: Any, **options: Any) -> None:
        uri = options["tracking_uri"].strip()
        names = [n.strip() for n in options["models"].split(",") if n.strip()]
        connection = MlflowConnection.objects.filter(tracking_uri=uri).first()
        if connection is None:
            fields: dict[str, Any] = {
                "tracking_uri": uri,
                "model_names": names,
                "default_team": options["team"],
                "username": os.environ.get("MLFLOW_TRACKING_USERNAME", ""),
                "password": os.environ.get("MLFLOW_TRACKING_PASSWORD", ""),
                "token": os.environ.get("MLFLOW_TRACKING_TOKEN", ""),
            }
            if options["alias"]:
                fields["protected_alias"] = options["alias"]
            connection = connections.connection_create(actor=None, **fields)
            self.stdout.write(f"registered connection {connection.pk} ({uri})")
        try:
            report = connection_sync(connection=connection, names=names or None)
        except MlflowUnavailable as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(report.as_dict(), sort_keys=True))
