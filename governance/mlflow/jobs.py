"""The bridge's background jobs, JobRuns registered into monitoring.jobs.kinds by the app's
ready() (monitoring may not import governance):

- "mlflow_sync": params name the connection; mirrors it.
- "mlflow_alias_push": params name the mirrored model; points its protected alias in MLflow
  at the version Steward approved (queued by a production deployment, on commit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

KIND = "mlflow_sync"
ALIAS_KIND = "mlflow_alias_push"


def run(job: Any, progress: Callable[[float], None]) -> dict[str, Any]:
    """Sync the run's connection; an unreachable server raises, so the job is retried."""
    from governance.mlflow.models import MlflowConnection
    from governance.mlflow.sync import connection_sync

    connection = MlflowConnection.objects.get(pk=job.params["connection"])
    return connection_sync(connection=connection, progress=progress).as_dict()


def sync_start(*, connection_id: int, actor: Any = None) -> Any:
    """Record a queued sync of the connection and dispatch it on commit."""
    from monitoring.jobs.queue import job_create

    return job_create(kind=KIND, params={"connection": connection_id}, actor=actor)


def syncs_schedule() -> list[int]:
    """One queued sync per active connection (beat, every STEWARD_MLFLOW_SYNC_S)."""
    from governance.mlflow.models import MlflowConnection

    ids = MlflowConnection.objects.filter(active=True).values_list("pk", flat=True)
    return [sync_start(connection_id=pk).pk for pk in ids]


def run_alias_push(job: Any, progress: Callable[[float], None]) -> dict[str, Any]:
    """Set the alias; an unreachable server raises, so the job is retried with backoff."""
    from governance.mlflow.promotion import alias_push

    return alias_push(mirror_id=job.params["mirror"])


def alias_push_start(*, mirror_id: int, actor: Any = None) -> Any:
    """Record a queued alias push for the mirrored model, dispatched on commit."""
    from monitoring.jobs.queue import job_create

    return job_create(kind=ALIAS_KIND, params={"mirror": mirror_id}, actor=actor)
