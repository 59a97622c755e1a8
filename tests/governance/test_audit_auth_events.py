"""Signing in, signing out and failed sign-ins are in the audit log, with the user name and
never the password."""

from __future__ import annotations

import json

import pytest

from governance.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # factories.UserFactory's


def entries(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


def test_signing_in_through_the_login_page_is_recorded_with_the_request(client, owner):
    response = client.post(
        "/login/",
        {"username": owner.username, "password": PASSWORD},
        HTTP_X_REQUEST_ID="login-42",
    )
    assert response.status_code == 302
    [event] = entries("auth.login")
    assert (event.actor_id, event.actor_name) == (owner.pk, owner.username)
    assert (event.target_type, event.target_id) == ("auth.user", str(owner.pk))
    assert (event.request_id, event.remote_addr) == ("login-42", "127.0.0.1")


def test_signing_out_is_recorded_for_the_user_who_left(client, owner):
    client.force_login(owner)
    client.post("/logout/")
    [event] = entries("auth.logout")
    assert (event.actor_id, event.actor_name) == (owner.pk, owner.username)


def test_signing_out_when_nobody_was_signed_in_is_recorded_as_anonymous(client, db):
    client.post("/logout/")
    [event] = entries("auth.logout")
    assert (event.actor_id, event.actor_name, event.target_type) == (None, "anonymous", "")


def test_a_failed_sign_in_keeps_the_user_name_and_never_the_password(api, owner):
    wrong = "Tr0ub4dor&3-not-the-password"
    response = api.post(
        "/api/v1/auth/token/",
        {"username": owner.username, "password": wrong},
        format="json",
        HTTP_X_REQUEST_ID="bad-login-1",
    )
    assert response.status_code == 400
    [event] = entries("auth.login_failed")
    assert event.after == {"username": owner.username}
    assert (event.actor_id, event.actor_name) == (None, "anonymous")
    assert (event.target_type, event.target_id) == ("auth.user", str(owner.pk))
    assert event.request_id == "bad-login-1"
    stored = json.dumps(event.as_chain_entry())
    assert wrong not in stored and "*****" not in stored


def test_a_failed_sign_in_as_nobody_we_know_is_recorded_without_a_target(client, db):
    assert not client.login(username="mallory", password="guess")
    [event] = entries("auth.login_failed")
    assert event.after == {"username": "mallory"} and event.target_type == ""


def test_a_very_long_user_name_is_cut_to_the_field_length(client, db):
    client.login(username="m" * 5000, password="guess")
    [event] = entries("auth.login_failed")
    assert event.after == {"username": "m" * 150}
