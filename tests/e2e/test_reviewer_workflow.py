"""The reviewer's day in a real browser: the inbox count in the navigation, the request page,
the decision form, and the decision in the audit trail."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from governance.approvals import services as approvals
from tests import factories

pytestmark = pytest.mark.e2e


@pytest.fixture
def pending(transactional_db, model_a):
    """A version of model_a with its model file and settled checklist, submitted for review."""
    version = factories.model_version(model=model_a)
    owner = model_a.owner
    from registry import services

    services.artifact_upload(
        version=version, actor=owner, upload=factories.binary_upload(), kind="model"
    )
    factories.answer_required_items(version)
    return approvals.request_version_approval(
        version=version, actor=owner, comment="Ready for review: AUC 0.91 on the hold-out set."
    )


def test_reviewer_approves_from_the_inbox_and_finds_it_in_the_audit_trail(
    page, login, screenshot, pending, reviewer
):
    login(page, reviewer.username)
    main_nav = page.get_by_role("navigation", name="Main")
    approvals_link = main_nav.get_by_role("link", name=re.compile(r"^Approvals"))
    expect(approvals_link.locator(".nav-count")).to_have_text("1", use_inner_text=True)
    approvals_link.click()
    page.wait_for_url("**/governance/approvals/inbox/")
    expect(page.get_by_role("heading", name="Waiting for my decision")).to_be_visible()
    screenshot(page, "reviewer-inbox")

    page.get_by_role("link", name=re.compile(rf"^#{pending.pk} ")).click()
    page.wait_for_url(f"**/governance/approvals/{pending.pk}/")
    expect(page.get_by_text("Ready for review: AUC 0.91 on the hold-out set.")).to_be_visible()
    screenshot(page, "reviewer-request")

    page.get_by_label("Approve").check()
    page.get_by_label("Comment").fill("Checked the hold-out metrics and the checklist.")
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_url(f"**/governance/approvals/{pending.pk}/")
    decisions = page.locator("section", has=page.get_by_role("heading", name="Decisions"))
    expect(decisions.get_by_text("Checked the hold-out metrics and the checklist.")).to_be_visible()
    assert main_nav.locator(".nav-count").count() == 0  # nothing waits any more
    screenshot(page, "reviewer-decided")

    main_nav.get_by_role("link", name="Audit trail", exact=True).click()
    page.wait_for_url("**/governance/audit/")
    trail = page.locator("table")
    expect(trail.get_by_text("governance.approval.decision.approve").first).to_be_visible()
    screenshot(page, "reviewer-audit-trail")
