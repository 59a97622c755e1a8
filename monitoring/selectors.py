"""Reads of the job runs: one rule for every list of them (the job page, its progress feed,
the report export jobs).

A job run belongs to no model (the integrity scan covers every stored file, and its result
names them), so the whole list is for those who see every model (superusers, auditors,
reviewers) or hold `monitoring.view_jobrun`; everyone else sees the runs they requested.
"""

from __future__ import annotations

from django.db.models import QuerySet

from monitoring.models import JobRun
from registry.actors import Viewer
from registry.selectors import sees_everything


def sees_all_jobs(user: Viewer) -> bool:
    return sees_everything(user) or user.has_perm("monitoring.view_jobrun")


def job_run_list(*, user: Viewer, state: str = "", kind: str = "") -> QuerySet[JobRun]:
    """The runs `user` may see (see the module docstring), newest first."""
    if not (user.is_authenticated and user.is_active):
        return JobRun.objects.none()
    runs = JobRun.objects.select_related("requested_by")
    if not sees_all_jobs(user):
        runs = runs.filter(requested_by=user)
    if state:
        runs = runs.filter(state=state)
    if kind:
        runs = runs.filter(kind=kind)
    return runs.order_by("-created_at", "-id")
