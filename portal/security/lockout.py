"""Sign-in lockout with django-axes: the backend, the lockout answer and its audit entry.

AXES_FAILURE_LIMIT failed sign-ins for one user name from one address lock that pair out for
AXES_COOLOFF_TIME. The sign-in page, the admin's and `POST /api/v1/auth/token/` all go through
authenticate() with the request, so all three count and all three refuse. An administrator
lifts a lock early with `manage.py axes_reset_username NAME` (or `axes_reset` for all).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse

from governance.audit.auth_events import USERNAME_MAX
from governance.audit.recording import record
from portal.security.limits import API_PREFIX

LOCKED_OUT_STATUS = 429


class LockoutBackend(AxesStandaloneBackend):
    """Axes' check before any password is compared. Calls without a request (the test
    client's login(), scripts on the server) cannot come from an attacker's address and are
    left to the next backend."""

    def authenticate(self, request: Any = None, username: Any = None, password: Any = None, **kw):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kw)


def cool_off_words(cool_off: dt.timedelta | None) -> str:
    """'for 30 minutes', 'for 2 hours', or 'until an administrator lifts it'."""
    if cool_off is None:
        return "until an administrator lifts it"
    minutes = int(cool_off.total_seconds() // 60)
    if minutes >= 60 and minutes % 60 == 0:
        hours = minutes // 60
        return f"for {hours} hour{'s' if hours != 1 else ''}"
    return f"for {minutes} minute{'s' if minutes != 1 else ''}"


def lockout_message(cool_off: dt.timedelta | None) -> str:
    return (
        f"Too many failed sign-ins for this user name from your address "
        f"({settings.AXES_FAILURE_LIMIT}): signing in is locked {cool_off_words(cool_off)}. "
        "An administrator can lift the lock sooner."
    )


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the sign-in page with the reason, or JSON for the API (429)."""
    message = lockout_message(get_cool_off(request))
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": message, "code": "locked_out"}, status=LOCKED_OUT_STATUS)
    form = AuthenticationForm(request)
    response = TemplateResponse(
        request,
        "registration/login.html",
        {"form": form, "locked_out_message": message, "next": request.POST.get("next", "")},
        status=LOCKED_OUT_STATUS,
    )
    return response.render()


def on_locked_out(
    sender: Any, request: Any = None, username: Any = None, ip_address: Any = None, **_: Any
) -> None:
    """Audit the moment a lock comes into force: the failure that reaches the limit. Attempts
    refused after it are in the log already, as failed sign-ins (each one also extends the
    lock: AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT)."""
    failures = getattr(request, "axes_failures_since_start", None)
    if failures != settings.AXES_FAILURE_LIMIT:
        return
    name = str(username or "")[:USERNAME_MAX]
    user_model = get_user_model()
    account = (
        user_model._default_manager.filter(**{user_model.USERNAME_FIELD: name}).first()
        if name
        else None
    )
    record(
        actor="anonymous",
        action="auth.locked_out",
        target=account,
        after={
            "username": name,
            "ip_address": str(ip_address or ""),
            "failures": failures,
        },
    )


def connect() -> None:
    """Called once from PortalConfig.ready()."""
    from axes.signals import user_locked_out

    user_locked_out.connect(on_locked_out, dispatch_uid="steward.security.locked_out")
