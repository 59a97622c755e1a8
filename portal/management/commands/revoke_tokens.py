"""Revoke a user's API tokens: `manage.py revoke_tokens NAME [NAME ...] [--reason TEXT]`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.security.tokens import token_revoke


class Command(BaseCommand):
    help = "Revoke the API tokens of the named users (audited)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("usernames", nargs="+")
        parser.add_argument("--reason", default="revoked by an administrator")

    def handle(self, *args: Any, usernames: list[str], reason: str, **options: Any) -> None:
        user_model = get_user_model()
        for name in usernames:
            user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: name}).first()
            if user is None:
                raise CommandError(f"no user named {name!r}")
            count = token_revoke(actor="manage.py revoke_tokens", user=user, reason=reason)
            self.stdout.write(f"{name}: {count} token{'s' if count != 1 else ''} revoked")
