"""The MLflow connections API and the version page's MLflow section (no MLflow server: the
sync itself is tested against a real one in test_mlflow_sync.py)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from governance.audit.models import AuditEvent
from governance.mlflow import connections
from governance.mlflow.choices import AliasEventKind
from governance.mlflow.models import AliasEvent, MirroredModel, MirroredVersion, MlflowConnection
from monitoring.models import JobRun
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/mlflow/connections/"
SECRET = "s3cr3t-pa55word-never-shown"


def create(api_as, user, **fields):
    body = {"tracking_uri": "http://mlflow.example.org:5000", "model_names": ["credit"], **fields}
    return api_as(user).post(URL, body, format="json")


def test_an_admin_registers_a_connection_and_the_credentials_stay_out_of_replies_and_audit(
    api_as, admin
):
    reply = create(api_as, admin, username="svc", password=SECRET, default_team="risk")
    assert reply.status_code == 201, reply.content
    body = reply.json()
    assert body["protected_alias"] == "champion" and body["credentials"] == ["username", "password"]
    assert SECRET not in reply.content.decode() and "svc" not in json.dumps(body)
    listed = api_as(admin).get(URL)
    assert SECRET not in listed.content.decode()
    entry = AuditEvent.objects.get(action="mlflow.connection.created")
    assert entry.actor_name == admin.username
    assert SECRET not in json.dumps(entry.after) and "svc" not in json.dumps(entry.after)
    stored = MlflowConnection.objects.get()
    assert stored.password != SECRET  # encrypted at rest (test_mlflow_secrets.py)
    assert connections.credentials(stored).password == SECRET


def test_changing_the_password_is_audited_without_its_value(api_as, admin):
    pk = create(api_as, admin).json()["id"]
    reply = api_as(admin).patch(f"{URL}{pk}/", {"password": SECRET}, format="json")
    assert reply.status_code == 200
    entry = AuditEvent.objects.get(action="mlflow.connection.updated")
    assert entry.after["credentials_changed"] == ["password"]
    assert SECRET not in json.dumps(entry.after) + json.dumps(entry.before)


@pytest.mark.parametrize("who", ["owner", "reviewer", "outsider"])
def test_only_administrators_may_see_or_change_connections(api_as, admin, who, request):
    pk = create(api_as, admin).json()["id"]
    user = request.getfixturevalue(who)
    assert create(api_as, user).status_code == 403
    assert api_as(user).get(URL).status_code == 403
    assert api_as(user).get(f"{URL}{pk}/").status_code == 403
    assert api_as(user).get(f"{URL}{pk + 1000}/").status_code == 403  # same for a missing id
    assert api_as(user).post(f"{URL}{pk}/sync/").status_code == 403


def test_the_admins_role_manages_connections(api_as):
    member = factories.UserFactory(username="adam", roles=["admins"])
    assert create(api_as, member).status_code == 201


def test_a_bad_tracking_uri_or_alias_is_a_400(api_as, admin):
    assert create(api_as, admin, tracking_uri="ftp://x").status_code == 400
    assert create(api_as, admin, protected_alias="no spaces").status_code == 400
    assert create(api_as, admin, model_names=["x"] * 600).status_code == 400


def test_a_sync_on_demand_is_a_job_whose_progress_the_connection_lists(
    api_as, admin, django_capture_on_commit_callbacks, monkeypatch
):
    from monitoring.jobs import queue

    monkeypatch.setattr(queue, "job_dispatch", lambda **_: True)
    pk = create(api_as, admin).json()["id"]
    reply = api_as(admin).post(f"{URL}{pk}/sync/")
    assert reply.status_code == 202
    run = JobRun.objects.get(pk=reply.json()["id"])
    assert (run.kind, run.params, run.requested_by) == ("mlflow_sync", {"connection": pk}, admin)
    runs = api_as(admin).get(f"{URL}{pk}/syncs/").json()
    assert [r["id"] for r in runs] == [run.pk] and runs[0]["state"] == "queued"


def test_beat_queues_one_sync_per_active_connection(admin, monkeypatch):
    from governance.mlflow import connections
    from governance.mlflow.tasks import schedule_syncs

    for i, active in enumerate((True, True, False)):
        connections.connection_create(
            actor=admin, tracking_uri=f"http://m{i}.example.org", active=active
        )
    ids = schedule_syncs()
    assert len(ids) == 2 and JobRun.objects.filter(kind="mlflow_sync").count() == 2


def mirrored(owner):
    connection = MlflowConnection.objects.create(
        name="prod", tracking_uri="https://mlflow.example.org"
    )
    version = factories.model_version(model=factories.registered_model(owner=owner, name="m"))
    mirror = MirroredModel.objects.create(
        connection=connection, mlflow_name="credit risk", model=version.model
    )
    MirroredVersion.objects.create(
        mirrored_model=mirror, mlflow_version="3", version=version, run_id="abc123", source="x"
    )
    AliasEvent.objects.create(
        mirrored_model=mirror,
        alias="champion",
        kind=AliasEventKind.UNAPPROVED,
        mlflow_version="3",
        detail="approved: none",
    )
    return version


def test_the_version_page_shows_the_mlflow_link_run_and_alias_history(client, owner):
    version = mirrored(owner)
    client.force_login(owner)
    page = client.get(
        reverse("registry:version-detail", args=[version.model.slug, version.number])
    ).content.decode()
    assert "https://mlflow.example.org/#/models/credit%20risk/versions/3" in page
    assert "https://mlflow.example.org/#/runs/abc123" in page
    assert "Moved in MLflow without approval" in page and "History of @champion" in page


def test_a_version_not_mirrored_has_no_mlflow_section(client, owner, model_a):
    version = factories.model_version(model=model_a)
    client.force_login(owner)
    page = client.get(reverse("registry:version-detail", args=[model_a.slug, version.number]))
    assert page.status_code == 200 and "mlflow-heading" not in page.content.decode()


def test_an_alias_steward_failed_to_set_is_set_by_the_next_sync(owner, monkeypatch):
    from governance.mlflow import gateway, promotion
    from governance.mlflow.connections import sync_user

    version = mirrored(owner)
    mirror = version.mlflow_mirror.mirrored_model
    calls: list[str | None] = []
    upstream: dict[str, str] = {}  # the alias as MLflow holds it

    def unreachable(creds, name, alias, target=None):
        calls.append(target)
        raise gateway.MlflowUnavailable("connection refused")

    AliasEvent.objects.create(
        mirrored_model=mirror, alias="champion", kind=AliasEventKind.APPROVED, mlflow_version="3"
    )
    monkeypatch.setattr(gateway, "get_alias", unreachable)
    with pytest.raises(gateway.MlflowUnavailable):
        promotion.alias_push(mirror_id=mirror.pk)
    assert mirror.alias_events.order_by("-pk").first().kind == AliasEventKind.SET_FAILED

    def set_alias(creds, name, alias, target):
        calls.append(target)
        upstream[alias] = target
        return "alias"

    monkeypatch.setattr(gateway, "set_alias", set_alias)
    monkeypatch.setattr(gateway, "get_alias", lambda c, n, alias: upstream.get(alias, ""))
    remote = gateway.RemoteModel(
        name="credit risk", description="", tags={}, aliases={}, last_updated_ms=0
    )
    creds = gateway.Credentials(tracking_uri="https://mlflow.example.org")
    events = promotion.alias_check(mirror=mirror, remote=remote, creds=creds, actor=sync_user())
    assert events == 1 and calls == [None, "3"]
    assert mirror.alias_events.order_by("-pk").first().kind == AliasEventKind.SET
    assert not AuditEvent.objects.filter(action="mlflow.alias.unapproved").exists()
    mirror.refresh_from_db()
    assert mirror.alias_seen == "3"
    remote = gateway.RemoteModel(
        name="credit risk", description="", tags={}, aliases={"champion": "3"}, last_updated_ms=0
    )
    assert promotion.alias_check(mirror=mirror, remote=remote, creds=creds, actor=sync_user()) == 0


def test_a_staging_deployment_of_a_mirrored_version_leaves_the_alias_alone(owner):
    version = mirrored(owner)
    factories.deployment(version=version, environment="staging")
    assert not AliasEvent.objects.filter(kind=AliasEventKind.APPROVED).exists()
