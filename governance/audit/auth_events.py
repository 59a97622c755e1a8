"""Sign-in, sign-out and failed sign-in, recorded in the audit log.

These come from django.contrib.auth's signals because the framework's login view, not a
Steward service, performs them. Only the user name is kept: Django already masks the password
in a failed attempt's credentials, and we read nothing else from them.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from governance.audit.recording import record

USERNAME_MAX = 150


def on_logged_in(sender: Any, request: Any = None, user: Any = None, **_: Any) -> None:
    record(actor=user, action="auth.login", target=user)


def on_logged_out(sender: Any, request: Any = None, user: Any = None, **_: Any) -> None:
    # `user` is None when nobody was signed in; the entry still shows the attempt.
    record(actor=user or "anonymous", action="auth.logout", target=user)


def attempted_username(credentials: dict[str, Any] | None) -> str:
    field = get_user_model().USERNAME_FIELD
    value = (credentials or {}).get(field) or (credentials or {}).get("username") or ""
    return str(value)[:USERNAME_MAX]


def on_login_failed(sender: Any, credentials: dict[str, Any] | None = None, **_: Any) -> None:
    username = attempted_username(credentials)
    user_model = get_user_model()
    account = (
        user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()
        if username
        else None
    )
    record(
        actor="anonymous",
        action="auth.login_failed",
        target=account,
        after={"username": username},
    )


def connect() -> None:
    """Called once from GovernanceConfig.ready()."""
    user_logged_in.connect(on_logged_in, dispatch_uid="steward.audit.login")
    user_logged_out.connect(on_logged_out, dispatch_uid="steward.audit.logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="steward.audit.login_failed")
