"""The administration area in a real browser (issue #17, part 5): an admin changes a tier's
quorum (a bad value first, shown beside its field), invites a user; the invited user chooses a
password through the link, then creates an API token and revokes it. No CSP violation on any
page (the `page` fixture fails on one; the second context checks the same)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from governance.approvals.models import ApprovalPolicy
from portal.models import ApiToken
from tests import factories

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "a long enough passphrase 42"


def nav(tab: Any) -> Any:
    return tab.get_by_role("navigation", name="Main")


def watch_csp(tab: Any, errors: list[str]) -> None:
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )


def test_an_admin_sets_a_quorum_and_invites_a_user_who_manages_a_token(
    page, browser, live_server, login, screenshot, transactional_db
):
    factories.UserFactory(username="ada", is_superuser=True, is_staff=True)
    login(page, "ada")

    # The quorum of the high tier: a bad value first, then 3.
    nav(page).get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="Approval policies").click()
    page.get_by_role("link", name="Edit the high tier policy").click()
    page.get_by_label("Approvals needed").fill("0")
    page.get_by_label("Reason for the change").fill("stricter review")
    page.get_by_role("button", name="Save policy").click()
    error = page.locator("#id_min_approvals_error")
    expect(error).to_contain_text("greater than or equal to 1", use_inner_text=True)
    assert page.get_by_label("Approvals needed").get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "id_min_approvals"
    screenshot(page, "admin-policy-error")
    page.get_by_label("Approvals needed").fill("3")
    page.get_by_role("button", name="Save policy").click()
    expect(page.locator(".messages")).to_contain_text("is now version 2", use_inner_text=True)
    expect(page.locator("table")).to_contain_text("stricter review", use_inner_text=True)
    screenshot(page, "admin-policy-saved")
    assert ApprovalPolicy.objects.get(risk_tier="high").min_approvals == 3

    # Invite a reviewer.
    nav(page).get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="Users and roles").click()
    page.get_by_role("link", name="Invite a user").click()
    page.get_by_label("User name").fill("nina")
    page.get_by_label("E-mail").fill("nina@example.org")
    page.get_by_label("reviewers").check()
    page.get_by_role("button", name="Invite").click()
    link = page.get_by_label("Link for nina").input_value()
    assert "/account/set-password/" in link
    screenshot(page, "admin-user-invited")

    # The invited user, in a browser of their own.
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=live_server.url)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    watch_csp(tab, errors)
    try:
        tab.goto(link)
        tab.locator("#id_new_password1").fill(NEW_PASSWORD)
        tab.locator("#id_new_password2").fill(NEW_PASSWORD)
        screenshot(tab, "invited-set-password")
        tab.get_by_role("button", name="Set password").click()
        tab.wait_for_url("**/login/")
        tab.get_by_label("User name").fill("nina")
        tab.get_by_label("Password").fill(NEW_PASSWORD)
        tab.get_by_role("button", name="Sign in").click()
        tab.wait_for_url("**/")
        assert nav(tab).get_by_role("link", name="Administration").count() == 0

        tab.get_by_role("link", name="API tokens").click()
        tab.get_by_label("Name").fill("ci-deploy")
        tab.get_by_role("button", name="Create token").click()
        secret = tab.get_by_label("Secret").input_value()
        assert len(secret) == 40
        screenshot(tab, "token-created")
        token = ApiToken.objects.get(user__username="nina")
        assert token.prefix == secret[:8]
        # The secret is in the creation answer only (never in the session): the list is not.
        tab.goto("/account/tokens/")
        assert secret not in tab.content()
        tab.get_by_role("button", name="Revoke token ci-deploy").click()
        expect(tab.locator(".messages")).to_contain_text("is revoked", use_inner_text=True)
        assert "You hold no API token" in tab.content()
        screenshot(tab, "token-revoked")
        assert not ApiToken.objects.filter(user__username="nina").exists()
    finally:
        context.close()
    assert not errors, f"JavaScript errors: {errors}"
