"""The registry's write pages in a real browser: a data scientist creates a model, registers a
version, and uploads a pickled scikit-learn model and its training CSV through the progress-bar
path (upload.js), seeing the SHA-256 the server computed. The `page` fixture fails on any
JavaScript error or Content-Security-Policy violation."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
from pathlib import Path

import pytest
from playwright.sync_api import expect

from governance.lineage.models import LineageEdge
from registry.models import Artifact, Dataset, ModelVersion, RegisteredModel
from tests import factories

pytestmark = pytest.mark.e2e

FEATURES = ["age", "income"]


def trained_model() -> bytes:
    """A real fitted scikit-learn classifier, pickled."""
    from sklearn.linear_model import LogisticRegression

    X = [[25, 30_000.0], [40, 52_000.0], [33, 41_000.0], [58, 90_000.0], [47, 61_000.0]]
    y = [0, 1, 0, 1, 1]
    model = LogisticRegression().fit(X, y)
    buffer = io.BytesIO()
    pickle.dump(model, buffer)
    return buffer.getvalue()


TRAINING_CSV = "age,income,defaulted\n25,30000,0\n40,52000,1\n33,41000,0\n58,90000,1\n47,61000,1\n"


def upload_and_wait(page, path: Path) -> str:
    page.locator("#id_file").set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()
    result = page.locator("[data-upload-result]")
    result.wait_for(state="visible")
    assert page.locator("#upload-progress-bar").evaluate("bar => bar.value") == 100
    expect(page.get_by_role("button", name="Upload")).to_be_hidden()
    return page.locator("[data-upload-sha256]").inner_text().strip()


def test_create_a_model_register_a_version_and_upload_with_progress(
    page, login, screenshot, owner, tmp_path
):
    login(page, owner.username)
    page.goto("/registry/models/")
    page.get_by_role("link", name="New model").click()
    page.locator("#id_name").fill("Loan default")
    page.get_by_label("Task").select_option("binary")
    page.get_by_label("Risk tier").select_option("high")
    page.get_by_label("Team").fill("lending")
    page.get_by_label("Target column").fill("defaulted")
    page.get_by_label("Description").fill("Probability of default of a loan application.")
    screenshot(page, "registry-edit-01-new-model")
    page.get_by_role("button", name="Register model").click()
    model = RegisteredModel.objects.get(name="Loan default")
    page.wait_for_url(f"**/registry/models/{model.slug}/")
    assert model.risk_tier == "high" and model.owner == owner

    page.get_by_role("link", name="Register a version").click()
    page.get_by_label("Framework").fill(f"scikit-learn {__import__('sklearn').__version__}")
    page.get_by_label("Input schema").fill(
        json.dumps([{"name": name, "type": "numeric"} for name in FEATURES])
    )
    page.get_by_label("Training metrics").fill('{"accuracy": 0.8}')
    page.get_by_label("Hyper-parameters").fill("{not json")
    page.get_by_role("button", name="Register version").click()
    # The house JSON reader's refusal, beside its field, which has the focus (forms.js).
    error = page.locator("#id_hyperparameters_error")
    expect(error).to_contain_text("not valid JSON", use_inner_text=True)
    assert page.evaluate("document.activeElement.id") == "id_hyperparameters"
    assert not ModelVersion.objects.filter(model=model).exists()
    screenshot(page, "registry-edit-02-version-error")
    page.get_by_label("Hyper-parameters").fill('{"C": 1.0}')
    page.get_by_role("button", name="Register version").click()
    page.wait_for_url(f"**/registry/models/{model.slug}/v1/artifacts/new/")
    version = ModelVersion.objects.get(model=model, number=1)

    # No file chosen: upload.js shows the server's refusal beside the field.
    page.get_by_role("button", name="Upload").click()
    page.locator("[data-upload-error]").first.wait_for()
    expect(page.locator(".field--error")).to_contain_text("required", use_inner_text=True)
    weights = trained_model()
    model_file = tmp_path / "loan_default.pkl"
    model_file.write_bytes(weights)
    page.get_by_label("Kind").select_option("model")
    shown = upload_and_wait(page, model_file)
    assert shown == hashlib.sha256(weights).hexdigest()
    artifact = Artifact.objects.get(version=version)
    assert artifact.sha256 == shown and artifact.size == len(weights)
    screenshot(page, "registry-edit-03-artifact-uploaded")

    page.goto(f"/registry/models/{model.slug}/v1/")
    page.get_by_role("link", name="Upload dataset").click()
    data_file = tmp_path / "training.csv"
    data_file.write_text(TRAINING_CSV)
    page.locator("#id_name").fill("training")
    shown = upload_and_wait(page, data_file)
    assert shown == hashlib.sha256(TRAINING_CSV.encode()).hexdigest()
    expect(page.locator("[data-upload-rows]")).to_have_text("5", use_inner_text=True)
    dataset = Dataset.objects.get(model=model)
    assert dataset.sha256 == shown and dataset.row_count == 5
    assert LineageEdge.objects.filter(
        upstream_kind="dataset",
        upstream_id=dataset.pk,
        downstream_kind="version",
        downstream_id=version.pk,
        relation="trained_on",
    ).exists()
    screenshot(page, "registry-edit-04-dataset-uploaded")

    page.locator("[data-upload-version]").click()
    page.wait_for_url(f"**/registry/models/{model.slug}/v1/")
    assert artifact.sha256[:16] in page.content()
    screenshot(page, "registry-edit-05-version-page")


def test_archive_asks_first_then_archives(page, login, screenshot, model_a):
    version = factories.model_version(model=model_a)
    login(page, model_a.owner.username)
    page.goto(f"/registry/models/{model_a.slug}/v{version.number}/")
    page.get_by_role("link", name="Archive…").click()
    assert "cannot be undone" in page.content()
    screenshot(page, "registry-edit-06-archive-confirm")
    version.refresh_from_db()
    assert version.stage == "draft"
    page.get_by_role("button", name=f"Archive v{version.number}").click()
    page.wait_for_url(f"**/registry/models/{model_a.slug}/v{version.number}/")
    version.refresh_from_db()
    assert version.stage == "archived"


def test_the_first_run_panel_of_an_empty_portal(page, login, screenshot, admin):
    login(page, admin.username)
    panel = page.locator(".onboarding")
    expect(panel).to_contain_text("Steward holds no model yet", use_inner_text=True)
    panel.get_by_role("link", name="Register a model").click()
    page.wait_for_url("**/registry/models/new/")
    page.go_back()
    screenshot(page, "registry-edit-00-first-run")


def test_edit_a_model_and_link_lineage(page, login, screenshot, model_a):
    first = factories.model_version(model=model_a)
    second = factories.model_version(model=model_a)
    login(page, model_a.owner.username)
    page.goto(f"/registry/models/{model_a.slug}/")
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Description").fill("Scores loan applications.")
    page.get_by_label("Risk tier").select_option("low")
    page.get_by_role("button", name="Save changes").click()
    # Lowering takes a risk officer: refused beside the tier, which has the focus; nothing saved.
    expect(page.locator("#id_risk_tier_error")).to_contain_text("risk officer", use_inner_text=True)
    assert page.evaluate("document.activeElement.id") == "id_risk_tier"
    model_a.refresh_from_db()
    assert (model_a.risk_tier, model_a.description) == ("medium", "")
    screenshot(page, "registry-edit-07-lower-tier-refused")
    page.get_by_label("Risk tier").select_option("high")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(f"**/registry/models/{model_a.slug}/")
    model_a.refresh_from_db()
    assert (model_a.risk_tier, model_a.description) == ("high", "Scores loan applications.")

    page.goto(f"/registry/models/{model_a.slug}/v{second.number}/")
    page.get_by_role("link", name="Link lineage").click()
    page.get_by_label("This version was").select_option("derived_from")
    page.get_by_label("Other version").select_option(str(first.pk))
    page.get_by_role("button", name="Record link").click()
    page.wait_for_url(f"**/registry/models/{model_a.slug}/v{second.number}/")
    expect(page.locator(".messages")).to_contain_text("derived from", use_inner_text=True)
    assert LineageEdge.objects.filter(
        upstream_kind="version", upstream_id=first.pk, downstream_id=second.pk
    ).exists()
    screenshot(page, "registry-edit-08-lineage-linked")
