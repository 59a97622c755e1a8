"""The fuzz modules' fixtures: the WSGI app, its schema, one connection for every request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections


@pytest.fixture(scope="module")
def app() -> Any:
    return get_wsgi_application()


@pytest.fixture(scope="module")
def schema(app, django_db_blocker) -> Any:
    # Loading the schema is a request: Django's request signals look at any connection an
    # earlier test module left open, so database access must be allowed here.
    with django_db_blocker.unblock():
        return schemathesis.openapi.from_wsgi("/api/schema/?format=json", app)


@pytest.fixture
def same_connection() -> Iterator[None]:
    """Django's WSGI handler closes the connection at the end of a request when it is inside a
    transaction; the test's transaction must outlive every request (the test client does the
    same)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
