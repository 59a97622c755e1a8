"""The user types Steward's functions take.

`Actor` is who performs a change: a signed-in user of Django's user model (services refuse
anyone else before they are called: views and tokens authenticate first). `Viewer` is who
reads: selectors and the permission funnel also take the anonymous user, who sees nothing.
"""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser, User

Actor: TypeAlias = User
Viewer: TypeAlias = User | AnonymousUser
