"""The administration area (admins only): approval policies per risk tier, users and their
roles; and every signed-in user's own API tokens. Thin views: they parse input, call the
services (which check the right and audit), and show the result."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from governance.approvals import policies
from governance.approvals import selectors as approval_selectors
from governance.approvals.models import ApprovalPolicy
from governance.audit.models import AuditEvent
from portal.accounts import services as accounts
from portal.administration.forms import ActiveForm, InviteForm, PolicyForm, RolesForm, TokenForm
from portal.models import ApiToken
from portal.registry_views import paginate
from portal.security.tokens import token_create, token_revoke_one
from registry.actors import acting_user
from registry.form_errors import show_service_error

USER_TYPE = "auth.user"


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied("This page is for administrators.")


def _message(exc: ValidationError | PermissionDenied) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc)


# --- the area's front page ------------------------------------------------------------------


@login_required
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    context = {
        "policies_allowed": policies.may_edit_policies(user),
        "users_allowed": accounts.may_administer_users(user),
    }
    _require(context["policies_allowed"] or context["users_allowed"])
    return render(request, "administration/index.html", context)


# --- approval policies ----------------------------------------------------------------------


@login_required
@require_safe
def policy_list(request: HttpRequest) -> HttpResponse:
    _require(policies.may_edit_policies(acting_user(request)))
    rows = ApprovalPolicy.objects.prefetch_related("required_groups").order_by("risk_tier")
    return render(request, "administration/policy_list.html", {"policies": rows})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def policy_edit(request: HttpRequest, risk_tier: str) -> HttpResponse:
    """One tier's policy: the form (each change a new audited version) and its history."""
    actor = acting_user(request)
    _require(policies.may_edit_policies(actor))
    policy = get_object_or_404(ApprovalPolicy, risk_tier=risk_tier)
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            before = policy.version
            try:
                policy = policies.policy_update(
                    policy=policy,
                    actor=actor,
                    reason=data["reason"],
                    required_groups=list(data["required_groups"]),
                    min_approvals=data["min_approvals"],
                    separation_of_duties=data["separation_of_duties"],
                    require_readiness=data["require_readiness"],
                    expiry_days=data["expiry_days"],
                )
            except (ValidationError, PermissionDenied) as exc:
                show_service_error(form, exc)
            else:
                if policy.version == before:
                    messages.info(request, "Nothing changed; the policy keeps its version.")
                else:
                    messages.success(
                        request,
                        f"The {policy.get_risk_tier_display().lower()} tier policy is now "
                        f"version {policy.version}.",
                    )
                return redirect("administration:policy-edit", risk_tier=policy.risk_tier)
    else:
        form = PolicyForm.for_policy(policy)
    versions = paginate(request, approval_selectors.policy_versions(risk_tier=policy.risk_tier))
    context = {"policy": policy, "form": form, "page_obj": versions}
    return render(request, "administration/policy_edit.html", context)


# --- users ----------------------------------------------------------------------------------


@login_required
@require_safe
def user_list(request: HttpRequest) -> HttpResponse:
    _require(accounts.may_administer_users(acting_user(request)))
    query = request.GET.get("q", "").strip()[:150]
    users = (
        User.objects.annotate(token_count=Count("api_tokens", distinct=True))
        .prefetch_related("groups")
        .order_by("username")
    )
    if query:
        users = users.filter(
            Q(username__icontains=query)
            | Q(email__icontains=query)
            | Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
        )
    page = paginate(request, users)
    rows = [{"user": u, "roles": accounts.user_roles(u)} for u in page.object_list]
    return render(
        request, "administration/user_list.html", {"page_obj": page, "rows": rows, "q": query}
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def user_invite(request: HttpRequest) -> HttpResponse:
    """Create a user without a password and show (and e-mail) the link to choose one."""
    actor = acting_user(request)
    _require(accounts.may_administer_users(actor))
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user, link = accounts.user_invite(
                actor=actor, base_url=request.build_absolute_uri("/"), **form.cleaned_data
            )
        except (ValidationError, PermissionDenied) as exc:
            show_service_error(form, exc)
        else:
            response = render(
                request, "administration/user_invited.html", {"invited": user, "link": link}
            )
            add_never_cache_headers(response)
            return response
    return render(request, "administration/user_invite.html", {"form": form})


def _target_user(request: HttpRequest, pk: int) -> tuple[User, User]:
    actor = acting_user(request)
    _require(accounts.may_administer_users(actor))
    return actor, get_object_or_404(User, pk=pk)


@login_required
@require_safe
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor, user = _target_user(request, pk)
    events = AuditEvent.objects.filter(target_type=USER_TYPE, target_id=str(user.pk)).order_by(
        "-seq"
    )[:20]
    context: dict[str, Any] = {
        "person": user,
        "roles": accounts.user_roles(user),
        "roles_form": RolesForm(initial={"roles": accounts.user_roles(user)}),
        "active_form": ActiveForm(initial={"active": "0" if user.is_active else "1"}),
        "tokens": ApiToken.objects.filter(user=user),
        "events": events,
        "is_self": user.pk == actor.pk,
    }
    return render(request, "administration/user_detail.html", context)


@login_required
@require_POST
def user_roles(request: HttpRequest, pk: int) -> HttpResponse:
    actor, user = _target_user(request, pk)
    form = RolesForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose roles from the list.")
        return redirect("administration:user-detail", pk=pk)
    try:
        roles = accounts.user_set_roles(actor=actor, user=user, roles=form.cleaned_data["roles"])
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(request, f"{user.username}'s roles: {', '.join(roles) or 'none'}.")
    return redirect("administration:user-detail", pk=pk)


@login_required
@require_POST
def user_active(request: HttpRequest, pk: int) -> HttpResponse:
    actor, user = _target_user(request, pk)
    form = ActiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose deactivate or reactivate.")
        return redirect("administration:user-detail", pk=pk)
    active = form.cleaned_data["active"]
    try:
        accounts.user_set_active(
            actor=actor, user=user, active=active, reason=form.cleaned_data["reason"]
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(
            request,
            f"{user.username} is reactivated."
            if active
            else f"{user.username} is deactivated; their API tokens are revoked.",
        )
    return redirect("administration:user-detail", pk=pk)


@login_required
@require_POST
def user_token_revoke(request: HttpRequest, pk: int, token_pk: int) -> HttpResponse:
    actor, user = _target_user(request, pk)
    token = get_object_or_404(ApiToken, pk=token_pk, user=user)
    try:
        token_revoke_one(actor=actor, token=token, reason="revoked by an administrator")
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Token {token} of {user.username} is revoked.")
    return redirect("administration:user-detail", pk=pk)


# --- the signed-in user's own API tokens ---------------------------------------------------


# Each token form carries a one-time value; the session keeps the last few it created a token
# for (the token's id, never its secret), so a reload of the creation answer creates nothing.
_FORMS_SENT = "token_forms_sent"
_FORMS_KEPT = 20


def _form_sent(request: HttpRequest, once: str) -> ApiToken | None:
    """The token an earlier submission of this very form created, if it is still there."""
    pk = request.session.get(_FORMS_SENT, {}).get(once) if once else None
    return ApiToken.objects.filter(user=acting_user(request), pk=pk).first() if pk else None


def _remember_form(request: HttpRequest, once: str, token: ApiToken) -> None:
    if once:
        sent = dict(request.session.get(_FORMS_SENT, {}))
        sent[once] = token.pk
        request.session[_FORMS_SENT] = dict(list(sent.items())[-_FORMS_KEPT:])


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """Your tokens; create one. The secret is in the creation answer only (never stored,
    never in a message or the session), so that answer is not cached; sending the same form
    again (a reload) names the token it made and creates no other."""
    actor = acting_user(request)
    form = TokenForm(request.POST or None)
    created: tuple[ApiToken, str] | None = None
    once = request.POST.get("once", "")[:64]
    resent = _form_sent(request, once) if request.method == "POST" else None
    if resent is not None:
        form = TokenForm()
    elif request.method == "POST" and form.is_valid():
        try:
            created = token_create(
                user=actor, name=form.cleaned_data["name"], expires_at=form.cleaned_expiry()
            )
        except (ValidationError, PermissionDenied) as exc:
            show_service_error(form, exc)
        else:
            _remember_form(request, once, created[0])
            form = TokenForm()
    page = paginate(request, ApiToken.objects.filter(user=actor))
    context = {
        "form": form,
        "form_once": secrets.token_urlsafe(16),
        "page_obj": page,
        "created": created[0] if created else None,
        "secret": created[1] if created else "",
        "resent": resent,
    }
    response = render(request, "administration/token_list.html", context)
    if created:
        add_never_cache_headers(response)
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of your tokens; another user's is a 404."""
    actor = acting_user(request)
    token = get_object_or_404(ApiToken.objects.filter(user=actor), pk=pk)
    token_revoke_one(actor=actor, token=token, reason="revoked by its holder")
    messages.success(request, f"Token {token} is revoked.")
    return redirect("account:tokens")


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """The invitation link: the invited user chooses a password (Django's reset tokens)."""

    template_name = "administration/set_password.html"
    success_url = reverse_lazy("login")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, "Your password is set. Sign in with it.")
        return response
