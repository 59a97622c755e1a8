"""The whole write side in one browser walk, from an empty portal to production (issue #17).

An admin finds the first-run panel, creates a team's high-risk model, registers a version,
uploads a real pickled scikit-learn model and its training data through the progress bar,
answers every required readiness item, and asks for approval. In a second browser context two
reviewers approve, one after the other. The admin then requests production, the reviewers
approve again, and the model is served in production. Every step is on the audit trail, and
every page is screenshotted (`artifacts/screenshots/walk-*.png`). The `page` fixture fails on
any JavaScript error or Content-Security-Policy violation; the reviewers' context checks the
same.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sklearn.linear_model import LogisticRegression

from governance.approvals.models import ApprovalRequest
from governance.audit.models import AuditEvent
from governance.readiness.selectors import open_required_items
from registry.choices import DeploymentStatus, Environment, Stage
from registry.models import Artifact, Dataset, Deployment, ModelVersion, RegisteredModel
from registry.roles import REVIEWERS
from tests import factories
from tests.e2e.conftest import fresh_tab

pytestmark = pytest.mark.e2e

ENDPOINT = "https://serving.example.org/cardiology/heart-risk"
FEATURES = ["age", "cholesterol", "resting_bp"]
ROWS = [
    (63, 233, 145, 1),
    (37, 250, 130, 1),
    (41, 204, 130, 0),
    (56, 236, 120, 1),
    (57, 354, 140, 0),
    (44, 263, 120, 0),
    (52, 199, 172, 1),
    (49, 266, 118, 0),
]


def training_csv() -> str:
    lines = [",".join([*FEATURES, "event"])]
    lines += [",".join(str(value) for value in row) for row in ROWS]
    return "\n".join(lines) + "\n"


def pickled_classifier() -> bytes:
    """A real fitted scikit-learn classifier on the training rows, pickled."""
    model = LogisticRegression(max_iter=1000).fit(
        [row[:3] for row in ROWS], [row[3] for row in ROWS]
    )
    buffer = io.BytesIO()
    pickle.dump(model, buffer)
    return buffer.getvalue()


@pytest.fixture
def reviewers(transactional_db) -> list[Any]:
    """Two members of the reviewers role: a high-risk model needs two approvals."""
    return [factories.UserFactory(username=name, roles=[REVIEWERS]) for name in ("rita", "ravi")]


@pytest.fixture
def reviewer_tab(browser: Any, live_server: Any) -> Iterator[Any]:
    """A second browser context for the reviewers, failing on any page error or CSP report."""
    yield from fresh_tab(browser, live_server)


def upload(page: Any, path: Path) -> str:
    """Send the upload form through upload.js; the sha256 the server shows when it is stored."""
    page.locator("#id_file").set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()
    page.locator("[data-upload-result]").wait_for(state="visible")
    return page.locator("[data-upload-sha256]").inner_text().strip()


def approve_as_each(tab: Any, login: Any, screenshot: Any, reviewers: list[Any], request_pk: int,
                    step: str) -> None:  # fmt: skip
    for reviewer in reviewers:
        login(tab, reviewer.username)
        tab.goto("/governance/approvals/inbox/")
        tab.get_by_role("link", name=re.compile(rf"^#{request_pk} ")).click()
        tab.wait_for_url(f"**/governance/approvals/{request_pk}/")
        tab.get_by_label("Approve").check()
        tab.get_by_label("Comment").fill(f"{reviewer.username}: evidence and metrics checked.")
        screenshot(tab, f"walk-{step}-{reviewer.username}-decides")
        tab.get_by_role("button", name="Record decision").click()
        tab.wait_for_url(f"**/governance/approvals/{request_pk}/")
        tab.get_by_role("button", name="Sign out").click()


def test_an_admin_takes_a_model_from_an_empty_portal_to_production(
    page, reviewer_tab, login, screenshot, admin, reviewers, tmp_path
):
    assert not RegisteredModel.objects.exists()
    login(page, admin.username)
    panel = page.locator(".onboarding")
    expect(panel).to_contain_text("Steward holds no model yet", use_inner_text=True)
    screenshot(page, "walk-01-first-run")

    # 1. The team's model.
    panel.get_by_role("link", name="Register a model").click()
    page.locator("#id_name").fill("Heart attack risk")
    page.get_by_label("Task").select_option("binary")
    page.get_by_label("Risk tier").select_option("high")
    page.get_by_label("Team").fill("cardiology")
    page.get_by_label("Target column").fill("event")
    page.get_by_label("Description").fill("Risk of a cardiac event within a year.")
    screenshot(page, "walk-02-new-model")
    page.get_by_role("button", name="Register model").click()
    model = RegisteredModel.objects.get(name="Heart attack risk")
    page.wait_for_url(f"**/registry/models/{model.slug}/")
    assert (model.team, model.risk_tier) == ("cardiology", "high")

    # 2. A version, its model file and its training data, through the progress bar.
    page.get_by_role("link", name="Register a version").click()
    page.get_by_label("Framework").fill("scikit-learn")
    page.get_by_label("Input schema").fill(
        json.dumps([{"name": name, "type": "numeric"} for name in FEATURES])
    )
    page.get_by_role("button", name="Register version").click()
    page.wait_for_url(f"**/registry/models/{model.slug}/v1/artifacts/new/")
    version = ModelVersion.objects.get(model=model, number=1)
    weights = pickled_classifier()
    model_file = tmp_path / "heart_risk.pkl"
    model_file.write_bytes(weights)
    page.get_by_label("Kind").select_option("model")
    assert upload(page, model_file) == hashlib.sha256(weights).hexdigest()
    screenshot(page, "walk-03-model-uploaded")

    page.goto(f"/registry/models/{model.slug}/v1/")
    page.get_by_role("link", name="Upload dataset").click()
    data = training_csv()
    data_file = tmp_path / "training.csv"
    data_file.write_text(data)
    page.locator("#id_name").fill("cardiology-2025")
    assert upload(page, data_file) == hashlib.sha256(data.encode()).hexdigest()
    screenshot(page, "walk-04-training-data-uploaded")
    dataset = Dataset.objects.get(model=model)
    assert Artifact.objects.get(version=version).sha256 == hashlib.sha256(weights).hexdigest()

    # 3. Every required readiness item, with evidence.
    page.goto(f"/registry/models/{model.slug}/v1/")
    page.get_by_role("link", name="Open the readiness checklist").click()
    screenshot(page, "walk-05-checklist-open")
    items = open_required_items(version=version)
    assert items
    for item in items:
        page.goto(f"/governance/readiness/models/{model.slug}/v1/{item.key}/")
        page.get_by_label("Yes", exact=True).check()
        page.get_by_label("Evidence text").fill(f"Cardiology model review, item {item.key}.")
        page.get_by_role("button", name="Save answer").click()
        page.wait_for_url(f"**/governance/readiness/models/{model.slug}/v1/{item.key}/")
    assert not open_required_items(version=version)
    page.goto(f"/governance/readiness/models/{model.slug}/v1/")
    expect(page.locator("[data-blocking-none]")).to_be_visible()
    screenshot(page, "walk-06-checklist-settled")

    # 4. Approval of the version: two reviewers, in their own browser context.
    page.goto(f"/registry/models/{model.slug}/v1/")
    page.get_by_role("link", name="Request approval").click()
    page.get_by_label("Comment").fill("v1 for review: hold-out AUC in the metrics.")
    screenshot(page, "walk-07-request-approval")
    page.get_by_role("button", name="Open request").click()
    page.wait_for_url(re.compile(r".*/governance/approvals/\d+/$"))
    version_request = ApprovalRequest.objects.get(version=version, kind="version")
    approve_as_each(reviewer_tab, login, screenshot, reviewers, version_request.pk, "08")
    version.refresh_from_db()
    assert version.stage == Stage.APPROVED

    # 5. Production: requested by the admin, approved by the two reviewers, then deployed.
    page.goto(f"/registry/models/{model.slug}/v1/")
    page.get_by_role("link", name="Request production deployment").click()
    page.get_by_label("Endpoint").fill(ENDPOINT)
    page.get_by_label("Comment").fill("Go live for the cardiology ward.")
    screenshot(page, "walk-09-request-production")
    page.get_by_role("button", name="Open request").click()
    page.wait_for_url(re.compile(r".*/governance/approvals/\d+/$"))
    production_request = ApprovalRequest.objects.get(version=version, kind="production")
    approve_as_each(reviewer_tab, login, screenshot, reviewers, production_request.pk, "10")

    deployment = Deployment.objects.get(version=version, environment=Environment.PRODUCTION)
    assert deployment.status == DeploymentStatus.ACTIVE and deployment.endpoint == ENDPOINT
    page.goto(f"/registry/deployments/{deployment.pk}/")
    expect(page.get_by_text(ENDPOINT).first).to_be_visible()
    screenshot(page, "walk-11-in-production")

    # 6. Every step on the audit trail, in order, and on the audit page.
    steps = [
        ("registry.model.created", model.pk),
        ("registry.version.registered", version.pk),
        ("registry.artifact.added", None),
        ("registry.dataset.uploaded", dataset.pk),
        ("readiness.answer.recorded", None),
        ("governance.approval.version.requested", version_request.pk),
        ("governance.approval.decision.approve", None),
        ("governance.approval.version.approved", version_request.pk),
        ("governance.approval.production.requested", production_request.pk),
        ("governance.approval.decision.approve", None),
        ("registry.deployment.created", deployment.pk),
    ]
    trail = list(AuditEvent.objects.order_by("pk").values_list("action", "target_id"))
    position = 0
    for action, target in steps:
        found = [
            i
            for i, (seen, seen_target) in enumerate(trail)
            if i >= position
            and seen.startswith(action)
            and (target is None or seen_target == str(target))
        ]
        assert found, f"{action} (target {target}) not on the audit trail after entry {position}"
        position = found[0]
    decisions = AuditEvent.objects.filter(action="governance.approval.decision.approve")
    assert decisions.count() == 4
    assert AuditEvent.objects.filter(
        action="governance.approval.production.approved", target_id=str(production_request.pk)
    ).exists()
    page.goto("/governance/audit/")
    expect(
        page.locator("table").get_by_text("governance.approval.decision.approve").first
    ).to_be_visible()
    screenshot(page, "walk-12-audit-trail")
