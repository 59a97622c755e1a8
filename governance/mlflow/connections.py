"""Writes on MLflow connections: admins register and change them; every change is audited
without the credentials."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from governance import audit
from governance.mlflow import secrets
from governance.mlflow.gateway import Credentials
from governance.mlflow.models import MlflowConnection
from registry.actors import Actor, Viewer

MANAGE = "mlflow_bridge.change_mlflowconnection"
SECRET_FIELDS = ("username", "password", "token")
EDITABLE = (
    "name",
    "tracking_uri",
    "model_names",
    "protected_alias",
    "revert_unapproved",
    "default_team",
    "active",
    *SECRET_FIELDS,
)
URI_SCHEMES = ("http://", "https://", "databricks")


def ensure_admin_permission(**_: Any) -> None:
    """The admins role manages connections (after every migrate, like the other roles)."""
    Group.objects.get_or_create(name="admins")[0].permissions.add(
        *Permission.objects.filter(
            content_type__app_label="mlflow_bridge", codename="change_mlflowconnection"
        )
    )


def may_manage_connections(user: Viewer | None) -> bool:
    """Superusers and the admins role."""
    return bool(user and user.is_active and user.has_perm(MANAGE))


def connection_snapshot(connection: MlflowConnection) -> dict[str, Any]:
    """What the audit log keeps of a connection: everything but the credentials, of which it
    says only whether they are set."""
    data = audit.snapshot(connection, fields=[f for f in EDITABLE if f not in SECRET_FIELDS])
    data["credentials"] = sorted(f for f in SECRET_FIELDS if getattr(connection, f))
    return data


def credentials(connection: MlflowConnection) -> Credentials:
    """The connection's credentials, decrypted for a call to MLflow; SecretUnreadable (a clear
    message, no secret in it) when the configured keys cannot open them."""
    what = f"the credentials of MLflow connection {connection.name!r}"
    return Credentials(
        tracking_uri=connection.tracking_uri,
        username=secrets.decrypt(connection.username, what=what),
        password=secrets.decrypt(connection.password, what=what),
        token=secrets.decrypt(connection.token, what=what),
    )


def _set_secrets(connection: MlflowConnection, fields: dict[str, Any]) -> None:
    """Store the credentials given in `fields` encrypted (the plaintext never reaches a row)."""
    for name in SECRET_FIELDS:
        if name in fields:
            setattr(connection, name, secrets.encrypt(str(fields[name] or "")))


@transaction.atomic
def secrets_rotate(*, actor: Actor | None = None) -> int:
    """Re-encrypt every stored credential under the newest key of STEWARD_SECRETS_KEY (after
    a new key was put first); audited without the secrets. Returns the connections done."""
    if actor is not None:
        _require_manager(actor)
    done = 0
    for connection in MlflowConnection.objects.select_for_update().order_by("pk"):
        for name in SECRET_FIELDS:
            setattr(connection, name, secrets.rotate(getattr(connection, name)))
        connection.save(update_fields=[*SECRET_FIELDS, "updated_at"])
        done += 1
    audit.record(
        actor=actor if actor is not None else "mlflow.secrets",
        action="mlflow.connection.secrets_rotated",
        target=None,
        after={"connections": done},
    )
    return done


def _clean(connection: MlflowConnection) -> None:
    if not connection.tracking_uri.startswith(URI_SCHEMES):
        raise ValidationError({"tracking_uri": "an MLflow tracking URI (http:// or https://)"})
    names = connection.model_names
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise ValidationError({"model_names": "a list of MLflow registered model names"})
    connection.model_names = sorted(set(names))
    connection.full_clean()


def _require_manager(actor: Actor) -> None:
    if not may_manage_connections(actor):
        raise PermissionDenied("only administrators manage MLflow connections")


@transaction.atomic
def connection_create(*, actor: Actor | None, **fields: Any) -> MlflowConnection:
    """Register an MLflow tracking server (`actor` None: the `mlflow_sync` command, run by
    whoever may run manage.py on the server)."""
    if actor is not None:
        _require_manager(actor)
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValidationError({"fields": f"unknown fields: {', '.join(sorted(unknown))}"})
    plain = {k: v for k, v in fields.items() if k not in SECRET_FIELDS}
    connection = MlflowConnection(created_by=actor, **plain)
    _set_secrets(connection, fields)
    connection.name = connection.name or connection.tracking_uri[:120]
    _clean(connection)
    connection.save()
    audit.record(
        actor=actor if actor is not None else "mlflow.sync",
        action="mlflow.connection.created",
        target=connection,
        after=connection_snapshot(connection),
    )
    return connection


@transaction.atomic
def connection_update(
    *, connection: MlflowConnection, actor: Actor, **changes: Any
) -> MlflowConnection:
    """Change a connection; credentials left out of `changes` are kept."""
    _require_manager(actor)
    connection = MlflowConnection.objects.select_for_update().get(pk=connection.pk)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError({"fields": f"unknown fields: {', '.join(sorted(unknown))}"})
    before = connection_snapshot(connection)
    for name, value in changes.items():
        if name not in SECRET_FIELDS:
            setattr(connection, name, value)
    _set_secrets(connection, changes)
    _clean(connection)
    connection.save()
    after = connection_snapshot(connection)
    secrets_changed = sorted(f for f in SECRET_FIELDS if f in changes)
    if after != before or secrets_changed:
        audit.record(
            actor=actor,
            action="mlflow.connection.updated",
            target=connection,
            before=before,
            after=after | {"credentials_changed": secrets_changed},
        )
    return connection


def sync_user() -> User:
    """The user the sync acts as: `mlflow-sync`, who cannot sign in and holds only the right
    to register models (data-scientists); the audit log names it for every mirrored change."""
    user, created = User.objects.get_or_create(
        username="mlflow-sync", defaults={"first_name": "MLflow", "last_name": "sync"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        user.groups.add(Group.objects.get_or_create(name="data-scientists")[0])
    return user
