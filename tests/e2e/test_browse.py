"""Signing in and browsing the registry in a real browser, as the owner and as an outsider."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def nav(page, name: str) -> None:
    """Follow a link of the header's main navigation and wait until its page has loaded (a
    check right after the click would otherwise read the page it left)."""
    link = page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)
    path = link.get_attribute("href")
    link.click()
    page.wait_for_url(f"**{path}")


def test_owner_signs_in_and_browses_from_models_to_a_version(page, login, screenshot, catalogue):
    login(page, "olivia")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.locator(".site-user__name")).to_have_text("olivia", use_inner_text=True)
    screenshot(page, "home")

    nav(page, "Models")
    page.wait_for_url("**/registry/models/")
    expect(page.get_by_role("link", name="Credit risk")).to_be_visible()
    assert page.get_by_text("Churn").count() == 0
    screenshot(page, "model-list")

    page.get_by_role("link", name="Credit risk").click()
    page.wait_for_url(f"**/registry/models/{catalogue.model.slug}/")
    expect(page.get_by_text("Pre-screening of consumer loan applications.")).to_be_visible()
    screenshot(page, "model-detail")

    page.get_by_role("link", name="v1", exact=True).first.click()
    page.wait_for_url(f"**/registry/models/{catalogue.model.slug}/v1/")
    schema = page.locator("section", has=page.get_by_role("heading", name="Input schema"))
    expect(schema.get_by_role("cell", name="income")).to_be_visible()
    lineage = page.locator("svg.lineage-graph")
    expect(lineage).to_be_visible()
    assert lineage.locator("a").count() == 4  # dataset, version, artifact, deployment
    page.wait_for_function("() => window.Chart && Chart.getChart('importance-chart')")
    screenshot(page, "version-detail")

    page.locator("svg.lineage-graph a", has_text="train v1").click()
    page.wait_for_url(f"**/registry/datasets/{catalogue.dataset.pk}/")
    expect(page.get_by_role("cell", name="region")).to_be_visible()
    screenshot(page, "dataset-detail")

    nav(page, "Deployments")
    expect(page.get_by_text(catalogue.deployment.endpoint)).to_be_visible()
    screenshot(page, "deployment-list")
    page.get_by_role("link", name=f"#{catalogue.deployment.pk}").click()
    page.wait_for_url(f"**/registry/deployments/{catalogue.deployment.pk}/")
    screenshot(page, "deployment-detail")

    nav(page, "Audit trail")
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    screenshot(page, "audit-trail")
    nav(page, "Jobs")
    expect(page.get_by_text("No job runs yet")).to_be_visible()
    screenshot(page, "jobs")


def test_owner_signs_out_with_the_header_button(page, login, catalogue):
    login(page, "olivia")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r".*/login/$"))
    page.goto("/registry/models/")
    assert "/login/" in page.url


def test_outsider_does_not_see_model_a(page, login, screenshot, catalogue, outsider):
    login(page, outsider.username)
    page.goto("/registry/models/")
    assert page.get_by_text("Credit risk").count() == 0
    expect(page.get_by_role("heading", name="No models yet")).to_be_visible()
    screenshot(page, "outsider-model-list")
    response = page.goto(f"/registry/models/{catalogue.model.slug}/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    assert page.get_by_text("Credit risk").count() == 0
    screenshot(page, "outsider-404")


def test_models_list_works_at_tablet_width(page, login, screenshot, catalogue):
    page.set_viewport_size({"width": 820, "height": 1180})
    login(page, "olivia")
    page.goto("/registry/models/?risk_tier=high")
    expect(page.get_by_role("link", name="Credit risk")).to_be_visible()
    assert page.get_by_label("Risk tier").input_value() == "high"
    screenshot(page, "model-list-tablet")


def test_reviewer_reads_the_whole_audit_trail_and_every_job_run(
    page, login, screenshot, catalogue, reviewer
):
    import datetime as dt

    from django.utils import timezone

    from monitoring.choices import JobState
    from monitoring.models import JobRun

    now = timezone.now()
    JobRun.objects.create(
        kind="artifact_integrity_scan",
        state=JobState.SUCCEEDED,
        attempts=1,
        started_at=now - dt.timedelta(seconds=42),
        finished_at=now,
        worker="worker-1@host",
        result={"checked": 2, "problems": []},
    )
    JobRun.objects.create(
        kind="artifact_integrity_scan",
        state=JobState.FAILED,
        attempts=5,
        error="OSError: [Errno 5] storage unreachable",
    )
    page.goto("/login/")
    screenshot(page, "login")
    login(page, reviewer.username)
    nav(page, "Audit trail")
    expect(page.get_by_text("You are reading the whole log.")).to_be_visible()
    expect(page.get_by_role("link", name="Churn").first).to_be_visible()
    page.get_by_label("Target type").select_option("registry.deployment")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**target_type=registry.deployment**")
    page.locator("details.change summary").first.click()
    screenshot(page, "audit-trail-reviewer")
    nav(page, "Jobs")
    expect(page.get_by_role("table").get_by_text("Succeeded")).to_be_visible()
    expect(page.get_by_text("Error: OSError")).to_be_visible()
    screenshot(page, "jobs-reviewer")


def test_a_metadata_only_dataset_says_so_and_offers_no_download(page, login, screenshot, catalogue):
    """A dataset an MLflow run logged (docs/mlflow.md, "Datasets"): the model page marks it,
    its page shows MLflow's digest and source and no download, under the strict CSP."""
    from registry.services.datasets import dataset_record_external

    dataset_record_external(
        model=catalogue.model,
        actor=catalogue.model.owner,
        name="breast-cancer",
        kind="training",
        system="mlflow",
        digest="3a5c9e1b",
        source="s3://lake/credit/train.parquet",
        source_type="s3",
        metadata={"profile": {"num_rows": 569}},
    )
    login(page, "olivia")
    page.goto(f"/registry/models/{catalogue.model.slug}/")
    datasets = page.get_by_role("table", name=f"Datasets of {catalogue.model.name}")
    row = datasets.get_by_role("row").filter(has_text="breast-cancer")
    expect(row).to_contain_text("metadata only")
    row.get_by_role("link", name="breast-cancer v1").click()
    expect(page.get_by_role("heading", name="Metadata only")).to_be_visible()
    expect(page.locator("[data-external]")).to_contain_text("Recorded from MLflow")
    expect(page.get_by_text("s3://lake/credit/train.parquet")).to_be_visible()
    expect(page.get_by_text("3a5c9e1b")).to_be_visible()
    assert page.get_by_role("link", name=re.compile("Download")).count() == 0
    page.get_by_text("Schema and profile as MLflow recorded them").click()
    expect(page.get_by_text('"num_rows": 569')).to_be_visible()
    screenshot(page, "dataset-metadata-only")
