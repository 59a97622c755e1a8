"""PostgreSQL only: `PostedSummary.features` compressed with lz4 instead of pglz (or, on a
server built without lz4, stored uncompressed out of line). An hour's value is about 40 KB of
packed counts and samples that pglz shrinks by a quarter at several times the cost of the
rest of the insert (bench/scale_ingest.py). Values already stored keep their compression;
SQLite has no such setting."""

from __future__ import annotations

from typing import Any

from django.db import migrations

TABLE = "monitoring_postedsummary"


def _has_lz4(cursor: Any) -> bool:
    cursor.execute(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
    )
    row = cursor.fetchone()
    return bool(row and row[0])


def fast_storage(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        if _has_lz4(cursor):
            cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN features SET COMPRESSION lz4")
        else:
            cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN features SET STORAGE EXTERNAL")


def default_storage(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN features SET COMPRESSION DEFAULT")
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN features SET STORAGE EXTENDED")


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0018_prediction_scores"),
    ]

    operations = [migrations.RunPython(fast_storage, default_storage)]
