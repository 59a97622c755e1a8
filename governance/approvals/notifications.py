"""In-app notifications and e-mail for the approval workflow and for model watchers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db import transaction
from django.urls import reverse

from governance.approvals.models import ApprovalRequest, ModelWatch, Notification
from registry.choices import Action
from registry.models import RegisteredModel


def notify(
    users: Iterable[Any], *, subject: str, body: str = "", url: str = "", email: bool = True
) -> int:
    """One in-app notification per user, and one e-mail each (sent after commit) unless
    `email` is False (alerts: their rule's own e-mail channel sends those)."""
    users = {u.pk: u for u in users if u is not None}.values()
    Notification.objects.bulk_create(
        Notification(recipient=u, subject=subject[:200], body=body, url=url) for u in users
    )
    if not email:
        return len(users)
    link = f"{settings.STEWARD_BASE_URL}{url}" if url else ""
    mails = [
        (f"[Steward] {subject}", f"{body}\n\n{link}".strip(), None, [u.email])
        for u in users
        if u.email
    ]
    if mails:
        transaction.on_commit(lambda: send_mass_mail(mails, fail_silently=True))
    return len(users)


def request_url(request: ApprovalRequest) -> str:
    return reverse("approvals:request-detail", args=[request.pk])


def eligible_approvers(request: ApprovalRequest) -> list[Any]:
    """Users who may decide the request: approve rights on the model, in a required group if
    the policy names any, and not the requester or the owner when duties are separated."""
    model = request.version.model
    users = get_user_model().objects.filter(is_active=True)
    required = request.policy["required_groups"]
    if required:
        users = users.filter(groups__name__in=required).distinct()
    excluded = (
        {request.requested_by_id, model.owner_id}
        if request.policy["separation_of_duties"]
        else set()
    )
    return [
        u
        for u in users.exclude(pk__in=excluded)
        if RegisteredModel.objects.restrict(u, Action.APPROVE).filter(pk=model.pk).exists()
    ]


def watchers(model_id: int) -> list[Any]:
    return [w.user for w in ModelWatch.objects.filter(model_id=model_id).select_related("user")]


def request_opened(request: ApprovalRequest) -> None:
    version = request.version
    notify(
        eligible_approvers(request),
        subject=f"Review requested: {request.get_kind_display().lower()} of {version}",
        body=f"{request.requested_by} asks for a decision. {request.comment}".strip(),
        url=request_url(request),
    )


def request_closed(request: ApprovalRequest) -> None:
    notify(
        [request.requested_by],
        subject=f"{request.get_kind_display()} of {request.version}: {request.get_state_display()}",
        url=request_url(request),
    )


def manifest_changed(request: ApprovalRequest, *, reviewers: Iterable[Any]) -> None:
    """The version's release manifest changed while the request was open: those who decided
    on the old one, and everyone who may decide, are asked to review the new one."""
    users = [*reviewers, *eligible_approvers(request), request.requested_by]
    notify(
        users,
        subject=f"Release manifest changed: {request.version} (request {request.pk})",
        body=(
            "An artifact of the version changed while its approval request was open. "
            "Decisions taken on the earlier manifest no longer count; review the new one."
        ),
        url=request_url(request),
    )


def revalidation_overdue(*, model: Any, due: Any, request: ApprovalRequest | None) -> None:
    """The model's revalidation lapsed: its owner, and whoever may decide the open request."""
    users = [model.owner, *(eligible_approvers(request) if request else [])]
    notify(
        users,
        subject=f"Revalidation overdue: {model} (due {due.isoformat()})",
        body="The model's periodic revalidation was not approved by its due date.",
        url=request_url(request) if request else "",
    )
