"""The administration area (issue #17, part 5): approval policies per tier, users and roles,
grants per model with their history, and every user's own API tokens. Each form: success with
its audit entry, a bad value beside its field with nothing stored, and a user without the right
refused as the API refuses. List pages keep their query count as rows grow."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from governance.access import services as access
from governance.approvals.models import ApprovalPolicy, ApprovalPolicyVersion
from governance.audit.models import AuditEvent
from portal.accounts import services as accounts
from portal.models import ApiToken
from portal.security.tokens import digest, token_create
from registry.roles import ADMINS, AUDITORS, DATA_SCIENTISTS, REVIEWERS
from tests import factories

pytestmark = pytest.mark.django_db


def signed_in(client: Any, user: User) -> Any:
    client.force_login(user)
    return client


def error_beside(response: Any, field: str) -> str:
    """The error text shown beside `field` (includes/form_fields.html), asserting the field is
    marked invalid."""
    html = response.content.decode()
    match = re.search(rf'<div class="text-danger" id="id_{field}_error">(.*?)</div>', html, re.S)
    assert match, f"no error beside {field}"
    assert re.search(rf'<[^>]*aria-invalid="true"[^>]*id="id_{field}(_0)?"', html) or re.search(
        rf'<[^>]*id="id_{field}(_0)?"[^>]*aria-invalid="true"', html
    ), f"{field} is not marked aria-invalid"
    return re.sub(r"<[^>]+>", "", match.group(1))


def audit_count(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def boss(db) -> User:
    """A member of the admins role who is not a superuser."""
    return factories.UserFactory(username="boss", roles=[ADMINS])


# --- the area and the navigation ------------------------------------------------------------


def test_the_admins_role_may_administer_users_after_migrate(boss, owner, reviewer):
    assert accounts.may_administer_users(boss)
    assert not accounts.may_administer_users(owner)
    assert not accounts.may_administer_users(reviewer)


def test_the_nav_links_administration_for_admins_only_and_tokens_for_everyone(
    client, admin, boss, owner
):
    admin_link = f'href="{reverse("administration:index")}"'
    tokens_link = f'href="{reverse("account:tokens")}"'
    for user, sees_admin in ((admin, True), (boss, True), (owner, False)):
        html = signed_in(client, user).get("/").content.decode()
        assert (admin_link in html) is sees_admin, user
        assert tokens_link in html
    assert signed_in(client, owner).get(reverse("administration:index")).status_code == 403
    assert signed_in(client, boss).get(reverse("administration:index")).status_code == 200


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("administration:index", {}),
        ("administration:policy-list", {}),
        ("administration:policy-edit", {"risk_tier": "high"}),
        ("administration:user-list", {}),
        ("administration:user-invite", {}),
    ],
)
def test_pages_without_an_object_id_ask_for_a_sign_in_then_refuse_non_admins(
    client, owner, reviewer, name, kwargs
):
    url = reverse(name, kwargs=kwargs)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    for user in (owner, reviewer):
        assert signed_in(client, user).get(url).status_code == 403


# --- approval policies ----------------------------------------------------------------------


def policy_post(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "min_approvals": "3",
        "required_groups": [REVIEWERS, ADMINS],
        "separation_of_duties": "on",
        "require_readiness": "on",
        "expiry_days": "21",
        "reason": "three approvals for high-risk models from Q1",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_an_admin_changes_a_tiers_quorum_as_a_new_audited_version(client, admin):
    policy = ApprovalPolicy.objects.get(risk_tier="high")
    url = reverse("administration:policy-edit", kwargs={"risk_tier": "high"})
    response = signed_in(client, admin).post(url, policy_post())
    assert response.status_code == 302 and response["Location"] == url
    policy.refresh_from_db()
    assert policy.min_approvals == 3 and policy.expiry_days == 21
    assert sorted(g.name for g in policy.required_groups.all()) == [ADMINS, REVIEWERS]
    stored = ApprovalPolicyVersion.objects.get(risk_tier="high", number=policy.version)
    assert stored.changed_by == admin and stored.reason.startswith("three approvals")
    event = AuditEvent.objects.filter(action="governance.approval.policy.changed").last()
    assert event is not None and event.actor == admin
    assert event.after["min_approvals"] == 3 and event.after["reason"].startswith("three")
    page = client.get(url)
    html = page.content.decode()
    assert f"v{policy.version}" in html and "three approvals for high-risk" in html
    assert "is now version" in " ".join(messages_of(page))
    listing = client.get(reverse("administration:policy-list")).content.decode()
    assert url in listing


def test_a_policy_form_unchanged_keeps_the_version(client, admin):
    policy = ApprovalPolicy.objects.get(risk_tier="low")
    data = {
        "min_approvals": str(policy.min_approvals),
        "required_groups": [g.name for g in policy.required_groups.all()],
        "expiry_days": str(policy.expiry_days or ""),
        "reason": "no change",
    }
    if policy.separation_of_duties:
        data["separation_of_duties"] = "on"
    if policy.require_readiness:
        data["require_readiness"] = "on"
    before = audit_count("governance.approval.policy.changed")
    url = reverse("administration:policy-edit", kwargs={"risk_tier": "low"})
    signed_in(client, admin).post(url, data)
    policy_after = ApprovalPolicy.objects.get(risk_tier="low")
    assert policy_after.version == policy.version
    assert audit_count("governance.approval.policy.changed") == before


@pytest.mark.parametrize(
    "field,value,says",
    [
        ("min_approvals", "0", "greater than or equal to 1"),
        ("min_approvals", "many", "whole number"),
        ("expiry_days", "0", "greater than or equal to 1"),
        ("required_groups", ["no-such-group"], "valid choice"),
        ("reason", "", "required"),
    ],
)
def test_a_bad_policy_value_is_shown_beside_its_field_and_nothing_is_stored(
    client, admin, field, value, says
):
    policy = ApprovalPolicy.objects.get(risk_tier="high")
    signed_in(client, admin)
    versions = ApprovalPolicyVersion.objects.count()
    events = AuditEvent.objects.count()
    url = reverse("administration:policy-edit", kwargs={"risk_tier": "high"})
    response = client.post(url, policy_post(**{field: value}))
    assert response.status_code == 200
    assert says in error_beside(response, field)
    policy.refresh_from_db()
    assert policy.version == ApprovalPolicy.objects.get(risk_tier="high").version
    assert policy.min_approvals != 3
    assert ApprovalPolicyVersion.objects.count() == versions
    assert AuditEvent.objects.count() == events


def test_a_non_admin_may_not_change_a_policy(client, owner, reviewer):
    policy = ApprovalPolicy.objects.get(risk_tier="high")
    url = reverse("administration:policy-edit", kwargs={"risk_tier": "high"})
    for user in (owner, reviewer):
        assert signed_in(client, user).post(url, policy_post()).status_code == 403
    assert ApprovalPolicy.objects.get(risk_tier="high").version == policy.version


def test_an_unknown_tier_is_a_404_for_an_admin(client, admin):
    url = reverse("administration:policy-edit", kwargs={"risk_tier": "extreme"})
    assert signed_in(client, admin).get(url).status_code == 404


def test_the_policy_history_keeps_its_query_count(client, admin, django_assert_max_num_queries):
    policy = ApprovalPolicy.objects.get(risk_tier="medium")
    url = reverse("administration:policy-edit", kwargs={"risk_tier": "medium"})
    signed_in(client, admin)
    client.get(url)

    def change(n: int) -> None:
        from governance.approvals.policies import policy_update

        for i in range(n):
            policy_update(policy=policy, actor=admin, reason=f"r{i}", expiry_days=10 + i)

    change(1)
    with django_assert_max_num_queries(20) as few:
        client.get(url)
    change(12)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("administration:policy-list")).status_code == 200


# --- users ----------------------------------------------------------------------------------


def invite_post(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "username": "nina",
        "email": "nina@example.org",
        "first_name": "Nina",
        "last_name": "Okafor",
        "roles": [REVIEWERS],
    }
    data.update(changes)
    return data


def test_an_admin_invites_a_user_who_sets_a_password_through_the_link(
    client, admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(client, admin).post(
            reverse("administration:user-invite"), invite_post()
        )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    nina = User.objects.get(username="nina")
    assert nina.is_active and not nina.has_usable_password()
    assert accounts.user_roles(nina) == [REVIEWERS]
    event = AuditEvent.objects.get(action="auth.user.invited")
    assert event.actor == admin and event.target_id == str(nina.pk)
    assert event.after["roles"] == [REVIEWERS]
    link = response.context["link"]
    assert link in response.content.decode()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["nina@example.org"]
    assert link in mail.outbox[0].body
    # The invited user, signed out, follows the link and chooses a password.
    client.logout()
    path = link.removeprefix("http://testserver")
    step = client.get(path)
    assert step.status_code == 302  # Django moves the token into the session
    form_url = step["Location"]
    bad = client.post(form_url, {"new_password1": "short", "new_password2": "other"})
    assert bad.status_code == 200 and error_beside(bad, "new_password2")
    chosen = "a long enough passphrase 42"
    done = client.post(form_url, {"new_password1": chosen, "new_password2": chosen})
    assert done.status_code == 302 and done["Location"] == reverse("login")
    nina.refresh_from_db()
    assert nina.check_password("a long enough passphrase 42")
    assert client.login(username="nina", password="a long enough passphrase 42")
    client.logout()
    # The link worked once.
    again = client.get(path, follow=True)
    assert "no longer works" in again.content.decode()


@pytest.mark.parametrize(
    "field,value,says",
    [
        ("username", "Admin-Taken", "already exists"),
        ("username", "bad name!", "valid username"),
        ("email", "not-an-address", "valid email"),
        ("roles", ["superheroes"], "valid choice"),
    ],
)
def test_a_bad_invitation_is_shown_beside_its_field_and_nothing_is_stored(
    client, admin, field, value, says, django_capture_on_commit_callbacks
):
    factories.UserFactory(username="admin-taken")
    signed_in(client, admin)
    users, events = User.objects.count(), AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("administration:user-invite"), invite_post(**{field: value}))
    assert response.status_code == 200
    assert says in error_beside(response, field)
    assert User.objects.count() == users and AuditEvent.objects.count() == events
    assert mail.outbox == []


def test_a_non_admin_may_not_invite(client, owner):
    response = signed_in(client, owner).post(reverse("administration:user-invite"), invite_post())
    assert response.status_code == 403
    assert not User.objects.filter(username="nina").exists()


def test_deactivating_a_user_revokes_their_tokens_and_is_audited(client, admin, owner):
    token_create(user=owner, name="ci")
    token_create(user=owner, name="laptop")
    url = reverse("administration:user-active", kwargs={"pk": owner.pk})
    response = signed_in(client, admin).post(url, {"active": "0", "reason": "left the team"})
    assert response.status_code == 302
    owner.refresh_from_db()
    assert not owner.is_active
    assert not ApiToken.objects.filter(user=owner).exists()
    event = AuditEvent.objects.get(action="auth.user.deactivated")
    assert event.actor == admin and event.after["reason"] == "left the team"
    revoked = AuditEvent.objects.get(action="auth.token_revoked", target_id=str(owner.pk))
    assert revoked.actor_name == "account-security" and len(revoked.after["tokens"]) == 2
    # Reactivated: signs in again, the old tokens stay revoked.
    client.post(url, {"active": "1"})
    owner.refresh_from_db()
    assert owner.is_active and not ApiToken.objects.filter(user=owner).exists()
    assert AuditEvent.objects.filter(action="auth.user.reactivated").count() == 1


def test_deactivation_by_any_path_revokes_tokens(owner):
    """The account-security receiver, not the page, does it: a plain save() too."""
    token_create(user=owner, name="ci")
    owner.is_active = False
    owner.save()
    assert not ApiToken.objects.filter(user=owner).exists()


def test_an_admin_sets_roles_keeping_other_groups(client, admin, owner):
    other = Group.objects.create(name="fraud-team")
    owner.groups.add(other)
    url = reverse("administration:user-roles", kwargs={"pk": owner.pk})
    response = signed_in(client, admin).post(url, {"roles": [REVIEWERS, AUDITORS]})
    assert response.status_code == 302
    assert sorted(g.name for g in owner.groups.all()) == sorted([REVIEWERS, AUDITORS, "fraud-team"])
    event = AuditEvent.objects.get(action="auth.user.roles_changed")
    assert event.before["roles"] == [DATA_SCIENTISTS]
    assert event.after["roles"] == [REVIEWERS, AUDITORS]
    detail = client.get(reverse("administration:user-detail", kwargs={"pk": owner.pk}))
    assert "auth.user.roles_changed" in detail.content.decode()


def test_a_bad_role_or_a_refused_change_stores_nothing(client, admin, boss, owner):
    url = reverse("administration:user-roles", kwargs={"pk": owner.pk})
    response = signed_in(client, admin).post(url, {"roles": ["superheroes"]}, follow=True)
    assert "Choose roles from the list." in messages_of(response)
    # Nobody changes their own roles or state here.
    own = reverse("administration:user-roles", kwargs={"pk": admin.pk})
    response = client.post(own, {"roles": [REVIEWERS]}, follow=True)
    assert any("your own roles" in m for m in messages_of(response))
    own_state = reverse("administration:user-active", kwargs={"pk": admin.pk})
    response = client.post(own_state, {"active": "0"}, follow=True)
    assert any("your own account" in m for m in messages_of(response))
    # An admin who is not a superuser leaves a superuser's account alone.
    response = signed_in(client, boss).post(own_state, {"active": "0"}, follow=True)
    assert any("superuser" in m for m in messages_of(response))
    admin.refresh_from_db()
    assert admin.is_active and not admin.groups.exists()
    assert accounts.user_roles(owner) == [DATA_SCIENTISTS]
    assert not AuditEvent.objects.filter(action__startswith="auth.user.").exists()


def test_an_admin_revokes_another_users_token_from_the_user_page(client, boss, owner, outsider):
    token, _ = token_create(user=owner, name="ci")
    kept, _ = token_create(user=owner, name="laptop")
    others, _ = token_create(user=outsider, name="theirs")
    signed_in(client, boss)
    page = client.get(reverse("administration:user-detail", kwargs={"pk": owner.pk}))
    assert "ci" in page.content.decode() and token.prefix in page.content.decode()
    wrong_user = reverse(
        "administration:user-token-revoke", kwargs={"pk": owner.pk, "token_pk": others.pk}
    )
    assert client.post(wrong_user).status_code == 404
    url = reverse("administration:user-token-revoke", kwargs={"pk": owner.pk, "token_pk": token.pk})
    assert client.post(url).status_code == 302
    assert list(ApiToken.objects.filter(user=owner)) == [kept]
    assert ApiToken.objects.filter(pk=others.pk).exists()
    event = AuditEvent.objects.filter(action="auth.token_revoked").last()
    assert event is not None and event.actor == boss
    assert event.after["reason"] == "revoked by an administrator"


@pytest.mark.parametrize(
    "name,method,data",
    [
        ("administration:user-detail", "get", None),
        ("administration:user-roles", "post", {"roles": [ADMINS]}),
        ("administration:user-active", "post", {"active": "0"}),
    ],
)
def test_a_non_admin_gets_403_on_a_user_page_and_changes_nothing(
    client, owner, reviewer, name, method, data
):
    token_create(user=reviewer, name="ci")
    url = reverse(name, kwargs={"pk": reviewer.pk})
    response = getattr(signed_in(client, owner), method)(url, data or {})
    assert response.status_code == 403
    reviewer.refresh_from_db()
    assert reviewer.is_active and accounts.user_roles(reviewer) == [REVIEWERS]
    assert ApiToken.objects.filter(user=reviewer).count() == 1


def test_the_user_list_keeps_its_query_count(client, admin, django_assert_max_num_queries):
    signed_in(client, admin)
    url = reverse("administration:user-list")
    client.get(url)
    for i in range(2):
        user = factories.UserFactory(username=f"few{i}", roles=[REVIEWERS])
        token_create(user=user, name="t")
    with django_assert_max_num_queries(20) as few:
        assert client.get(url).status_code == 200
    for i in range(20):
        user = factories.UserFactory(username=f"many{i}", roles=[REVIEWERS, AUDITORS])
        token_create(user=user, name="t")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert "many19" in response.content.decode() or response.context["page_obj"].has_next()


def test_the_user_list_searches_and_says_when_nothing_matches(client, admin, owner):
    signed_in(client, admin)
    html = client.get(reverse("administration:user-list"), {"q": "oliv"}).content.decode()
    assert reverse("administration:user-detail", kwargs={"pk": owner.pk}) in html
    assert reverse("administration:user-detail", kwargs={"pk": admin.pk}) not in html
    html = client.get(reverse("administration:user-list"), {"q": "zzz"}).content.decode()
    assert "No user matches" in html


# --- grants per model -----------------------------------------------------------------------


def test_the_grants_page_shows_current_grants_and_who_granted_what_when(
    client, owner, outsider, admin, model_a
):
    access.access_grant(model=model_a, principal=outsider, actions=["view"], actor=owner)
    access.access_grant(model=model_a, principal=outsider, actions=["change"], actor=owner)
    access.access_revoke(model=model_a, principal=outsider, actions=["change"], actor=admin)
    url = reverse("governance:model-grants", kwargs={"slug": model_a.slug})
    response = signed_in(client, owner).get(url)
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(r["granted"], r["event"].actor_name, r["principal"], r["changed"]) for r in rows] == [
        (False, "ada", "oscar", ["change"]),
        (True, "olivia", "oscar", ["change"]),
        (True, "olivia", "oscar", ["view"]),
    ]
    assert {"user": "oscar", "actions": ["view"]} in response.context["grants"]
    assert signed_in(client, admin).get(url).status_code == 200
    detail = client.get(reverse("registry:model-detail", kwargs={"slug": model_a.slug}))
    assert url in detail.content.decode()


def test_the_grants_page_is_404_unseen_and_403_without_manage_access(
    client, owner, outsider, reviewer, model_a
):
    url = reverse("governance:model-grants", kwargs={"slug": model_a.slug})
    assert signed_in(client, outsider).get(url).status_code == 404
    assert signed_in(client, reviewer).get(url).status_code == 403
    access.access_grant(model=model_a, principal=outsider, actions=["view"], actor=owner)
    response = signed_in(client, outsider).get(url)
    assert response.status_code == 403 and b"Who granted what" not in response.content


def test_a_model_nobody_granted_on_says_so(client, owner, model_a):
    url = reverse("governance:model-grants", kwargs={"slug": model_a.slug})
    html = signed_in(client, owner).get(url).content.decode()
    assert "Nobody has granted or revoked a right on this model yet." in html


def test_the_grants_page_keeps_its_query_count(
    client, owner, model_a, django_assert_max_num_queries
):
    url = reverse("governance:model-grants", kwargs={"slug": model_a.slug})
    signed_in(client, owner)
    client.get(url)

    def grant(names: list[str]) -> None:
        for name in names:
            user = factories.UserFactory(username=name)
            access.access_grant(model=model_a, principal=user, actions=["view"], actor=owner)

    grant(["g0", "g1"])
    with django_assert_max_num_queries(30) as few:
        client.get(url)
    grant([f"h{i}" for i in range(15)])
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(response.context["rows"]) == 17


# --- my API tokens --------------------------------------------------------------------------


def test_a_user_creates_a_token_and_sees_its_secret_once(client, owner):
    url = reverse("account:tokens")
    response = signed_in(client, owner).post(url, {"name": "ci-deploy"})
    assert response.status_code == 200
    secret = response.context["secret"]
    token = ApiToken.objects.get(user=owner)
    assert token.name == "ci-deploy" and token.digest == digest(secret)
    assert secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    issued = AuditEvent.objects.get(action="auth.token_issued")
    assert issued.actor == owner and secret not in str(issued.after)
    listing = client.get(url).content.decode()
    assert "ci-deploy" in listing and token.prefix in listing and secret not in listing


def test_sending_the_token_form_again_creates_no_second_token(client, owner):
    """A reload of the creation answer re-posts the form: it names the token made the first
    time and creates none (found walking the UI, #17)."""
    url = reverse("account:tokens")
    form = signed_in(client, owner).get(url).context["form_once"]
    first = client.post(url, {"name": "ci-deploy", "once": form})
    again = client.post(url, {"name": "ci-deploy", "once": form})
    assert ApiToken.objects.filter(user=owner).count() == 1
    assert AuditEvent.objects.filter(action="auth.token_issued").count() == 1
    page = again.content.decode()
    assert again.status_code == 200 and again.context["secret"] == ""
    assert first.context["secret"] not in page
    assert "was already sent" in page and "ci-deploy" in page
    # The answer offers a fresh form: a new token is one more submission away.
    fresh = again.context["form_once"]
    assert fresh != form
    client.post(url, {"name": "second", "once": fresh})
    assert ApiToken.objects.filter(user=owner).count() == 2


def test_a_token_may_expire_earlier_but_not_in_the_past(client, owner):
    url = reverse("account:tokens")
    signed_in(client, owner)
    past = (timezone.localtime() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, {"name": "old", "expires_at": past})
    assert response.status_code == 200 and "must be in the future" in error_beside(
        response, "expires_at"
    )
    response = client.post(url, {"name": ""})
    assert "required" in error_beside(response, "name")
    assert not ApiToken.objects.exists()
    assert not AuditEvent.objects.filter(action="auth.token_issued").exists()
    soon = (timezone.localtime() + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    client.post(url, {"name": "short-lived", "expires_at": soon})
    token = ApiToken.objects.get(user=owner)
    assert token.expires_at - timezone.now() < dt.timedelta(hours=2)


def test_a_user_revokes_their_token_and_not_anothers(client, owner, outsider):
    mine, _ = token_create(user=owner, name="mine")
    theirs, _ = token_create(user=outsider, name="theirs")
    signed_in(client, owner)
    other = reverse("account:token-revoke", kwargs={"pk": theirs.pk})
    assert client.post(other).status_code == 404
    response = client.post(reverse("account:token-revoke", kwargs={"pk": mine.pk}))
    assert response.status_code == 302 and response["Location"] == reverse("account:tokens")
    assert not ApiToken.objects.filter(pk=mine.pk).exists()
    assert ApiToken.objects.filter(pk=theirs.pk).exists()
    event = AuditEvent.objects.filter(action="auth.token_revoked").last()
    assert event is not None and event.actor == owner
    assert "You hold no API token" in client.get(reverse("account:tokens")).content.decode()


def test_the_token_pages_ask_for_a_sign_in(client, owner):
    token, _ = token_create(user=owner, name="mine")
    for method, url in (
        ("get", reverse("account:tokens")),
        ("post", reverse("account:tokens")),
        ("post", reverse("account:token-revoke", kwargs={"pk": token.pk})),
    ):
        response = getattr(client, method)(url, {"name": "x"} if method == "post" else None)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert ApiToken.objects.count() == 1


def test_the_token_list_keeps_its_query_count(client, owner, django_assert_max_num_queries):
    url = reverse("account:tokens")
    signed_in(client, owner)
    client.get(url)
    token_create(user=owner, name="one")
    with django_assert_max_num_queries(20) as few:
        client.get(url)
    for i in range(8):
        token_create(user=owner, name=f"t{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_the_user_page_offers_the_change_the_account_can_take(client, admin, owner):
    url = reverse("administration:user-detail", kwargs={"pk": owner.pk})
    html = signed_in(client, admin).get(url).content.decode()
    assert 'name="active" value="0"' in html and f"Deactivate {owner.username}" in html
    assert '<label for="id_reason">Reason</label>' in html
    client.post(reverse("administration:user-active", kwargs={"pk": owner.pk}), {"active": "0"})
    html = client.get(url).content.decode()
    assert 'name="active" value="1"' in html and f"Reactivate {owner.username}" in html


def test_an_invitation_stands_when_the_mail_cannot_go(
    client, admin, monkeypatch, django_capture_on_commit_callbacks
):
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError("no mail server")

    monkeypatch.setattr(accounts, "_mail_invitation", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(client, admin).post(
            reverse("administration:user-invite"), invite_post()
        )
    assert response.status_code == 200 and response.context["link"]
    assert User.objects.filter(username="nina").exists()


def test_an_admin_who_is_not_a_superuser_leaves_a_superusers_tokens(client, boss, admin):
    token, _ = token_create(user=admin, name="root")
    url = reverse("administration:user-token-revoke", kwargs={"pk": admin.pk, "token_pk": token.pk})
    response = signed_in(client, boss).post(url, follow=True)
    assert any("another user's tokens" in m for m in messages_of(response))
    assert ApiToken.objects.filter(pk=token.pk).exists()
