"""API tokens: several per user, each revocable; every token dies with a password change or a
deactivation, whichever path makes it (issue #19, 5 and 11); API answers are never cached."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from governance.models import AuditEvent
from portal.models import ApiToken
from portal.security.tokens import digest, token_create

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # factories.UserFactory's
TOKENS_URL = "/api/v1/auth/tokens/"


def with_token(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def works(secret: str) -> bool:
    return with_token(secret).get("/api/v1/models/").status_code == 200


# --- several named tokens ------------------------------------------------------------------


def test_a_user_holds_named_tokens_lists_them_without_secrets_and_revokes_one(owner):
    laptop = with_token(token_create(user=owner, name="bootstrap")[1])
    made = [laptop.post(TOKENS_URL, {"name": n}, format="json") for n in ("ci", "notebook")]
    assert [r.status_code for r in made] == [201, 201]
    ci, notebook = (r.json() for r in made)
    assert ApiToken.objects.get(pk=ci["id"]).digest == digest(ci["token"])
    listed = laptop.get(TOKENS_URL).json()
    assert [t["name"] for t in listed] == ["notebook", "ci", "bootstrap"]
    assert all("token" not in t and "digest" not in t for t in listed)
    assert laptop.delete(f"{TOKENS_URL}{ci['id']}/").status_code == 204
    assert not works(ci["token"]) and works(notebook["token"])
    event = AuditEvent.objects.filter(action="auth.token_revoked").latest("seq")
    assert event.after["tokens"] == [f"#{ci['id']} ci ({ci['prefix']}…)"]
    assert ci["token"] not in str(AuditEvent.objects.values_list("after", flat=True))


def test_the_password_endpoint_gives_each_client_its_own_token(api, owner):
    first = api.post("/api/v1/auth/token/", {"username": owner.username, "password": PASSWORD})
    second = api.post(
        "/api/v1/auth/token/",
        {"username": owner.username, "password": PASSWORD, "name": "cron"},
        format="json",
    )
    a, b = first.json()["token"], second.json()["token"]
    assert a != b and second.json()["name"] == "cron"
    assert with_token(a).delete("/api/v1/auth/token/").status_code == 204
    assert not works(a) and works(b)


def test_another_users_token_is_not_found(owner, outsider):
    token, _ = token_create(user=owner, name="mine")
    _, theirs = token_create(user=outsider, name="theirs")
    assert with_token(theirs).delete(f"{TOKENS_URL}{token.pk}/").status_code == 404
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_expiry_is_optional_in_the_future_and_within_the_ttl(owner, settings):
    client = with_token(token_create(user=owner, name="t")[1])
    now = dt.datetime.now(dt.UTC)
    soon = client.post(TOKENS_URL, {"name": "a", "expires_at": (now + dt.timedelta(hours=1))})
    assert soon.status_code == 201
    assert dt.datetime.fromisoformat(soon.json()["expires_at"]) < now + dt.timedelta(hours=2)
    for when in (now - dt.timedelta(seconds=1), now + dt.timedelta(days=999)):
        refused = client.post(TOKENS_URL, {"name": "b", "expires_at": when.isoformat()})
        assert refused.status_code == 400 and "expires_at" in refused.json()


def test_past_the_limit_the_oldest_token_is_revoked(owner, settings):
    settings.STEWARD_MAX_TOKENS_PER_USER = 2
    secrets = [token_create(user=owner, name=f"t{i}")[1] for i in range(3)]
    assert [works(s) for s in secrets] == [False, True, True]
    event = AuditEvent.objects.filter(action="auth.token_revoked").latest("seq")
    assert event.after["reason"] == "token limit reached"


def test_existing_drf_tokens_are_moved_with_their_secret_and_age(owner):
    migration = importlib.import_module("portal.migrations.0001_apihard_api_tokens")
    Token.objects.create(user=owner, key="a" * 40)
    migration.copy_drf_tokens(django_apps, None)
    assert not Token.objects.exists()
    assert works("a" * 40)
    assert ApiToken.objects.get(user=owner).name == "default"


# --- password changes and deactivation revoke every token ----------------------------------


def revoked_for(user, reason: str) -> bool:
    events = AuditEvent.objects.filter(action="auth.token_revoked", target_id=str(user.pk))
    return any(e.after["reason"] == reason for e in events)


def test_the_password_change_form_revokes_the_users_tokens(owner):
    _, secret = token_create(user=owner, name="t")
    form = PasswordChangeForm(
        owner,
        {
            "old_password": PASSWORD,
            "new_password1": "n3w-Passw0rd!x",
            "new_password2": "n3w-Passw0rd!x",
        },
    )
    assert form.is_valid(), form.errors
    form.save()
    assert not works(secret) and revoked_for(owner, "password changed")


def test_an_admin_setting_a_password_revokes_the_users_tokens(client, admin, owner):
    _, secret = token_create(user=owner, name="t")
    client.force_login(admin)
    response = client.post(
        f"/admin/auth/user/{owner.pk}/password/",
        {"password1": "n3w-Passw0rd!x", "password2": "n3w-Passw0rd!x", "usable_password": "true"},
    )
    assert response.status_code == 302, response.content[:500]
    assert not works(secret) and revoked_for(owner, "password changed")


def test_set_password_in_code_revokes_and_a_sign_in_rehash_does_not(owner, settings):
    _, kept = token_create(user=owner, name="kept")
    owner.password = make_password(PASSWORD, hasher="md5")  # a hash stored directly
    owner.save()  # the hash changed: that counts as a new password
    assert not works(kept)
    _, kept = token_create(user=owner, name="kept")
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    assert owner.check_password(PASSWORD)  # Django re-hashes it with PBKDF2 and saves
    assert User.objects.get(pk=owner.pk).password.startswith("pbkdf2_")
    assert works(kept)
    owner.set_password("another-Passw0rd!")
    owner.save()
    assert not works(kept)


def test_deactivation_in_the_admin_or_in_code_revokes_the_users_tokens(client, admin, owner):
    _, secret = token_create(user=owner, name="t")
    assert works(secret)
    client.force_login(admin)
    page = client.get(f"/admin/auth/user/{owner.pk}/change/")
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "is_active"}
    data |= {"groups": [g.pk for g in owner.groups.all()], "user_permissions": []}
    data |= {"date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"}
    response = client.post(f"/admin/auth/user/{owner.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    owner.refresh_from_db()
    assert not owner.is_active
    assert ApiToken.objects.filter(user=owner).count() == 0 and not works(secret)
    assert revoked_for(owner, "account deactivated")
    # Reactivated and deactivated in code: the tokens issued in between die too.
    owner.is_active = True
    owner.save()
    _, again = token_create(user=owner, name="t2")
    owner.is_active = False
    owner.save()
    assert ApiToken.objects.filter(user=owner).count() == 0 and not works(again)


def test_a_deactivation_behind_save_leaves_no_token_to_revive(owner):
    _, secret = token_create(user=owner, name="t")
    User.objects.filter(pk=owner.pk).update(is_active=False)  # no signal runs
    assert not works(secret)  # refused at authentication
    owner.refresh_from_db()
    owner.is_active = True
    owner.save()
    assert not works(secret) and revoked_for(owner, "account reactivated")


def test_a_sign_in_does_not_revoke_tokens(client, owner):
    _, secret = token_create(user=owner, name="t")
    assert client.login(username=owner.username, password=PASSWORD)
    assert works(secret)


# --- no caching of API answers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "signed_in", "status"),
    [
        ("get", "/api/v1/models/", True, 200),
        ("get", "/api/v1/models/no-such-model/", True, 404),
        ("get", "/api/v1/models/", False, 401),
        ("get", TOKENS_URL, True, 200),
        ("post", "/api/v1/auth/token/", False, 400),
    ],
)
def test_api_answers_and_errors_say_no_store(owner, method, path, signed_in, status):
    client = APIClient()
    if signed_in:
        client.force_authenticate(user=owner)
    response = getattr(client, method)(path, {}, format="json")
    assert response.status_code == status
    assert "no-store" in response["Cache-Control"]


def test_a_new_token_and_a_413_say_no_store(api, owner, settings):
    issued = api.post("/api/v1/auth/token/", {"username": owner.username, "password": PASSWORD})
    assert issued.status_code == 200 and "no-store" in issued["Cache-Control"]
    settings.STEWARD_MAX_REQUEST_BYTES = 10
    too_large = api.post("/api/v1/auth/token/", {"username": "x" * 50}, format="json")
    assert too_large.status_code == 413 and "no-store" in too_large["Cache-Control"]


def test_pages_for_people_keep_their_own_caching(client, owner):
    client.force_login(owner)
    assert "no-store" not in client.get("/").get("Cache-Control", "")
