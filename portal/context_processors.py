"""Template context every page gets."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def reviewer_inbox(request: HttpRequest) -> dict[str, Any]:
    """How many approval requests wait for the signed-in user's decision (one query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from governance.approvals.selectors import inbox

    return {"inbox_count": inbox(user=user).count()}


def open_alerts(request: HttpRequest) -> dict[str, Any]:
    """How many open alerts the signed-in user may view, for the navigation (one query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from monitoring.dashboards.portfolio_selectors import open_alert_count

    return {"open_alert_count": open_alert_count(user=user)}


def unread_notifications(request: HttpRequest) -> dict[str, Any]:
    """How many of the signed-in user's notifications are unread, for the navigation."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from governance.approvals.selectors import unread_notification_count

    return {"unread_notification_count": unread_notification_count(user=user)}
