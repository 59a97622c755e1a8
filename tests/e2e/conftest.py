"""Browser tests: a real headless Chromium (Debian's build) driven by Playwright's sync API
against pytest-django's live server.

Playwright's sync API runs an event loop in the test thread, which makes Django refuse ORM
calls there as "async unsafe"; the tests only use the ORM before the browser acts, from the
same thread, so the guard is lifted for this folder.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from registry import services
from tests import factories

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's password


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session; skipped (or failed, with REQUIRE_SERVICES=1)
    when the Debian chromium is not installed."""
    if not (os.path.exists(CHROMIUM) and shutil.which(CHROMIUM)):
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message} and REQUIRE_SERVICES=1", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) at laptop size, failing on any page error."""
    yield from fresh_tab(browser, live_server)


def fresh_tab(browser: Any, live_server: Any) -> Iterator[Any]:
    """A tab in a new browser context; after the test, fail on any JavaScript error or
    Content-Security-Policy violation it saw. Fixtures for second users yield from it."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=live_server.url)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    # A Content-Security-Policy violation is only a console error: count it as a failure too.
    tab.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    yield tab
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


@pytest.fixture
def screenshot() -> Any:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(tab: Any, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        tab.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def login() -> Any:
    def sign_in(tab: Any, username: str) -> None:
        tab.goto("/login/")
        tab.get_by_label("User name").fill(username)
        tab.get_by_label("Password").fill(PASSWORD)
        tab.get_by_role("button", name="Sign in").click()
        tab.wait_for_url("**/")

    return sign_in


@pytest.fixture
def catalogue(transactional_db: None, model_a: Any, model_b: Any) -> SimpleNamespace:
    """model_a with a dataset, two versions (v1 trained on the dataset), an artifact and a
    deployment; model_b belongs to someone else."""
    owner = model_a.owner
    services.model_update(
        model=model_a,
        actor=owner,
        description="Scores loan applications for the probability of default.",
        team="lending",
        risk_tier="high",
        intended_use="Pre-screening of consumer loan applications.",
        tags=["credit", "pd"],
    )
    dataset = services.dataset_upload(
        model=model_a, actor=owner, upload=factories.csv_upload(), name="train", kind="training"
    )
    version = factories.model_version(
        model=model_a,
        training_datasets=[dataset.pk],
        hyperparameters={"max_depth": 6, "learning_rate": 0.05},
        code_repository="https://git.example.org/risk/credit",
        code_commit="9f2c1e7d3b4a5f60718293a4b5c6d7e8f9a0b1c2",
        framework="scikit-learn 1.5",
    )
    artifact = services.artifact_upload(
        version=version, actor=owner, upload=factories.binary_upload(), kind="model"
    )
    deployment = factories.deployment(version=version, endpoint="https://serving.example.org/cr")
    factories.model_version(model=model_a)
    return SimpleNamespace(
        model=model_a,
        model_b=model_b,
        dataset=dataset,
        version=version,
        artifact=artifact,
        deployment=deployment,
    )
