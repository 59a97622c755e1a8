"""The MLflow bridge against a real MLflow tracking server (tests/mlflow_server.py): scikit-learn
models are logged and registered in it, then mirrored; its alias is guarded; it is killed
mid-sync."""

from __future__ import annotations

import hashlib
import io
import json
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command

from governance.approvals import services as approvals
from governance.approvals.models import Notification
from governance.audit.models import AuditEvent
from governance.mlflow import connections, sync
from governance.mlflow.choices import AliasEventKind
from governance.mlflow.gateway import MlflowUnavailable
from governance.mlflow.jobs import sync_start
from governance.mlflow.models import AliasEvent, MirroredModel, MirroredVersion
from monitoring.choices import JobState
from monitoring.models import JobRun
from monitoring.tasks import run_job
from registry.models import Artifact, ModelVersion
from tests import factories
from tests.mlflow_server import ROOT, MlflowServer, start_server


@pytest.fixture(scope="module")
def server() -> Iterator[MlflowServer]:
    running, folder = start_server()
    try:
        yield running
    finally:
        running.stop()
        folder.cleanup()


@pytest.fixture(scope="module")
def credit(server) -> list[str]:
    """Model "credit" with two versions, logged once for the module (never changed)."""
    return server.log_models("credit", 2)


@pytest.fixture(autouse=True)
def _fast_failures(settings):
    settings.STEWARD_MLFLOW_MAX_RETRIES = 0
    settings.STEWARD_MLFLOW_TIMEOUT_S = 10


def connect(server: MlflowServer, *names: str, **fields):
    return connections.connection_create(
        actor=None, tracking_uri=server.uri, model_names=list(names), **fields
    )


def steward_version(name: str, mlflow_version: str) -> ModelVersion:
    return MirroredVersion.objects.get(
        mirrored_model__mlflow_name=name, mlflow_version=mlflow_version
    ).version


def mlflow_digests(server: MlflowServer, name: str, version: str) -> dict[str, str]:
    """sha256sum of each file of the version as MLflow's own client downloads it."""
    folder = server.folder / f"download-{name}-{version}"
    server.run(
        f"""
        import mlflow.artifacts
        mlflow.artifacts.download_artifacts("models:/{name}/{version}", dst_path={str(folder)!r})
        """
    )
    files = [p for p in folder.rglob("*") if p.is_file() and p.name != "registered_model_meta"]
    out = subprocess.run(["sha256sum", *map(str, files)], capture_output=True, text=True)
    digests = {}
    for line in out.stdout.splitlines():
        digest, path = line.split(maxsplit=1)
        digests[str(Path(path).relative_to(folder))] = digest
    return digests


def mlflow_alias(server: MlflowServer, name: str, alias: str = "champion") -> str:
    return server.run(
        f"""
        import json
        from mlflow import MlflowClient
        aliases = MlflowClient().get_registered_model({name!r}).aliases
        print(json.dumps({{"v": aliases.get({alias!r}, "")}}))
        """
    )["v"]


def set_mlflow_alias(server: MlflowServer, name: str, version: str) -> None:
    server.run(
        f"""
        from mlflow import MlflowClient
        MlflowClient().set_registered_model_alias({name!r}, "champion", {version!r})
        """
    )


def test_a_sync_mirrors_models_versions_params_metrics_and_artifact_digests(db, server, credit):
    connection = connect(server, "credit")
    report = sync.connection_sync(connection=connection)
    assert (report.models_created, report.versions_created, report.errors) == (1, 2, [])
    mirror = MirroredModel.objects.get(connection=connection, mlflow_name="credit")
    assert mirror.model.name == "credit"
    assert sorted(mirror.model.versions.values_list("number", flat=True)) == [1, 2]
    runs = server.run(
        """
        import json
        from mlflow import MlflowClient
        c = MlflowClient()
        out = {}
        for mv in c.search_model_versions("name='credit'"):
            run = c.get_run(mv.run_id)
            out[mv.version] = {"run": mv.run_id, "source": mv.source,
                               "params": run.data.params, "metrics": run.data.metrics,
                               "datasets": [d.dataset.digest for d in run.inputs.dataset_inputs]}
        print(json.dumps(out))
        """
    )
    for number in credit:
        version = steward_version("credit", number)
        mirrored = version.mlflow_mirror
        assert mirrored.run_id == runs[number]["run"]
        assert mirrored.source == runs[number]["source"]
        assert version.hyperparameters == runs[number]["params"]
        assert version.training_metrics == runs[number]["metrics"]
        assert version.framework == "sklearn"
        assert [d["digest"] for d in mirrored.datasets] == runs[number]["datasets"]
        assert mirrored.datasets[0]["name"] == "breast-cancer"
        assert mirrored.datasets[0]["context"] == "training"
        stored = {a.name: a.sha256 for a in Artifact.objects.filter(version=version)}
        assert stored == mlflow_digests(server, "credit", number)
        for artifact in Artifact.objects.filter(version=version):
            with artifact.file.open("rb") as handle:
                assert hashlib.sha256(handle.read()).hexdigest() == artifact.sha256
    actors = set(AuditEvent.objects.values_list("actor_name", flat=True))
    assert "mlflow-sync" in actors
    assert AuditEvent.objects.filter(action="mlflow.version.mirrored").count() == 2


def test_a_second_sync_changes_nothing_and_audits_nothing(db, server, credit):
    connection = connect(server, "credit")
    sync.connection_sync(connection=connection)
    entries = AuditEvent.objects.count()
    report = sync.connection_sync(connection=connection)
    assert (report.versions_created, report.versions_updated, report.versions_unchanged) == (
        0,
        0,
        2,
    )
    assert AuditEvent.objects.count() == entries


def test_a_new_version_appears_and_a_deleted_one_is_marked_not_deleted(db, server):
    server.log_models("growing", 1)
    connection = connect(server, "growing")
    sync.connection_sync(connection=connection)
    server.log_models("growing", 1, seed=5)
    report = sync.connection_sync(connection=connection)
    assert (report.versions_created, report.versions_unchanged) == (1, 1)
    assert MirroredVersion.objects.filter(mirrored_model__mlflow_name="growing").count() == 2
    server.run(
        """
        from mlflow import MlflowClient
        MlflowClient().delete_model_version("growing", "1")
        """
    )
    report = sync.connection_sync(connection=connection)
    assert report.versions_deleted == 1
    gone = MirroredVersion.objects.get(mirrored_model__mlflow_name="growing", mlflow_version="1")
    assert gone.deleted_upstream and ModelVersion.objects.filter(pk=gone.version_id).exists()
    assert AuditEvent.objects.filter(action="mlflow.version.deleted_upstream").count() == 1
    assert sync.connection_sync(connection=connection).versions_deleted == 0


def _approve_for_production(version: ModelVersion) -> None:
    owner = version.model.owner
    factories.answer_required_items(version, actor=owner)
    factories._approve(approvals.request_version_approval(version=version, actor=owner))
    version.refresh_from_db()
    factories.production_deployment(version=version)


def test_an_approval_moves_the_alias_and_a_move_by_hand_is_audited_alerted_and_reverted(
    db, server, owner, django_capture_on_commit_callbacks
):
    server.log_models("guarded", 2)
    server.run(
        """
        from mlflow import MlflowClient
        MlflowClient().set_registered_model_tag("guarded", "owner", "olivia")
        """
    )
    connection = connect(server, "guarded")
    sync.connection_sync(connection=connection)
    mirror = MirroredModel.objects.get(mlflow_name="guarded")
    assert mirror.model.owner == owner  # mapped from the model's owner tag
    assert mlflow_alias(server, "guarded") == ""

    with django_capture_on_commit_callbacks(execute=True):
        _approve_for_production(steward_version("guarded", "1"))
    assert mlflow_alias(server, "guarded") == "1"  # read back through MLflow's client
    kinds = list(mirror.alias_events.order_by("pk").values_list("kind", flat=True))
    assert kinds == [AliasEventKind.APPROVED, AliasEventKind.SET]
    assert sync.connection_sync(connection=connection).alias_events == 0

    set_mlflow_alias(server, "guarded", "2")  # by hand, without approval
    report = sync.connection_sync(connection=connection)
    assert report.alias_events == 1
    assert AuditEvent.objects.filter(action="mlflow.alias.unapproved").count() == 1
    assert Notification.objects.filter(recipient=owner, subject__contains="without approval")
    assert mlflow_alias(server, "guarded") == "2"  # revert is off
    assert sync.connection_sync(connection=connection).alias_events == 0  # reported once

    connections.connection_update(
        connection=connection,
        actor=factories.UserFactory(is_superuser=True),
        revert_unapproved=True,
    )
    connection.refresh_from_db()
    sync.connection_sync(connection=connection)
    assert mlflow_alias(server, "guarded") == "1"
    assert AuditEvent.objects.filter(action="mlflow.alias.reverted").count() == 1
    last = AliasEvent.objects.filter(mirrored_model=mirror).order_by("-pk").first()
    assert (last.kind, last.mlflow_version) == (AliasEventKind.REVERTED, "1")


def test_a_server_killed_mid_sync_leaves_no_half_version_and_the_job_is_retried(
    db, server, monkeypatch
):
    server.log_models("fragile", 3)
    connection = connect(server, "fragile")
    real_fetch = sync._fetch
    calls = []

    def fetch_then_die(creds, rv, folder):
        calls.append(rv.version)
        if len(calls) == 2:
            server.stop()  # mid-sync: version 1 is in, version 2 is being read
        return real_fetch(creds, rv, folder)

    monkeypatch.setattr(sync, "_fetch", fetch_then_die)
    job = sync_start(connection_id=connection.pk)
    with pytest.raises(MlflowUnavailable):
        run_job(job.pk)
    job.refresh_from_db()
    assert job.state == JobState.RETRYING and "MLflow" in job.error
    mirrored = MirroredVersion.objects.filter(mirrored_model__mlflow_name="fragile")
    assert list(mirrored.values_list("mlflow_version", flat=True)) == ["1"]
    model = MirroredModel.objects.get(mlflow_name="fragile").model
    assert list(model.versions.values_list("number", flat=True)) == [1]
    assert not Artifact.objects.filter(version__model=model, version__number=2).exists()

    server.start()
    monkeypatch.setattr(sync, "_fetch", real_fetch)
    run_job(job.pk)
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and job.attempts == 2
    assert job.result["versions_created"] == 2
    assert sorted(mirrored.values_list("mlflow_version", flat=True)) == ["1", "2", "3"]


def test_a_failure_while_writing_a_version_rolls_the_whole_version_back(
    db, server, credit, monkeypatch
):
    connection = connect(server, "credit")
    uploads = []
    real_upload = sync.artifact_services.artifact_upload

    def upload_then_fail(**kwargs):
        uploads.append(kwargs["name"])
        if len(uploads) == 3:
            raise OSError("disk full")
        return real_upload(**kwargs)

    monkeypatch.setattr(sync.artifact_services, "artifact_upload", upload_then_fail)
    with pytest.raises(OSError, match="disk full"):
        sync.connection_sync(connection=connection)
    model = MirroredModel.objects.get(mlflow_name="credit").model
    assert not model.versions.exists()
    assert not Artifact.objects.filter(version__model=model).exists()
    assert not AuditEvent.objects.filter(action="registry.artifact.added").exists()
    assert JobRun.objects.count() == 0


def test_the_documented_walk_through_works(db, server):
    """docs/mlflow.md's walk-through, as written: its Python block in the data scientist's
    environment, then its manage.py line."""
    doc = (ROOT / "docs" / "mlflow.md").read_text()
    walk = doc.split("## Walk-through", 1)[1]
    code = walk.split("```python\n", 1)[1].split("```", 1)[0]
    command = next(line for line in walk.splitlines() if line.startswith("manage.py mlflow_sync"))
    server.run(code)
    argv = shlex.split(command.replace("$MLFLOW_TRACKING_URI", server.uri))[1:]
    out = io.StringIO()
    call_command(*argv, stdout=out)
    report = json.loads(out.getvalue().splitlines()[-1])
    assert report["versions_created"] == 1 and report["errors"] == []
    version = steward_version("walkthrough", "1")
    assert version.hyperparameters == {"C": "0.5", "max_iter": "200"}
    assert set(version.training_metrics) == {"accuracy"}
    entries = AuditEvent.objects.count()
    out = io.StringIO()
    call_command(*argv, stdout=out)
    assert json.loads(out.getvalue().splitlines()[-1])["versions_unchanged"] == 1
    assert AuditEvent.objects.count() == entries
