"""Failure drill: the database goes away in the middle of a batch.

On PostgreSQL the request's own backend is terminated from another connection
(`pg_terminate_backend`) after the batch's rows are written but before its transaction
commits. On SQLite, whose usual failure is a lock held past the timeout, the same point
raises the OperationalError the driver would. Either way the API answers 503 with
Retry-After, nothing of the batch is stored, and the client's retry lands it exactly once.
"""

from __future__ import annotations

import json

import psycopg
import pytest
from django.db import OperationalError, connection

from governance.audit.models import AuditEvent
from monitoring.ingestion import storage
from monitoring.models import PredictionEvent
from tests import factories
from tests.conftest import on_postgresql

BATCH = 50


def batch() -> str:
    rows = [
        {
            "request_id": f"gone-{n}",
            "timestamp": f"2026-11-01T10:{n % 60:02d}:00Z",
            "prediction": "approve",
            "score": 0.5,
            "features": {"age": 30 + n, "income": 1000.0 + n, "region": "north"},
        }
        for n in range(BATCH)
    ]
    return json.dumps(rows)


def terminate_own_backend() -> None:
    """Kill this process's PostgreSQL session from a second connection, as a restart or a
    failover would."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"] or "postgres",
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.fixture
def database_dies_after_writing(monkeypatch):
    """store_frame writes the rows, then the database goes away before the commit."""
    real = storage.store_frame

    def store_then_die(**kwargs):
        inserted = real(**kwargs)
        assert inserted == BATCH  # the rows were in the transaction when it died
        if on_postgresql():
            terminate_own_backend()
        else:
            raise OperationalError("database is locked")
        return inserted

    monkeypatch.setattr(storage, "store_frame", store_then_die)
    return monkeypatch


def post(client, deployment):
    return client.post(
        f"/api/v1/deployments/{deployment.pk}/predictions/",
        data=batch(),
        content_type="application/json",
    )


def test_a_batch_cut_off_by_the_database_is_refused_whole_and_its_retry_lands_once(
    transactional_db, api_as, owner, model_a, database_dies_after_writing
):
    deployment = factories.deployment(version=factories.model_version(model=model_a))
    client = api_as(owner)

    failed = post(client, deployment)
    assert failed.status_code == 503, failed.content
    assert int(failed["Retry-After"]) > 0
    assert "retry" in failed.json()["detail"]
    assert not PredictionEvent.objects.filter(deployment=deployment).exists()
    ingested = AuditEvent.objects.filter(action="monitoring.predictions.ingested")
    assert not ingested.exists()

    database_dies_after_writing.undo()  # the database is back
    retried = post(client, deployment)
    assert retried.status_code == 200, retried.content
    assert retried.json()["accepted"] == BATCH and retried.json()["duplicates"] == 0
    again = post(client, deployment)
    assert again.json()["accepted"] == 0 and again.json()["duplicates"] == BATCH
    assert PredictionEvent.objects.filter(deployment=deployment).count() == BATCH
    assert ingested.count() == 2  # the retry and the repeat; nothing from the failed try
