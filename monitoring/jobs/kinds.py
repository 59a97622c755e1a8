"""Which function runs each kind of job, and on which Celery queue. A kind's function takes the
`JobRun` and a progress callback and returns a JSON-ready result. Apps register their kinds
from `AppConfig.ready()`, which is how governance adds its jobs without monitoring importing
governance.

Queues split the work by what it is (settings.STEWARD_QUEUES), so that a worker can be given
one kind of work: a slow report never holds up monitoring when each has its own workers
(docs/operations.md, "Workers and queues")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

JobBody = Callable[[Any, Callable[[float], None]], Any]

MONITORING = "monitoring"
REPORTS = "reports"
WEBHOOKS = "webhooks"
INTEGRATIONS = "integrations"
QUEUES = (MONITORING, REPORTS, WEBHOOKS, INTEGRATIONS)


@dataclass(frozen=True)
class Kind:
    body: JobBody
    queue: str


JOBS: dict[str, Kind] = {}


def register(kind: str, body: JobBody, *, queue: str = MONITORING) -> None:
    """Make `kind` runnable on `queue`; registering a kind twice differently is a mistake."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}; one of {', '.join(QUEUES)}")
    entry = Kind(body=body, queue=queue)
    existing = JOBS.get(kind)
    if existing is not None and existing != entry:
        raise ValueError(f"job kind {kind!r} is already registered")
    JOBS[kind] = entry


def queue_for(kind: str) -> str:
    """The queue a run of `kind` is sent to (monitoring for a kind nobody registered: its run
    then fails visibly on the worker instead of waiting on a queue nobody reads)."""
    entry = JOBS.get(kind)
    return entry.queue if entry is not None else MONITORING
