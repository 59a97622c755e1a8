"""MLflow connection credentials are encrypted at rest (Fernet, STEWARD_SECRETS_KEY): the
column holds no plaintext, a wrong key is a clear error (not a crash), keys rotate, and the
data migration encrypts rows stored before."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import connection as db

from governance.audit.models import AuditEvent
from governance.mlflow import connections, secrets
from governance.mlflow.jobs import sync_start
from governance.mlflow.models import MlflowConnection
from monitoring.choices import JobState
from monitoring.jobs.tasks import run_job

pytestmark = pytest.mark.django_db

PASSWORD = "pa55-w0rd-in-plain-text"
TOKEN = "dapi-token-in-plain-text"
URL = "/api/v1/mlflow/connections/"
migration = importlib.import_module("governance.mlflow.migrations.0003_encrypt_credentials")


@pytest.fixture
def old_key(settings) -> str:
    key = Fernet.generate_key().decode()
    settings.STEWARD_SECRETS_KEY = key
    return key


def stored_columns() -> list[str]:
    """The credential columns as the database holds them (raw SQL, past the ORM)."""
    with db.cursor() as cursor:
        cursor.execute("SELECT username, password, token FROM mlflow_bridge_mlflowconnection")
        return [value for row in cursor.fetchall() for value in row]


def connect(**fields):
    return connections.connection_create(
        actor=None, tracking_uri="http://mlflow.example.org:5000", **fields
    )


def test_the_database_column_holds_no_plaintext(old_key, api_as, admin):
    reply = api_as(admin).post(
        URL,
        {"tracking_uri": "http://m.example.org", "username": "svc", "password": PASSWORD},
        format="json",
    )
    assert reply.status_code == 201
    api_as(admin).patch(f"{URL}{reply.json()['id']}/", {"token": TOKEN}, format="json")
    columns = stored_columns()
    assert all(secrets.is_token(value) for value in columns)
    assert not any(plain in value for value in columns for plain in ("svc", PASSWORD, TOKEN))
    creds = connections.credentials(MlflowConnection.objects.get())
    assert (creds.username, creds.password, creds.token) == ("svc", PASSWORD, TOKEN)


def test_a_wrong_key_is_a_clear_error_and_the_rest_keeps_working(settings, old_key, api_as, admin):
    connection = connect(password=PASSWORD)
    settings.STEWARD_SECRETS_KEY = Fernet.generate_key().decode()  # the key file was lost
    with pytest.raises(secrets.SecretUnreadable, match="cannot be decrypted with STEWARD_SECRET"):
        connections.credentials(connection)
    listed = api_as(admin).get(URL)  # no decryption needed to list or show a connection
    assert listed.status_code == 200 and listed.json()["results"][0]["credentials"] == ["password"]
    settings.STEWARD_JOB_MAX_ATTEMPTS = 1
    job = sync_start(connection_id=connection.pk)
    run_job(job.pk)  # the sync job records the error instead of crashing the worker
    job.refresh_from_db()
    assert job.state == JobState.FAILED and "cannot be decrypted" in job.error
    assert PASSWORD not in job.error


def test_a_malformed_key_setting_is_reported_as_such(settings):
    settings.STEWARD_SECRETS_KEY = "not-a-fernet-key"
    with pytest.raises(Exception, match="must be Fernet keys"):
        secrets.encrypt("x")


def test_keys_rotate_with_multifernet(settings, old_key):
    connection = connect(username="svc", password=PASSWORD)
    before = stored_columns()
    new_key = Fernet.generate_key().decode()
    settings.STEWARD_SECRETS_KEY = f"{new_key},{old_key}"  # new first, old still readable
    assert connections.credentials(connection).password == PASSWORD
    call_command("rotate_secrets")
    after = stored_columns()
    assert after[:2] != before[:2] and all(secrets.is_token(v) for v in after[:2])
    settings.STEWARD_SECRETS_KEY = new_key  # the old key dropped
    connection.refresh_from_db()
    assert connections.credentials(connection).password == PASSWORD
    assert AuditEvent.objects.filter(action="mlflow.connection.secrets_rotated").count() == 1


def test_the_data_migration_encrypts_plaintext_rows_once(old_key):
    connection = connect()
    MlflowConnection.objects.filter(pk=connection.pk).update(password=PASSWORD, token="")
    editor = SimpleNamespace(connection=db)
    migration.encrypt_rows(django_apps, editor)
    (username, password, token) = stored_columns()
    assert (username, token) == ("", "") and secrets.is_token(password)
    migration.encrypt_rows(django_apps, editor)  # an encrypted value is left alone
    assert stored_columns()[1] == password
    connection.refresh_from_db()
    assert connections.credentials(connection).password == PASSWORD
    migration.decrypt_rows(django_apps, editor)  # the reverse
    assert stored_columns()[1] == PASSWORD
