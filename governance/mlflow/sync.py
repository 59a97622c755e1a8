"""The mirror: MLflow registered models and versions into Steward's registry.

Remote reads (run, model files) happen before a version's transaction opens; the version,
its artifacts and its mirror row are then written in one transaction, so a server that dies
mid-sync leaves versions either whole or absent. Unchanged versions (same MLflow
last-updated time) are skipped, so a second sync writes nothing and audits nothing.
Everything is written through the registry's services as the `mlflow-sync` user.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from governance import audit
from governance.mlflow import gateway, promotion
from governance.mlflow.connections import credentials, sync_user
from governance.mlflow.gateway import Credentials, RemoteModel, RemoteRun, RemoteVersion
from governance.mlflow.models import MirroredModel, MirroredVersion, MlflowConnection
from registry.choices import ArtifactKind, DatasetKind, RiskTier, Task
from registry.models import Dataset
from registry.services import artifacts as artifact_services
from registry.services import datasets as dataset_services
from registry.services import models as model_services
from registry.services import versions as version_services

logger = logging.getLogger(__name__)
REQUIREMENT_FILES = {"requirements.txt", "conda.yaml", "python_env.yaml"}
# Written by MLflow's client into the download folder; not one of the model's files.
DOWNLOAD_ONLY = {"registered_model_meta"}
# MLflow input contexts that mean evaluation data (validated_with); any other: training.
VALIDATION_CONTEXTS = {"validation", "eval", "evaluation", "test", "testing"}


@dataclass
class SyncReport:
    models_created: int = 0
    versions_created: int = 0
    versions_updated: int = 0
    versions_deleted: int = 0
    versions_unchanged: int = 0
    alias_events: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Fetched:
    """What a version's transaction needs, read from MLflow beforehand."""

    remote: RemoteVersion
    run: RemoteRun
    files: list[tuple[str, Path]]  # (name relative to the model folder, local path)


def connection_sync(
    *,
    connection: MlflowConnection,
    names: list[str] | None = None,
    progress: Callable[[float], None] | None = None,
) -> SyncReport:
    """Mirror every model the connection names (all, when it names none; `names`, when given,
    narrows this one sync). MlflowUnavailable
    propagates (the job records it and retries); a model Steward refuses (a name taken, a
    cap exceeded) is reported in `errors` and the others go on."""
    creds = credentials(connection)
    actor = sync_user()
    report = SyncReport()
    names = list(names or connection.model_names)
    remote_models = gateway.list_models(creds, names)
    for done, remote in enumerate(remote_models):
        try:
            _sync_model(connection, creds, remote, actor, report)
        except (ValidationError, PermissionDenied) as exc:
            report.errors.append(f"{remote.name}: {exc}")
        if progress is not None:
            progress((done + 1) / max(1, len(remote_models)))
    _mark_models_deleted(connection, names, {m.name for m in remote_models}, actor)
    MlflowConnection.objects.filter(pk=connection.pk).update(
        last_synced_at=timezone.now(), last_error="\n".join(report.errors)[:4000]
    )
    return report


def _sync_model(
    connection: MlflowConnection,
    creds: Credentials,
    remote: RemoteModel,
    actor: User,
    report: SyncReport,
) -> None:
    remote_versions = gateway.list_versions(creds, remote.name)
    mirror = _ensure_model(connection, remote, remote_versions, actor, report)
    known = {v.mlflow_version: v for v in mirror.versions.all()}
    for rv in sorted(remote_versions, key=lambda v: int(v.version)):
        current = known.get(rv.version)
        if current is None:
            _create_version(mirror, creds, rv, actor)
            report.versions_created += 1
        elif current.last_updated_ms != rv.last_updated_ms or current.deleted_upstream:
            _update_version(current, rv, actor)
            report.versions_updated += 1
        else:
            report.versions_unchanged += 1
    upstream = {rv.version for rv in remote_versions}
    for mlflow_version, mv in known.items():
        if mlflow_version not in upstream and not mv.deleted_upstream:
            _mark_version_deleted(mv, actor)
            report.versions_deleted += 1
    report.alias_events += promotion.alias_check(
        mirror=mirror, remote=remote, creds=creds, actor=actor
    )


def _model_owner(remote: RemoteModel, versions: list[RemoteVersion]) -> User | None:
    """The Steward user MLflow names: the model's `owner` tag, else whoever registered its
    first version (matched by user name or e-mail); None when nobody matches."""
    first = min(versions, key=lambda v: int(v.version), default=None)
    for name in (remote.tags.get("owner", ""), first.user_id if first else ""):
        if name:
            user = User.objects.filter(Q(username=name) | Q(email__iexact=name), is_active=True)
            found = user.order_by("pk").first()
            if found is not None:
                return found
    return None


@transaction.atomic
def _ensure_model(
    connection: MlflowConnection,
    remote: RemoteModel,
    versions: list[RemoteVersion],
    actor: User,
    report: SyncReport,
) -> MirroredModel:
    mirror = (
        MirroredModel.objects.select_related("model")
        .filter(connection=connection, mlflow_name=remote.name)
        .first()
    )
    if mirror is not None:
        if mirror.deleted_upstream:
            mirror.deleted_upstream = False
            mirror.save(update_fields=["deleted_upstream"])
            audit.record(actor=actor, action="mlflow.model.restored_upstream", target=mirror.model)
        return mirror
    task = remote.tags.get("steward.task", Task.BINARY)
    tier = remote.tags.get("steward.risk_tier", RiskTier.MEDIUM)
    model = model_services.model_create(
        actor=actor,
        name=remote.name,
        task=task if task in Task.values else Task.BINARY,
        risk_tier=tier if tier in RiskTier.values else RiskTier.MEDIUM,
        description=remote.description,
        team=connection.default_team,
    )
    mirror = MirroredModel.objects.create(
        connection=connection, mlflow_name=remote.name, model=model
    )
    owner = _model_owner(remote, versions)
    if owner is not None and owner.pk != actor.pk:
        model.owner = owner
        model.save(update_fields=["owner", "updated_at"])
    audit.record(
        actor=actor,
        action="mlflow.model.mirrored",
        target=model,
        after={
            "connection": connection.pk,
            "mlflow_name": remote.name,
            "owner": model.owner.get_username(),
            "team": model.team,
        },
    )
    report.models_created += 1
    return mirror


def _artifact_kind(name: str) -> str:
    return ArtifactKind.REQUIREMENTS if name in REQUIREMENT_FILES else ArtifactKind.MODEL


def _fetch(creds: Credentials, rv: RemoteVersion, folder: Path) -> Fetched:
    run = gateway.get_run(creds, rv.run_id) if rv.run_id else RemoteRun()
    root = gateway.download_version(creds, rv.name, rv.version, folder)
    files = sorted(
        (str(p.relative_to(root)), p)
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink() and str(p.relative_to(root)) not in DOWNLOAD_ONLY
    )
    return Fetched(remote=rv, run=run, files=files)


def _create_version(
    mirror: MirroredModel, creds: Credentials, rv: RemoteVersion, actor: User
) -> MirroredVersion:
    with tempfile.TemporaryDirectory(prefix="steward-mlflow-") as folder:
        fetched = _fetch(creds, rv, Path(folder))
        return _write_version(mirror, fetched, actor)


@transaction.atomic
def _write_version(mirror: MirroredModel, fetched: Fetched, actor: User) -> MirroredVersion:
    """The version, its artifacts (sha256 computed here, as for an upload) and its mirror row:
    all or nothing."""
    rv, run = fetched.remote, fetched.run
    logged = _record_datasets(mirror, run, actor)
    version = version_services.version_register(
        model=mirror.model,
        actor=actor,
        training_datasets=[d.pk for d, _ in logged if d.kind == DatasetKind.TRAINING],
        validation_datasets=[d.pk for d, _ in logged if d.kind == DatasetKind.VALIDATION],
        hyperparameters=dict(run.params),
        training_metrics=dict(run.metrics),
        code_repository=run.tags.get("mlflow.source.git.repoURL", "")[:300],
        code_commit=run.tags.get("mlflow.source.git.commit", "")[:64],
        framework=_framework(fetched.files),
        description=rv.description,
    )
    for name, path in fetched.files:
        with path.open("rb") as handle:
            upload = UploadedFile(
                file=handle, name=name.replace("/", "__"), size=path.stat().st_size
            )
            artifact_services.artifact_upload(
                version=version, actor=actor, upload=upload, kind=_artifact_kind(name), name=name
            )
    mirrored = MirroredVersion(
        mirrored_model=mirror,
        mlflow_version=rv.version,
        version=version,
        run_id=rv.run_id,
        source=rv.source[:1000],
        tags=rv.tags,
        datasets=[entry | {"dataset": d.pk} for d, entry in logged],
        status=rv.status[:40],
        last_updated_ms=rv.last_updated_ms,
    )
    mirrored.full_clean()
    mirrored.save()
    audit.record(
        actor=actor,
        action="mlflow.version.mirrored",
        target=version,
        after={
            "connection": mirror.connection_id,
            "mlflow_name": mirror.mlflow_name,
            "mlflow_version": rv.version,
            "run_id": rv.run_id,
            "source": mirrored.source,
            "files": [name for name, _ in fetched.files],
            "datasets": [f"{d['name']}@{d['digest']}" for d in run.datasets],
        },
    )
    return mirrored


def _record_datasets(
    mirror: MirroredModel, run: RemoteRun, actor: User
) -> list[tuple[Dataset, dict[str, Any]]]:
    """The run's logged input datasets as metadata-only Steward datasets of the model (one per
    name and digest, shared by the versions that logged it), each with what the mirror row
    keeps of it. Evaluation contexts become validation datasets (`validated_with`), the rest
    training datasets (`trained_on`)."""
    logged = []
    for entry in run.datasets:
        context = str(entry.get("context", "")).lower()
        kind = DatasetKind.VALIDATION if context in VALIDATION_CONTEXTS else DatasetKind.TRAINING
        dataset, _ = dataset_services.dataset_record_external(
            model=mirror.model,
            actor=actor,
            name=str(entry.get("name") or "mlflow-dataset"),
            kind=kind,
            system="mlflow",
            digest=str(entry.get("digest", "")),
            source=str(entry.get("source", "")),
            source_type=str(entry.get("source_type", "")),
            metadata={"schema": entry.get("schema", {}), "profile": entry.get("profile", {})},
            description=f"Logged as an input of an MLflow run {_context(entry)}".strip(),
        )
        kept = {k: entry.get(k, "") for k in ("name", "digest", "source_type", "source", "context")}
        logged.append((dataset, kept))
    return logged


def _context(entry: dict[str, Any]) -> str:
    context = entry.get("context")
    return f"(context: {context})" if context else ""


def _framework(files: list[tuple[str, Path]]) -> str:
    """The MLmodel file's first flavour other than python_function (e.g. "sklearn")."""
    mlmodel = next((p for name, p in files if name == "MLmodel"), None)
    if mlmodel is None:
        return ""
    in_flavors = False
    for line in mlmodel.read_text(errors="replace").splitlines():
        if line.startswith("flavors:"):
            in_flavors = True
        elif in_flavors and line.startswith("  ") and not line.startswith("   "):
            flavour = line.strip().rstrip(":")
            if flavour != "python_function":
                return flavour[:80]
        elif in_flavors and line and not line.startswith(" "):
            break
    return ""


@transaction.atomic
def _update_version(mv: MirroredVersion, rv: RemoteVersion, actor: User) -> None:
    """MLflow changed the version's tags, status or description (or it came back)."""
    mv = MirroredVersion.objects.select_for_update().get(pk=mv.pk)
    before = {"tags": mv.tags, "status": mv.status, "deleted_upstream": mv.deleted_upstream}
    mv.tags, mv.status, mv.last_updated_ms = rv.tags, rv.status[:40], rv.last_updated_ms
    mv.deleted_upstream, mv.deleted_seen_at = False, None
    mv.full_clean()
    mv.save()
    audit.record(
        actor=actor,
        action="mlflow.version.updated",
        target=mv.version,
        before=before,
        after={"tags": mv.tags, "status": mv.status, "deleted_upstream": False},
    )


@transaction.atomic
def _mark_version_deleted(mv: MirroredVersion, actor: User) -> None:
    MirroredVersion.objects.filter(pk=mv.pk).update(
        deleted_upstream=True, deleted_seen_at=timezone.now()
    )
    audit.record(
        actor=actor,
        action="mlflow.version.deleted_upstream",
        target=mv.version,
        after={"mlflow_name": mv.mirrored_model.mlflow_name, "mlflow_version": mv.mlflow_version},
    )


def _mark_models_deleted(
    connection: MlflowConnection, names: list[str], upstream: set[str], actor: User
) -> None:
    gone = MirroredModel.objects.filter(connection=connection, deleted_upstream=False).exclude(
        mlflow_name__in=upstream
    )
    if names:  # only the named models were looked at
        gone = gone.filter(mlflow_name__in=names)
    for mirror in gone.select_related("model"):
        with transaction.atomic():
            MirroredModel.objects.filter(pk=mirror.pk).update(deleted_upstream=True)
            audit.record(
                actor=actor,
                action="mlflow.model.deleted_upstream",
                target=mirror.model,
                after={"mlflow_name": mirror.mlflow_name},
            )
