"""Celery entry points for beat: queue the monthly reports that are due."""

from __future__ import annotations

from celery import shared_task

from governance.reports.scheduling import schedules_run_due


@shared_task(acks_late=True)
def run_due_schedules() -> list[int]:
    return schedules_run_due()
