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
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from governance.approvals import services as approvals
from governance.approvals.models import Notification
from governance.audit.models import AuditEvent
from governance.lineage.models import LineageEdge, NodeKind, Relation
from governance.mlflow import connections, jobs, promotion, sync
from governance.mlflow.choices import AliasEventKind
from governance.mlflow.gateway import MlflowUnavailable
from governance.mlflow.jobs import sync_start
from governance.mlflow.models import AliasEvent, MirroredModel, MirroredVersion
from monitoring.alerts.rules import alert_rule_update
from monitoring.alerts.services import external_rule_ensure
from monitoring.choices import JobState
from monitoring.integrity import scan_stored_files
from monitoring.jobs.tasks import run_job
from monitoring.models import Alert, AlertDelivery, AlertState, JobRun
from monitoring.rollups.profiles import ReferenceMissing, reference_profile_build
from monitoring.rollups.selectors import reference_describe
from monitoring.rollups.services import reference_choose
from registry.models import Artifact, Dataset, Deployment, ModelVersion
from tests import factories
from tests.mlflow_server import ROOT, MlflowServer, start_server
from tests.monitoring.test_alerts import _serve


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

    with django_capture_on_commit_callbacks():
        _approve_for_production(steward_version("guarded", "1"))
    push = JobRun.objects.get(kind=jobs.ALIAS_KIND, params__mirror=mirror.pk)
    assert push.state == JobState.QUEUED  # the approving request did not call MLflow
    assert mlflow_alias(server, "guarded") == ""
    run_job(push.pk)
    push.refresh_from_db()
    assert push.state == JobState.SUCCEEDED and push.result["version"] == "1"
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


def test_the_alias_push_job_fails_while_mlflow_is_down_is_retried_and_is_idempotent(
    db, server, client, django_capture_on_commit_callbacks
):
    server.log_models("pushed", 1)
    connection = connect(server, "pushed")
    sync.connection_sync(connection=connection)
    mirror = MirroredModel.objects.get(mlflow_name="pushed")
    with django_capture_on_commit_callbacks():
        _approve_for_production(steward_version("pushed", "1"))
    push = JobRun.objects.get(kind=jobs.ALIAS_KIND, params__mirror=mirror.pk)

    server.stop()
    try:
        with pytest.raises(MlflowUnavailable):
            run_job(push.pk)
        push.refresh_from_db()
        assert push.state == JobState.RETRYING and "MLflow" in push.error
        failed = mirror.alias_events.order_by("-pk").first()
        assert (failed.kind, failed.mlflow_version) == (AliasEventKind.SET_FAILED, "1")
        assert AuditEvent.objects.filter(action="mlflow.alias.set_failed").count() == 1
        client.force_login(push.requested_by)  # who deployed sees the run and its error
        jobs_page = client.get(reverse("monitoring:job-list")).content.decode()
        assert "mlflow_alias_push" in jobs_page and "MlflowUnavailable" in jobs_page
    finally:
        server.start()

    run_job(push.pk)  # the retry, with the server back
    push.refresh_from_db()
    assert (push.state, push.attempts) == (JobState.SUCCEEDED, 2)
    assert mlflow_alias(server, "pushed") == "1"
    events = AliasEvent.objects.filter(mirrored_model=mirror).count()
    entries = AuditEvent.objects.count()

    again = jobs.alias_push_start(mirror_id=mirror.pk)  # a duplicate push changes nothing
    run_job(again.pk)
    again.refresh_from_db()
    assert (again.state, again.result["how"]) == (JobState.SUCCEEDED, "already set")
    assert AliasEvent.objects.filter(mirrored_model=mirror).count() == events
    assert AuditEvent.objects.count() == entries
    assert sync.connection_sync(connection=connection).alias_events == 0


def test_a_sync_while_the_push_is_still_queued_makes_the_move_rather_than_report_it(
    db, server, django_capture_on_commit_callbacks
):
    server.log_models("queued", 1)
    connection = connect(server, "queued")
    sync.connection_sync(connection=connection)
    with django_capture_on_commit_callbacks():
        _approve_for_production(steward_version("queued", "1"))
    report = sync.connection_sync(connection=connection)  # before the push job ran
    assert report.alias_events == 1
    assert mlflow_alias(server, "queued") == "1"
    assert not AuditEvent.objects.filter(action="mlflow.alias.unapproved").exists()


def test_an_unapproved_move_raises_an_alert_on_the_production_deployment_cleared_when_put_back(
    db, server, owner, client, internal_receivers, django_capture_on_commit_callbacks
):
    """The Alert row of the model's built-in rule: on the alerts dashboard, through the rule's
    webhook (which its owner sets like any rule's), resolved once the alias is put back."""
    server.log_models("alerted", 2)
    server.run(
        """
        from mlflow import MlflowClient
        MlflowClient().set_registered_model_tag("alerted", "owner", "olivia")
        """
    )
    connection = connect(server, "alerted")
    sync.connection_sync(connection=connection)
    mirror = MirroredModel.objects.get(mlflow_name="alerted")
    with django_capture_on_commit_callbacks():
        _approve_for_production(steward_version("alerted", "1"))
    run_job(JobRun.objects.get(kind=jobs.ALIAS_KIND).pk)
    production = Deployment.objects.get(version=steward_version("alerted", "1"))
    hook = _serve([204])
    url, handler = next(hook)
    try:
        rule = external_rule_ensure(model=mirror.model, name=promotion.ALIAS_RULE)
        alert_rule_update(rule=rule, actor=owner, webhook_url=url, webhook_secret="s3cret")

        set_mlflow_alias(server, "alerted", "2")
        with django_capture_on_commit_callbacks(execute=True):
            sync.connection_sync(connection=connection)
        alert = Alert.objects.get(rule__model=mirror.model)
        assert (alert.rule.source, alert.rule.name) == ("external", "mlflow_alias_unapproved")
        assert alert.deployment == production and alert.state == AlertState.OPEN
        assert "names version 2 without approval" in alert.message
        delivery = AlertDelivery.objects.get(alert=alert)
        assert delivery.state == "delivered" and len(handler.received) == 1
        assert json.loads(handler.received[0][1])["alert"] == alert.pk
    finally:
        next(hook, None)

    client.force_login(owner)
    page = client.get(reverse("monitoring:alert-list"))
    assert page.status_code == 200 and "without approval" in page.content.decode()

    assert sync.connection_sync(connection=connection).alias_events == 0  # once per move
    assert Alert.objects.filter(rule__model=mirror.model).count() == 1
    set_mlflow_alias(server, "alerted", "1")  # put back by hand
    sync.connection_sync(connection=connection)
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED


def test_an_unapproved_move_on_a_model_never_deployed_is_noticed_without_an_alert_row(
    db, server, owner
):
    server.log_models("undeployed", 1)
    connection = connect(server, "undeployed")
    sync.connection_sync(connection=connection)
    set_mlflow_alias(server, "undeployed", "1")
    assert sync.connection_sync(connection=connection).alias_events == 1
    assert AuditEvent.objects.filter(action="mlflow.alias.unapproved").count() == 1
    assert not Alert.objects.exists()


def test_logged_datasets_become_metadata_only_datasets_with_trained_on_edges(
    db, server, credit, admin, client, api_as
):
    connection = connect(server, "credit")
    sync.connection_sync(connection=connection)
    model = MirroredModel.objects.get(mlflow_name="credit").model
    (dataset,) = Dataset.objects.filter(model=model)  # both runs logged the same data
    logged = steward_version("credit", credit[0]).mlflow_mirror.datasets[0]
    assert (dataset.external, dataset.external_system, dataset.kind) == (True, "mlflow", "training")
    assert (dataset.name, dataset.external_digest) == ("breast-cancer", logged["digest"])
    assert dataset.source_uri == logged["source"] and dataset.source_type == logged["source_type"]
    assert (dataset.file.name, dataset.sha256, dataset.size) == ("", "", 0)  # no rows here
    assert dataset.external_metadata["schema"]  # MLflow's recorded schema, kept as it gave it
    for number in credit:
        version = steward_version("credit", number)
        edges = LineageEdge.objects.filter(
            downstream_kind=NodeKind.VERSION,
            downstream_id=version.pk,
            upstream_kind=NodeKind.DATASET,
            relation=Relation.TRAINED_ON,
        )
        assert list(edges.values_list("upstream_id", flat=True)) == [dataset.pk]
        assert version.mlflow_mirror.datasets[0]["dataset"] == dataset.pk
    assert AuditEvent.objects.filter(action="registry.dataset.recorded_external").count() == 1

    entries = AuditEvent.objects.count()
    sync.connection_sync(connection=connection)  # idempotent
    assert Dataset.objects.filter(model=model).count() == 1
    assert AuditEvent.objects.count() == entries

    # As a drift reference it is "unavailable", never a crash.
    described = reference_describe(version=version)
    assert described["dataset"] is None and "metadata-only" in described["missing"]
    with pytest.raises(ReferenceMissing, match="reference data unavailable"):
        reference_profile_build(version)
    with pytest.raises(ValidationError, match="metadata-only"):
        reference_choose(version=version, dataset=dataset, actor=admin)
    assert scan_stored_files()["problems"] == []  # no file to find missing
    download = api_as(admin).get(reverse("api:dataset-download", args=[dataset.pk]))
    assert download.status_code == 404
    client.force_login(admin)
    page = client.get(reverse("registry:dataset-detail", args=[dataset.pk])).content.decode()
    assert "Metadata only" in page and dataset.external_digest in page
    assert reverse("api:dataset-download", args=[dataset.pk]) not in page
