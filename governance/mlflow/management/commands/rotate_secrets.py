"""manage.py rotate_secrets: re-encrypt the stored credentials under the newest key.

Rotation: put the new key first in STEWARD_SECRETS_KEY (the old one after it), restart, run
this command, then drop the old key.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from governance.mlflow.connections import secrets_rotate
from governance.mlflow.secrets import SecretUnreadable


class Command(BaseCommand):
    help = "Re-encrypt stored credentials (MLflow connections) under the newest secrets key."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            done = secrets_rotate(actor=None)
        except SecretUnreadable as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"re-encrypted the credentials of {done} connection(s)")
