"""The "mlflow_sync" background job: a JobRun whose params name the connection. Registered
into monitoring.tasks.JOBS by the app's ready() (monitoring may not import governance)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

KIND = "mlflow_sync"


def run(job: Any, progress: Callable[[float], None]) -> dict[str, Any]:
    """Sync the run's connection; an unreachable server raises, so the job is retried."""
    from governance.mlflow.models import MlflowConnection
    from governance.mlflow.sync import connection_sync

    connection = MlflowConnection.objects.get(pk=job.params["connection"])
    return connection_sync(connection=connection, progress=progress).as_dict()


def sync_start(*, connection_id: int, actor: Any = None) -> Any:
    """Record a queued sync of the connection and dispatch it on commit."""
    from monitoring.services import job_create

    return job_create(kind=KIND, params={"connection": connection_id}, actor=actor)


def syncs_schedule() -> list[int]:
    """One queued sync per active connection (beat, every STEWARD_MLFLOW_SYNC_S)."""
    from governance.mlflow.models import MlflowConnection

    ids = MlflowConnection.objects.filter(active=True).values_list("pk", flat=True)
    return [sync_start(connection_id=pk).pk for pk in ids]
