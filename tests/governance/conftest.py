"""Fixtures of the audit tests: a private checkpoint folder and signing key per test, the
PostgreSQL gate, and an attacker who holds the table owner's rights."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings
from django.db import connection

from governance.audit.testing import guards_dropped
from tests.conftest import need_service, on_postgresql


@pytest.fixture
def postgresql() -> None:
    """Skip on SQLite (the PostgreSQL run covers it); fail when REQUIRE_SERVICES=1 and the
    server is not there."""
    if not on_postgresql():
        pytest.skip("a PostgreSQL matter: runs in the PostgreSQL run of the suite")
    db = django_settings.DATABASES["default"]
    need_service("PostgreSQL", db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432))


@pytest.fixture
def attacker(db) -> Iterator[None]:
    """The guard triggers dropped for the test (on PostgreSQL), restored after it."""
    with guards_dropped(connection):
        yield
