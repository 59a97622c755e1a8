"""Triggers that keep the audit log append-only below the ORM, on PostgreSQL.

- governance_auditevent and governance_auditcheckpoint: UPDATE, DELETE (row level) and
  TRUNCATE (statement level) are refused.
- governance_auditchainhead: the head may only move forward, onto an entry that exists; it
  cannot be deleted or truncated.

The triggers are ENABLE ALWAYS, so `SET session_replication_role = replica` (which silences
ordinary triggers, and which a superuser may set) does not switch them off. The table owner
can still drop or disable them; the signed checkpoints catch what such a person rewrites,
and the runtime role of governance/audit/sql/runtime_role.sql is not the owner.

On SQLite this migration does nothing: the ORM guards and the chain are the protection there.
The SQL is spelled out here rather than imported, so this migration never changes.
"""

from django.db import migrations

APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION steward_audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on %.% refused',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING HINT = 'See docs/audit.md.';
END;
$$;
"""

HEAD_FUNCTION = """
CREATE OR REPLACE FUNCTION steward_audit_head_forward_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found boolean;
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION 'the audit chain head cannot be removed: % on %.% refused',
            TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME;
    END IF;
    IF NEW.id = OLD.id AND NEW.seq = OLD.seq AND NEW.hash = OLD.hash THEN
        RETURN NEW;
    END IF;
    IF NEW.id <> OLD.id OR NEW.seq <= OLD.seq THEN
        RAISE EXCEPTION 'the audit chain head may only move forward (% -> % refused)',
            OLD.seq, NEW.seq;
    END IF;
    EXECUTE format(
        'SELECT EXISTS (SELECT 1 FROM %I.governance_auditevent WHERE seq = $1 AND hash = $2)',
        TG_TABLE_SCHEMA
    ) INTO found USING NEW.seq, NEW.hash;
    IF NOT found THEN
        RAISE EXCEPTION 'the audit chain head must name an existing entry (% refused)', NEW.seq;
    END IF;
    RETURN NEW;
END;
$$;
"""


def _guard(table: str, prefix: str, function: str) -> list[str]:
    return [
        f"CREATE TRIGGER {prefix}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {prefix}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {prefix}_no_update_delete",
        f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {prefix}_no_truncate",
    ]


def _unguard(table: str, prefix: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {prefix}_no_update_delete ON {table}",
        f"DROP TRIGGER IF EXISTS {prefix}_no_truncate ON {table}",
    ]


GUARDED = [
    ("governance_auditevent", "audit_event", "steward_audit_refuse_change"),
    ("governance_auditcheckpoint", "audit_checkpoint", "steward_audit_refuse_change"),
    ("governance_auditchainhead", "audit_head", "steward_audit_head_forward_only"),
]

FORWARD = [
    APPEND_ONLY_FUNCTION,
    HEAD_FUNCTION,
    *(sql for guard in GUARDED for sql in _guard(*guard)),
]
BACKWARD = [
    *(sql for table, prefix, _ in GUARDED for sql in _unguard(table, prefix)),
    "DROP FUNCTION IF EXISTS steward_audit_refuse_change()",
    "DROP FUNCTION IF EXISTS steward_audit_head_forward_only()",
]


class PostgreSQLOnly(migrations.RunSQL):
    """RunSQL that runs on PostgreSQL and is a no-op on any other database."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("governance", "0003_audit_checkpoint")]
    operations = [PostgreSQLOnly(FORWARD, BACKWARD)]
