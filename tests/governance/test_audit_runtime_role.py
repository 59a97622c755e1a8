"""The least-privilege runtime role of governance/audit/sql/runtime_role.sql: the application
works as that role, and nothing it may do can change or remove audit entries or switch the
guards off."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

import governance.audit
from governance import audit
from governance.audit.verification import audit_report
from governance.models import AuditEvent
from tests import factories

SCRIPT = Path(governance.audit.__file__).parent / "sql" / "runtime_role.sql"


def as_role_refused(sql: str, match: str) -> None:
    with pytest.raises(DatabaseError, match=match), transaction.atomic(), connection.cursor() as c:
        c.execute(sql)


@pytest.fixture
def runtime_role(db, postgresql) -> Iterator[str]:
    """A fresh role (NOLOGIN: we SET ROLE to it) granted exactly what the script grants.
    Everything, the role included, is rolled back with the test's transaction."""
    role = f"steward_runtime_test_{secrets.token_hex(4)}"
    script = SCRIPT.read_text().replace("steward_runtime", role)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        for statement in connection.ops.prepare_sql_script(script):
            cursor.execute(statement)
        cursor.execute(f"SET ROLE {role}")
    try:
        yield role
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def test_the_runtime_role_runs_the_application_and_appends_and_reads_the_log(
    runtime_role, settings
):
    settings.STEWARD_AUDIT_CHECKPOINT_EVERY = 2  # so the role also inserts a checkpoint
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == runtime_role
    model = factories.registered_model(name="Runtime")  # registry, guardian, audit, lineage
    factories.model_version(model=model)
    audit.record(actor="system", action="test.as-runtime")
    assert AuditEvent.objects.filter(action="test.as-runtime").exists()
    assert audit_report().verdict.ok


@pytest.mark.parametrize(
    ("sql", "match"),
    [
        ("UPDATE governance_auditevent SET action = 'forged'", "permission denied"),
        ("DELETE FROM governance_auditevent", "permission denied"),
        ("TRUNCATE governance_auditevent", "permission denied"),
        ("UPDATE governance_auditcheckpoint SET head_hash = 'x'", "permission denied"),
        ("DELETE FROM governance_auditcheckpoint", "permission denied"),
        ("TRUNCATE governance_auditcheckpoint", "permission denied"),
        ("DELETE FROM governance_auditchainhead", "permission denied"),
        ("TRUNCATE governance_auditchainhead", "permission denied"),
        ("UPDATE governance_auditchainhead SET seq = 0", "may only move forward"),
        (
            "ALTER TABLE governance_auditevent DISABLE TRIGGER audit_event_no_update_delete",
            "must be owner",
        ),
        ("ALTER TABLE governance_auditevent DISABLE TRIGGER ALL", "must be owner"),
        ("DROP TRIGGER audit_event_no_truncate ON governance_auditevent", "must be owner"),
        ("DROP FUNCTION steward_audit_refuse_change() CASCADE", "must be owner"),
        ("SET session_replication_role = replica", "permission denied"),
        ("ALTER TABLE governance_auditevent OWNER TO CURRENT_USER", "must be owner"),
    ],
)
def test_the_runtime_role_cannot_change_the_log_or_switch_its_guards_off(runtime_role, sql, match):
    audit.record(actor="system", action="test.before")
    as_role_refused(sql, match)
    assert AuditEvent.objects.filter(action="test.before").count() == 1
    assert audit_report().verdict.ok
