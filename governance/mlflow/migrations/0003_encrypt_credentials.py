"""Encrypt the MLflow connections' credentials stored in plain text before 0002 (Fernet under
STEWARD_SECRETS_KEY, governance/mlflow/secrets.py). Values already encrypted are left as
they are, so the migration may run again; reversing it decrypts them."""

from __future__ import annotations

from typing import Any

from django.db import migrations

FIELDS = ("username", "password", "token")


def encrypt_rows(apps: Any, schema_editor: Any) -> None:
    from governance.mlflow import secrets

    connection_model = apps.get_model("mlflow_bridge", "MlflowConnection")
    for row in connection_model.objects.using(schema_editor.connection.alias).order_by("pk"):
        changed = []
        for name in FIELDS:
            value = getattr(row, name)
            if value and not secrets.is_token(value):
                setattr(row, name, secrets.encrypt(value))
                changed.append(name)
        if changed:
            row.save(update_fields=changed)


def decrypt_rows(apps: Any, schema_editor: Any) -> None:
    from governance.mlflow import secrets

    connection_model = apps.get_model("mlflow_bridge", "MlflowConnection")
    for row in connection_model.objects.using(schema_editor.connection.alias).order_by("pk"):
        changed = []
        for name in FIELDS:
            value = getattr(row, name)
            if value and secrets.is_token(value):
                setattr(row, name, secrets.decrypt(value, what=f"connection {row.pk}"))
                changed.append(name)
        if changed:
            row.save(update_fields=changed)


class Migration(migrations.Migration):
    dependencies = [("mlflow_bridge", "0002_credentials_text")]

    operations = [migrations.RunPython(encrypt_rows, decrypt_rows)]
