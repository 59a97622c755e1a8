"""API tokens that expire and can be revoked.

A token is DRF's `authtoken.Token` (one per user). It is valid for STEWARD_TOKEN_TTL_HOURS
after it was issued; asking for a token again after that issues a new key. Revoking deletes
the key, so the next request with it is a 401. Issue and revocation are audited (never the key).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from governance.audit.recording import record

ISSUED = "auth.token_issued"
REVOKED = "auth.token_revoked"


def token_ttl() -> dt.timedelta:
    return dt.timedelta(hours=settings.STEWARD_TOKEN_TTL_HOURS)


def expires_at(created: dt.datetime, ttl: dt.timedelta) -> dt.datetime:
    return created + ttl


def is_expired(created: dt.datetime, *, now: dt.datetime, ttl: dt.timedelta) -> bool:
    """True from the moment `created + ttl` is reached."""
    return now >= expires_at(created, ttl)


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's `Authorization: Token <key>`, refusing revoked and expired keys with a 401 that
    says which."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        try:
            token = Token.objects.select_related("user").get(key=key)
        except Token.DoesNotExist as exc:
            raise AuthenticationFailed(
                "Invalid token: it was revoked or never issued. Ask for a new one at "
                "POST /api/v1/auth/token/."
            ) from exc
        if not token.user.is_active:
            raise AuthenticationFailed("This token's user is inactive or deleted.")
        if is_expired(token.created, now=timezone.now(), ttl=token_ttl()):
            raise AuthenticationFailed(
                "This token expired at "
                f"{expires_at(token.created, token_ttl()).isoformat(timespec='seconds')}. "
                "Ask for a new one at POST /api/v1/auth/token/."
            )
        return token.user, token


@transaction.atomic
def token_issue(*, user: Any) -> Token:
    """The user's current token, or a new one when there is none or it has expired."""
    current = Token.objects.select_for_update().filter(user=user).first()
    if current is not None:
        if not is_expired(current.created, now=timezone.now(), ttl=token_ttl()):
            return current
        current.delete()
    token = Token.objects.create(user=user)
    record(
        actor=user,
        action=ISSUED,
        target=user,
        after={"expires_at": expires_at(token.created, token_ttl()).isoformat()},
    )
    return token


@transaction.atomic
def token_revoke(*, actor: Any, user: Any, reason: str = "") -> int:
    """Delete `user`'s tokens. A person may revoke their own; a superuser anyone's; a named
    system process (a management command) passes its name as `actor`. Returns how many."""
    is_person = not isinstance(actor, str)
    if is_person and actor.pk != user.pk and not actor.is_superuser:
        raise PermissionDenied("Only an administrator may revoke another user's tokens.")
    deleted, _ = Token.objects.filter(user=user).delete()
    if deleted:
        record(actor=actor, action=REVOKED, target=user, after={"reason": reason[:200]})
    return deleted
