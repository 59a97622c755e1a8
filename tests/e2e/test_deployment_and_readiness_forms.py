"""An owner's write work in a real browser: answer the required readiness items (one with an
uploaded evidence file whose sha256 is shown), deploy the version to staging in place of the
one serving there, roll it back, change its monitoring settings, and open the canary and
retirement pages; no CSP violation (the `page` fixture fails on any)."""

from __future__ import annotations

import hashlib
import re

import pytest
from playwright.sync_api import expect

from governance.audit.models import AuditEvent
from governance.readiness.selectors import open_required_items
from registry.choices import DeploymentStatus
from registry.models import Deployment
from tests import factories

pytestmark = pytest.mark.e2e

ENDPOINT = "https://serving.example.org/credit/predict"


@pytest.fixture
def low_risk(transactional_db, owner):
    """A low-risk model (10 required items): v1 serving staging, v2 a fresh draft."""
    model = factories.registered_model(owner=owner, name="Credit scoring", risk_tier="low")
    v1 = factories.model_version(model=model)
    first = factories.deployment(version=v1, endpoint=ENDPOINT)
    v2 = factories.model_version(model=model)
    return model, v2, first


def test_owner_answers_the_checklist_deploys_to_staging_and_rolls_back(
    page, login, screenshot, low_risk, tmp_path
):
    model, v2, first = low_risk
    items = open_required_items(version=v2)
    assert items
    evidence = tmp_path / "model-card.pdf"
    evidence.write_bytes(b"%PDF-1.7\nModel card of credit scoring v2\n")
    digest = hashlib.sha256(evidence.read_bytes()).hexdigest()

    login(page, model.owner.username)
    page.goto(f"/registry/models/{model.slug}/v2/")
    page.get_by_role("link", name="Open the readiness checklist").click()
    page.wait_for_url(f"**/governance/readiness/models/{model.slug}/v2/")
    expect(page.locator("[data-readiness-score]")).to_have_text("0%", use_inner_text=True)
    screenshot(page, "readiness-checklist-open")

    for index, item in enumerate(items):
        page.goto(f"/governance/readiness/models/{model.slug}/v2/{item.key}/")
        page.get_by_label("Yes", exact=True).check()
        if index == 0:
            page.get_by_label("Or upload an evidence file").set_input_files(str(evidence))
        else:
            page.get_by_label("Evidence text").fill(f"Reviewed in the design review: {item.key}")
        if index == 1:
            # A bad link first: the error is beside its field and focused, nothing stored.
            page.get_by_label("Evidence link").fill("not a link")
            page.get_by_role("button", name="Save answer").click()
            error = page.locator("#id_evidence_url_error")
            expect(error).to_contain_text("valid URL", use_inner_text=True)
            assert page.get_by_label("Evidence link").get_attribute("aria-invalid") == "true"
            screenshot(page, "readiness-answer-error")
            page.get_by_label("Evidence link").fill("https://wiki.example.org/design-review")
            page.get_by_label("Yes", exact=True).check()
        page.get_by_role("button", name="Save answer").click()
        page.wait_for_url(f"**/governance/readiness/models/{model.slug}/v2/{item.key}/")
        expect(page.get_by_text(f"Answer to {item.key} recorded")).to_be_visible()
        if index == 0:
            expect(page.locator("[data-evidence-sha256]")).to_have_text(digest, use_inner_text=True)
            screenshot(page, "readiness-answer-evidence-file")
    assert not open_required_items(version=v2)

    page.get_by_role("link", name="Readiness").click()
    expect(page.locator("[data-blocking-none]")).to_be_visible()
    screenshot(page, "readiness-checklist-settled")

    page.goto(f"/registry/models/{model.slug}/v2/")
    page.get_by_role("link", name="Deploy to dev or staging").click()
    page.get_by_label("Environment").select_option("staging")
    page.get_by_label("Endpoint").fill(ENDPOINT)
    page.get_by_label("Replaces").select_option(str(first.pk))
    page.get_by_role("button", name="Check the deployment").click()
    expect(page.get_by_role("heading", name=re.compile("Confirm: deploy"))).to_be_visible()
    expect(page.get_by_text(f"#{first.pk}").first).to_be_visible()
    screenshot(page, "deploy-confirm")
    page.get_by_role("button", name="Deploy v2").click()
    page.wait_for_url(re.compile(r".*/registry/deployments/\d+/$"))
    deployed = Deployment.objects.get(version=v2)
    expect(page.get_by_text("is deployed to staging")).to_be_visible()
    screenshot(page, "deploy-done")

    page.get_by_role("link", name="Roll back").click()
    page.wait_for_url(f"**/registry/deployments/{deployed.pk}/rollback/")
    expect(page.get_by_role("heading", name="What will happen")).to_be_visible()
    screenshot(page, "rollback-confirm")
    page.get_by_label("Reason").fill("Scores drifted after the release.")
    page.get_by_role("button", name="Roll back to v1").click()
    page.wait_for_url(re.compile(r".*/registry/deployments/\d+/$"))
    expect(page.get_by_text("Rolled back: ")).to_be_visible()
    screenshot(page, "rollback-done")

    rollback = Deployment.objects.get(is_rollback=True)
    assert (rollback.version.number, rollback.replaces_id) == (1, deployed.pk)

    # The other write pages of the deployment run under the policy too.
    page.get_by_role("link", name="Monitoring settings").click()
    page.get_by_label("Accuracy: at risk").fill("0.8")
    page.get_by_label("Drift method: Feature age").select_option("psi")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Monitoring settings of deployment").first).to_be_visible()
    screenshot(page, "deployment-settings-saved")
    page.goto(f"/registry/deployments/{rollback.pk}/canary/")
    expect(page.get_by_text(f"#{rollback.pk}").first).to_be_visible()
    screenshot(page, "canary-form")
    page.goto(f"/registry/deployments/{rollback.pk}/retire/")
    expect(page.get_by_text("nothing: no version replaces it")).to_be_visible()
    screenshot(page, "retire-confirm")
    deployed.refresh_from_db()
    assert deployed.status == DeploymentStatus.INACTIVE
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "readiness.answer.recorded",
        "registry.artifact.added",
        "registry.deployment.created",
        "registry.deployment.rolled_back",
        "monitoring.settings.updated",
    } <= actions
