"""Backup and restore drill (PostgreSQL): the procedure of docs/operations.md, run for real.

The test database, holding registry activity and signed audit checkpoints, is dumped with
`pg_dump --format=custom`, restored with `pg_restore` into a fresh database, and
`manage.py verify_audit` is run against the copy in a subprocess: the hash chain and every
checkpoint (database rows and files) must verify there, and the guard triggers must have
come back with the data. A rewrite made in the copy afterwards must be caught, so the
verification is shown to look at the restored rows.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from governance.audit.checkpointing import checkpoint_now
from governance.models import AuditEvent
from tests import factories
from tests.conftest import on_postgresql
from tests.monitoring.conftest import database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pg_only() -> None:
    if not on_postgresql():
        pytest.skip("pg_dump / pg_restore: PostgreSQL only")


def conninfo(dbname: str) -> dict[str, object]:
    db = connection.settings_dict
    return {
        "host": db["HOST"] or "127.0.0.1",
        "port": db["PORT"] or 5432,
        "user": db["USER"] or "postgres",
        "password": db["PASSWORD"] or None,
        "dbname": dbname,
    }


def pg_env() -> dict[str, str]:
    info = conninfo("")
    env = {"PGHOST": str(info["host"]), "PGPORT": str(info["port"]), "PGUSER": str(info["user"])}
    if info["password"]:
        env["PGPASSWORD"] = str(info["password"])
    return env


@pytest.fixture
def fresh_database(pg_only) -> Iterator[str]:
    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(**conninfo("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(**conninfo("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        args,
        cwd=ROOT,
        env=os.environ | pg_env() | (env or {}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def verify_audit(dbname: str) -> subprocess.CompletedProcess:
    url = database_url().rsplit("/", 1)[0] + f"/{dbname}"
    return run(
        [sys.executable, "manage.py", "verify_audit"],
        env={
            "DATABASE_URL": url,
            "STEWARD_STORAGE_DIR": str(settings.STORAGE_DIR),
            "STEWARD_AUDIT_CHECKPOINT_DIR": str(settings.STEWARD_AUDIT_CHECKPOINT_DIR),
            "STEWARD_AUDIT_KEY": str(settings.STEWARD_AUDIT_KEY),
        },
    )


def test_a_dump_restored_into_a_fresh_database_keeps_a_verifiable_signed_audit_chain(
    transactional_db, owner, model_a, fresh_database, tmp_path
):
    for _ in range(3):
        factories.model_version(model=model_a)
    first = checkpoint_now()
    factories.deployment(version=factories.model_version(model=model_a))
    last = checkpoint_now()
    entries = AuditEvent.objects.count()
    assert first is not None and last is not None and last.seq == entries > first.seq

    dump = tmp_path / "steward.dump"
    dumped = run(["pg_dump", "--format=custom", f"--file={dump}", connection.settings_dict["NAME"]])
    assert dumped.returncode == 0, dumped.stderr
    restored = run(
        ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={fresh_database}", str(dump)]
    )
    assert restored.returncode == 0, restored.stderr

    verified = verify_audit(fresh_database)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"audit chain OK: {entries} entries" in verified.stdout
    assert f"signed through entry {last.seq}" in verified.stdout

    with psycopg.connect(**conninfo(fresh_database), autocommit=True) as copy:
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            copy.execute("UPDATE governance_auditevent SET action = 'x' WHERE seq = 1")
        # Someone who may drop the guards rewrites an entry in the copy: caught.
        copy.execute("ALTER TABLE governance_auditevent DISABLE TRIGGER USER")
        copy.execute("UPDATE governance_auditevent SET action = 'rewritten' WHERE seq = 2")
    tampered = verify_audit(fresh_database)
    assert tampered.returncode == 1
    assert "audit chain BROKEN at entry 2" in tampered.stderr
