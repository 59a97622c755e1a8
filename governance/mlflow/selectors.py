"""Reads of the bridge. Connections are for administrators; a version's mirror is shown to
whoever may see the version (the caller has restricted it already)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from governance.mlflow import gateway, jobs
from governance.mlflow.connections import may_manage_connections
from governance.mlflow.models import AliasEvent, MirroredVersion, MlflowConnection
from monitoring.models import JobRun
from registry.actors import Viewer
from registry.models import ModelVersion


def connection_list(*, user: Viewer) -> QuerySet[MlflowConnection]:
    """Every connection for administrators; none for anyone else."""
    if not may_manage_connections(user):
        return MlflowConnection.objects.none()
    return MlflowConnection.objects.all()


@dataclass(frozen=True)
class VersionMirror:
    """What the version page shows of a mirrored version."""

    mirrored: MirroredVersion
    version_url: str
    run_url: str
    alias: str
    alias_events: list[AliasEvent]


def version_mirror(*, version: ModelVersion) -> VersionMirror | None:
    """The MLflow side of a version the caller may view, or None when it is not mirrored."""
    mirrored = (
        MirroredVersion.objects.select_related("mirrored_model__connection")
        .filter(version=version)
        .first()
    )
    if mirrored is None:
        return None
    mirror = mirrored.mirrored_model
    uri = mirror.connection.tracking_uri
    events = list(mirror.alias_events.order_by("-created_at", "-id")[:20])
    return VersionMirror(
        mirrored=mirrored,
        version_url=gateway.version_url(uri, mirror.mlflow_name, mirrored.mlflow_version),
        run_url=gateway.run_url(uri, mirrored.run_id) if mirrored.run_id else "",
        alias=mirror.connection.protected_alias,
        alias_events=events,
    )


def sync_runs(*, connection: MlflowConnection, limit: int = 20) -> list[JobRun]:
    """The connection's latest sync runs, newest first."""
    rows = JobRun.objects.filter(kind=jobs.KIND, params__connection=connection.pk)
    return list(rows.order_by("-created_at", "-id")[:limit])
