"""User administration: invite, deactivate and reactivate, set roles. Each change is one
audited service call; the pages in `portal/administration/` only parse input and call these.

Who administers: superusers and the admins role, which holds `auth.change_user` (given after
every migrate by `ensure_admin_permission`). An administrator who is not a superuser may not
change a superuser's account, and nobody changes their own roles or deactivates themselves here
(another administrator does), so no one locks the portal out by a slip.

Tokens die with an account: deactivation saves `is_active`, which `portal.security.accounts`
watches and answers by revoking every token of the user (audited as account-security).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from governance import audit
from registry.actors import Actor, Viewer
from registry.roles import ADMINS, ROLE_PERMISSIONS

logger = logging.getLogger(__name__)

ADMINISTER_USERS = "auth.change_user"
ROLES: tuple[str, ...] = tuple(ROLE_PERMISSIONS)


def ensure_admin_permission(**_: Any) -> None:
    """Give the admins role the right to administer users (idempotent; after every migrate)."""
    Group.objects.get_or_create(name=ADMINS)[0].permissions.add(
        *Permission.objects.filter(content_type__app_label="auth", codename="change_user")
    )


def may_administer_users(user: Viewer) -> bool:
    """Superusers and the admins role."""
    return bool(user and user.is_active and user.has_perm(ADMINISTER_USERS))


def _require_admin_over(actor: Actor, user: User | None = None) -> None:
    if not may_administer_users(actor):
        raise PermissionDenied("Only administrators may manage users.")
    if user is not None and user.is_superuser and not actor.is_superuser:
        raise PermissionDenied("Only a superuser may change a superuser's account.")


def user_roles(user: User) -> list[str]:
    """The user's role groups (other groups apart), in the order of registry.roles."""
    names = {g.name for g in user.groups.all()}
    return [role for role in ROLES if role in names]


def _role_groups(roles: list[str]) -> list[Group]:
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise ValidationError({"roles": f"no such role: {', '.join(unknown)}"})
    return list(Group.objects.filter(name__in=roles))


def _account(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "email": user.email,
        "is_active": user.is_active,
        "roles": user_roles(user),
    }


def set_password_path(user: User) -> str:
    """The path of the one-time link that lets `user` choose a password (Django's password
    reset tokens: the link stops working once a password is set or the user signs in)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("account:set-password", kwargs={"uidb64": uid, "token": token})


def _send_invitation(user: User, link: str, inviter: str) -> None:
    """After commit: a mail server that is down leaves the invitation made, and the inviter
    holds the same link to pass on."""
    try:
        _mail_invitation(user, link, inviter)
    except Exception:  # the account exists either way; say so in the log
        logger.exception("could not e-mail the invitation of %s", user.username)


def _mail_invitation(user: User, link: str, inviter: str) -> None:
    send_mail(
        subject="Your Steward account",
        message=(
            f"{inviter} invited you to Steward as {user.username}.\n\n"
            f"Choose your password here (the link works once):\n{link}\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )


@transaction.atomic
def user_invite(
    *,
    actor: Actor,
    username: str,
    email: str,
    base_url: str,
    first_name: str = "",
    last_name: str = "",
    roles: list[str] | None = None,
) -> tuple[User, str]:
    """Create an active user without a usable password, with `roles`, and e-mail them (after
    commit) a link to set one. Returns the user and the link (shown once to the inviter)."""
    _require_admin_over(actor)
    username = username.strip()
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": "A user with that user name already exists."})
    user = User(
        username=username,
        email=email.strip(),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
    )
    user.set_unusable_password()
    user.full_clean()
    user.save()
    groups = _role_groups(roles or [])
    user.groups.set(groups)
    audit.record(actor=actor, action="auth.user.invited", target=user, after=_account(user))
    link = base_url.rstrip("/") + set_password_path(user)
    transaction.on_commit(lambda: _send_invitation(user, link, actor.get_username()))
    return user, link


@transaction.atomic
def user_set_active(*, actor: Actor, user: User, active: bool, reason: str = "") -> User:
    """Deactivate or reactivate an account. Saving `is_active` revokes every API token of the
    user (portal.security.accounts), by this path or any other."""
    _require_admin_over(actor, user)
    if user.pk == actor.pk:
        raise PermissionDenied("You cannot deactivate or reactivate your own account.")
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active == active:
        return user
    before = _account(user)
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit.record(
        actor=actor,
        action="auth.user.reactivated" if active else "auth.user.deactivated",
        target=user,
        before=before,
        after=_account(user) | {"reason": reason.strip()[:500]},
    )
    return user


@transaction.atomic
def user_set_roles(*, actor: Actor, user: User, roles: list[str]) -> list[str]:
    """Give the user exactly these role groups (registry.roles); other groups are kept."""
    _require_admin_over(actor, user)
    if user.pk == actor.pk:
        raise PermissionDenied("You cannot change your own roles; ask another administrator.")
    user = User.objects.select_for_update().get(pk=user.pk)
    wanted = _role_groups(roles)
    before = _account(user)
    current = [g for g in user.groups.all() if g.name in ROLES]
    user.groups.remove(*[g for g in current if g not in wanted])
    user.groups.add(*wanted)
    after = _account(user)
    if after != before:
        audit.record(
            actor=actor, action="auth.user.roles_changed", target=user, before=before, after=after
        )
    return user_roles(user)
