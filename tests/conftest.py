"""Shared fixtures: the personas and service availability.

Personas: `owner` (a data scientist who owns `model_a`), `reviewer` (reviewer role),
`outsider` (signed in, no grants), `admin` (superuser). `model_b` belongs to someone else.
"""

from __future__ import annotations

import os
import socket

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from governance.audit.testing import flushable_audit_tables
from registry.models import RegisteredModel
from registry.roles import REVIEWERS
from tests import factories

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def service_up(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def need_service(name: str, host: str, port: int) -> None:
    """Skip when a service is absent, or fail when REQUIRE_SERVICES=1 says it must be there."""
    if service_up(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} and REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(message)


def on_postgresql() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_configure(config: pytest.Config) -> None:
    # Password hashing at full strength is the slowest part of user fixtures; tests prove
    # permissions, not the hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def _audit_tables_flushable():
    """Transactional and live-server tests end with a flush (one TRUNCATE) that the audit
    log's PostgreSQL guard triggers refuse; let it past them, for the test run only."""
    with flushable_audit_tables():
        yield


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploads, checkpoint files and the audit signing key of one test meet no other test."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STEWARD_AUDIT_CHECKPOINT_DIR = tmp_path / "audit-checkpoints"
    settings.STEWARD_AUDIT_KEY = tmp_path / "keys" / "audit-ed25519.pem"


@pytest.fixture
def internal_receivers(settings):
    """Webhook receivers on this machine, allowed the documented way: http and 127.0.0.1 on
    the outbound allow-list (docs/security.md). Without it the sender refuses them."""
    settings.STEWARD_WEBHOOK_ALLOW_HTTP = True
    settings.STEWARD_WEBHOOK_ALLOWLIST = ["127.0.0.1"]


@pytest.fixture
def owner(db):
    return factories.data_scientist("olivia")


@pytest.fixture
def reviewer(db):
    return factories.UserFactory(username="rita", roles=[REVIEWERS])


@pytest.fixture
def outsider(db):
    return factories.UserFactory(username="oscar")


@pytest.fixture
def admin(db):
    return factories.UserFactory(username="ada", is_superuser=True, is_staff=True)


@pytest.fixture
def model_a(owner) -> RegisteredModel:
    return factories.registered_model(owner=owner, name="Credit risk")


@pytest.fixture
def model_b(db) -> RegisteredModel:
    other = factories.data_scientist("bob")
    return factories.registered_model(owner=other, name="Churn")


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def api_as(api):
    def login(user):
        api.force_authenticate(user=user)
        return api

    return login
