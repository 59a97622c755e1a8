"""Test-only helpers for the audit log's PostgreSQL guard triggers. The application never
imports this module; production keeps its triggers whole.

Django ends every transactional test (and a live-server test) with `flush`: one TRUNCATE of
every table, which the guard triggers refuse. `flushable_audit_tables()` rewrites the
PostgreSQL flush so that, inside flush's own single transaction, it disables the guard
triggers, truncates, and enables them again (ENABLE ALWAYS, as migrated). No other session
ever sees the tables unguarded: ALTER TABLE holds an exclusive lock until the commit.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any


@functools.cache
def _migration() -> ModuleType:
    # Imported on first use, so this module can be imported before Django is set up.
    return importlib.import_module("governance.migrations.0004_audit_guard_triggers")


def guard_triggers() -> dict[str, tuple[str, str]]:
    """table -> its guard triggers, as the migration creates them."""
    return {
        table: (f"{prefix}_no_update_delete", f"{prefix}_no_truncate")
        for table, prefix, _ in _migration().GUARDED
    }


def toggle_sql(tables: list[str], *, enable: bool) -> list[str]:
    mode = "ENABLE ALWAYS" if enable else "DISABLE"
    triggers = guard_triggers()
    return [
        f'ALTER TABLE "{table}" {mode} TRIGGER "{trigger}"'
        for table in tables
        for trigger in triggers[table]
    ]


@contextmanager
def flushable_audit_tables() -> Iterator[None]:
    """While active, Django's flush on PostgreSQL gets past the guard triggers. Re-entrant:
    an inner use inside an outer one changes nothing."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush
    if getattr(original, "audit_flushable", False):
        yield
        return

    def sql_flush(self: Any, style: Any, tables: list[str], **options: Any) -> list[str]:
        sql = original(self, style, tables, **options)
        guarded = [table for table in guard_triggers() if table in tables]
        if not sql or not guarded:
            return sql
        return [*toggle_sql(guarded, enable=False), *sql, *toggle_sql(guarded, enable=True)]

    sql_flush.audit_flushable = True  # type: ignore[attr-defined]
    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        DatabaseOperations.sql_flush = original  # type: ignore[method-assign]


@contextmanager
def guards_dropped(connection: Any) -> Iterator[None]:
    """Act as an attacker holding the table owner's rights: drop the guard triggers, and
    put them back exactly as migrated afterwards (PostgreSQL; a no-op elsewhere)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        for sql in _migration().BACKWARD:
            cursor.execute(sql)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for sql in _migration().FORWARD:
                cursor.execute(sql)
