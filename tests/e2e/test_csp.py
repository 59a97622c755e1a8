"""The Content-Security-Policy in a real browser: the main pages and the API docs run their
scripts and draw their charts with no violation (the `page` fixture fails on any)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_main_pages_run_under_the_policy(page, login, catalogue):
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if msg.type == "error" else None)
    login(page, "olivia")
    slug = catalogue.model.slug
    for path in (
        "/",
        "/registry/models/",
        f"/registry/models/{slug}/",
        f"/registry/models/{slug}/v1/",
        f"/registry/datasets/{catalogue.dataset.pk}/",
        f"/registry/deployments/{catalogue.deployment.pk}/",
        "/governance/reports/",
    ):
        response = page.goto(path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
    page.goto(f"/registry/models/{slug}/v1/")
    page.wait_for_function("() => window.Chart && Chart.getChart('importance-chart')")
    assert not [v for v in violations if "Content Security Policy" in v]


def test_the_swagger_docs_start_under_the_policy(page, login, db):
    from tests import factories

    factories.UserFactory(username="dora")
    login(page, "dora")
    page.goto("/api/docs/")
    page.locator(".swagger-ui .info .title").wait_for()
    expect(page.locator(".swagger-ui .info .title")).to_contain_text(
        "Steward API", use_inner_text=True
    )
    assert page.locator(".opblock").count() > 10


def test_a_locked_out_user_sees_why_on_the_sign_in_page(page, screenshot, owner, settings):
    page.goto("/login/")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.get_by_label("User name").fill(owner.username)
        page.get_by_label("Password").fill("not-the-password")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
    message = page.locator("#locked-out")
    expect(message).to_contain_text("Too many failed sign-ins", use_inner_text=True)
    expect(message).to_contain_text("locked for 30 minutes", use_inner_text=True)
    screenshot(page, "login-locked-out")
