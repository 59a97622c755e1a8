"""On PostgreSQL, triggers keep the audit tables append-only below the ORM, for every role;
the test suite's flush gets past them without weakening them."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from governance import audit
from governance.audit.testing import guard_triggers
from governance.models import AuditChainHead, AuditEvent


def refused(sql: str, match: str = "append-only") -> None:
    """`sql` raises an error naming `match`, and the test's transaction carries on."""
    with pytest.raises(DatabaseError, match=match), transaction.atomic(), connection.cursor() as c:
        c.execute(sql)


@pytest.fixture
def log(db, postgresql, settings) -> list[AuditEvent]:
    settings.STEWARD_AUDIT_CHECKPOINT_EVERY = 2
    return [audit.record(actor="system", action=f"test.{i}") for i in range(3)]


def test_raw_sql_update_delete_and_truncate_of_entries_are_refused(log):
    refused("UPDATE governance_auditevent SET action = 'forged' WHERE seq = 2")
    refused("DELETE FROM governance_auditevent WHERE seq = 3")
    refused("TRUNCATE governance_auditevent")
    refused("TRUNCATE governance_auditevent, governance_auditchainhead CASCADE")
    assert [e.action for e in AuditEvent.objects.all()] == ["test.0", "test.1", "test.2"]


def test_raw_sql_update_delete_and_truncate_of_checkpoints_are_refused(log):
    refused("UPDATE governance_auditcheckpoint SET head_hash = repeat('0', 64)")
    refused("DELETE FROM governance_auditcheckpoint")
    refused("TRUNCATE governance_auditcheckpoint")


def test_the_chain_head_only_moves_forward_onto_an_existing_entry(log):
    refused("UPDATE governance_auditchainhead SET seq = seq - 1", "may only move forward")
    refused(
        "UPDATE governance_auditchainhead SET seq = seq + 1, hash = repeat('f', 64)",
        "existing entry",
    )
    refused("UPDATE governance_auditchainhead SET hash = repeat('f', 64)", "may only move forward")
    refused("DELETE FROM governance_auditchainhead", "cannot be removed")
    refused("TRUNCATE governance_auditchainhead", "cannot be removed")
    assert AuditChainHead.objects.get().seq == 3


def test_a_superuser_in_replica_mode_is_refused_too(log):
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            pytest.skip("the test database user is not a superuser")
        cursor.execute("SET LOCAL session_replication_role = replica")
    refused("UPDATE governance_auditevent SET action = 'forged'")
    refused("DELETE FROM governance_auditevent")
    refused("TRUNCATE governance_auditevent")


def test_every_guard_trigger_is_installed_and_enabled_always(db, postgresql):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger "
            "WHERE NOT tgisinternal AND tgrelid::regclass::text = ANY(%s)",
            [list(guard_triggers())],
        )
        found = {(table, name): enabled for table, name, enabled in cursor.fetchall()}
    expected = {(table, name) for table, names in guard_triggers().items() for name in names}
    assert set(found) == expected and set(found.values()) == {"A"}


@pytest.mark.django_db(transaction=True)
def test_the_test_flush_empties_the_log_and_leaves_the_guards_and_head_in_place(postgresql):
    for i in range(3):
        audit.record(actor="system", action=f"test.{i}")
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()
    head = AuditChainHead.objects.get()
    assert (head.seq, head.hash) == (0, "0" * 64)
    test_every_guard_trigger_is_installed_and_enabled_always(None, None)
    refused("TRUNCATE governance_auditevent")
    assert audit.record(actor="system", action="test.after").seq == 1
