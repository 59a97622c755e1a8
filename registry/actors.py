"""The user types Steward's functions take.

`Actor` is who performs a change: a signed-in user of Django's user model (services refuse
anyone else before they are called: views and tokens authenticate first). `SystemActor` is
the name of a process acting on its own (a scheduled expiry, a management command, a sync):
the audit log records that name. `Viewer` is who reads: selectors and the permission funnel
also take the anonymous user, who sees nothing.
"""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from rest_framework.request import Request

Actor: TypeAlias = User
SystemActor: TypeAlias = str
Viewer: TypeAlias = User | AnonymousUser


def acting_user(request: HttpRequest | Request) -> Actor:
    """The signed-in user behind `request`, as an `Actor`. Every view that changes anything is
    behind a login (pages) or `IsAuthenticated` (API), so this narrows a type; the refusal
    below is a safety net, never the first check."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied("sign in first")
    return user
