"""API tokens that expire and can be revoked, several per user.

A token is an `ApiToken` row: a name, the SHA-256 of a random secret (the secret itself is
shown once, at creation), a creation and an expiry time (at most STEWARD_TOKEN_TTL_HOURS
after creation). A user may hold STEWARD_MAX_TOKENS_PER_USER live tokens; creating one more
revokes the oldest, so a script that signs in on every run cannot pile them up. Revoking
deletes the row, so the next request with its secret is a 401. Every token of a user is
revoked when their password is set or their account is deactivated (`portal.security.accounts`).
Creation and revocation are audited, never the secret.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from governance.audit.recording import record
from portal.models import ApiToken
from registry.actors import Actor, SystemActor

ISSUED = "auth.token_issued"
REVOKED = "auth.token_revoked"


def token_ttl() -> dt.timedelta:
    return dt.timedelta(hours=settings.STEWARD_TOKEN_TTL_HOURS)


def expires_at(created: dt.datetime, ttl: dt.timedelta) -> dt.datetime:
    return created + ttl


def is_expired(created: dt.datetime, *, now: dt.datetime, ttl: dt.timedelta) -> bool:
    """True from the moment `created + ttl` is reached."""
    return now >= expires_at(created, ttl)


def digest(secret: str) -> str:
    """What is stored for a secret. The secret is 160 random bits, so a plain hash suffices."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's `Authorization: Token <secret>`, refusing revoked and expired tokens with a 401
    that says which."""

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        token = ApiToken.objects.select_related("user").filter(digest=digest(key)).first()
        if token is None:
            raise AuthenticationFailed(
                "Invalid token: it was revoked or never issued. Ask for a new one at "
                "POST /api/v1/auth/token/."
            )
        if not token.user.is_active:
            raise AuthenticationFailed("This token's user is inactive or deleted.")
        if timezone.now() >= token.expires_at:
            raise AuthenticationFailed(
                f"This token expired at {token.expires_at.isoformat(timespec='seconds')}. "
                "Ask for a new one at POST /api/v1/auth/token/."
            )
        return token.user, token


def _described(tokens: list[ApiToken]) -> list[str]:
    return [f"#{t.pk} {t}" for t in tokens]


def _expiry(requested: dt.datetime | None, *, now: dt.datetime) -> dt.datetime:
    latest = now + token_ttl()
    if requested is None:
        return latest
    if requested <= now:
        raise ValidationError({"expires_at": "must be in the future"})
    if requested > latest:
        raise ValidationError(
            {"expires_at": f"may be at most {settings.STEWARD_TOKEN_TTL_HOURS} hours from now"}
        )
    return requested


@transaction.atomic
def token_create(
    *, user: Actor, name: str, expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for `user` (who must be active) and its secret, which is not kept.
    Expired tokens of the user are removed; past the per-user limit the oldest is revoked."""
    if not user.is_active:
        raise PermissionDenied("An inactive user cannot hold API tokens.")
    # The user's row lock serialises concurrent creations, so the limit holds.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    now = timezone.now()
    ApiToken.objects.filter(user=user, expires_at__lte=now).delete()
    live = list(ApiToken.objects.filter(user=user).order_by("created_at", "pk"))
    surplus = live[: max(len(live) - settings.STEWARD_MAX_TOKENS_PER_USER + 1, 0)]
    if surplus:
        _revoke(actor=user, user=user, tokens=surplus, reason="token limit reached")
    secret = secrets.token_hex(20)
    token = ApiToken(
        user=user,
        name=name.strip(),
        prefix=secret[:8],
        digest=digest(secret),
        created_at=now,
        expires_at=_expiry(expires_at, now=now),
    )
    token.full_clean()
    token.save()
    record(
        actor=user,
        action=ISSUED,
        target=user,
        after={"token": _described([token])[0], "expires_at": token.expires_at.isoformat()},
    )
    return token, secret


def token_issue(*, user: Actor, name: str = "") -> tuple[ApiToken, str]:
    """POST /api/v1/auth/token/: a new token for a user who gave their password."""
    return token_create(user=user, name=name or "api")


def _revoke(*, actor: Actor | SystemActor, user: Actor, tokens: list[ApiToken], reason: str) -> int:
    if not tokens:
        return 0
    ApiToken.objects.filter(pk__in=[t.pk for t in tokens]).delete()
    record(
        actor=actor,
        action=REVOKED,
        target=user,
        after={"reason": reason[:200], "tokens": _described(tokens)},
    )
    return len(tokens)


def _require_holder_or_admin(actor: Actor | SystemActor, user: Actor) -> None:
    """The holder, a superuser, or an administrator (the admins role: portal.accounts) over
    a user who is not a superuser."""
    if isinstance(actor, str):  # a named system process
        return
    from portal.accounts.services import may_administer_users

    if actor.pk == user.pk or actor.is_superuser:
        return
    if not may_administer_users(actor) or user.is_superuser:
        raise PermissionDenied("Only an administrator may revoke another user's tokens.")


@transaction.atomic
def token_revoke(*, actor: Actor | SystemActor, user: Actor, reason: str = "") -> int:
    """Revoke every token of `user`. A person may revoke their own; a superuser anyone's; a
    named system process (a management command, an account change) passes its name as
    `actor`. Returns how many."""
    _require_holder_or_admin(actor, user)
    tokens = list(ApiToken.objects.select_for_update().filter(user=user))
    return _revoke(actor=actor, user=user, tokens=tokens, reason=reason)


@transaction.atomic
def token_revoke_one(*, actor: Actor | SystemActor, token: ApiToken, reason: str = "") -> None:
    """Revoke one token; the holder's other clients keep working."""
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    _require_holder_or_admin(actor, token.user)
    _revoke(actor=actor, user=token.user, tokens=[token], reason=reason)
