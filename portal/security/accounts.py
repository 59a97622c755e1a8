"""A user's API tokens die with their password and their account (issue #19, 5).

The user model is Django's, and Django's own code writes it: the password change and reset
forms, the admin's password form and change form, `manage.py changepassword`, our demo seed.
So this is the one place in Steward that acts on `pre_save` / `post_save`: every one of those
paths saves the user, and none of them calls a Steward service we could extend. Tokens are
revoked (audited, actor "account-security") when

- a password is set (`set_password` then `save()`, or the stored hash replaced), except the
  re-hash Django does at sign-in when its hasher settings changed, which keeps the password;
- `is_active` changes: deactivation, and reactivation too, so that no token survives a
  deactivation made behind `save()` (a queryset update).

A deactivated user's tokens are refused at authentication anyway (`tokens.py`); revocation
makes that permanent.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save, pre_save

ACTOR = "account-security"
_WATCHED = {"password", "is_active"}


def _reason(instance: Any, stored: dict[str, Any], update_fields: Any) -> str:
    if stored["is_active"] != instance.is_active:
        return "account deactivated" if not instance.is_active else "account reactivated"
    if stored["password"] == instance.password:
        return ""
    # Django's sign-in re-hash: check_password's setter clears _password and saves the
    # password field alone. Every other change of the hash is a new password.
    rehash = getattr(instance, "_password", None) is None and update_fields == {"password"}
    return "" if rehash else "password changed"


def _before_save(sender: Any, instance: Any, raw: bool, update_fields: Any, **_: Any) -> None:
    instance._steward_token_revocation = ""
    if raw or instance.pk is None:
        return
    if update_fields is not None and not _WATCHED & set(update_fields):
        return  # e.g. last_login at every sign-in: no extra query
    stored = sender._default_manager.filter(pk=instance.pk).values(*_WATCHED).first()
    if stored is not None:
        fields = set(update_fields) if update_fields is not None else None
        instance._steward_token_revocation = _reason(instance, stored, fields)


def _after_save(sender: Any, instance: Any, created: bool, **_: Any) -> None:
    reason = getattr(instance, "_steward_token_revocation", "")
    if reason:
        from portal.security.tokens import token_revoke

        instance._steward_token_revocation = ""
        token_revoke(actor=ACTOR, user=instance, reason=reason)


def connect() -> None:
    user_model = get_user_model()
    pre_save.connect(_before_save, sender=user_model, dispatch_uid="steward-tokens-pre")
    post_save.connect(_after_save, sender=user_model, dispatch_uid="steward-tokens-post")
