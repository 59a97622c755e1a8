"""Celery entry point for beat: queue a sync of every active MLflow connection."""

from __future__ import annotations

from celery import shared_task

from governance.mlflow.jobs import syncs_schedule


@shared_task(acks_late=True)
def schedule_syncs() -> list[int]:
    return syncs_schedule()
