"""A visible record of every background job: queued, running, succeeded, failed, retrying."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import models

from monitoring.choices import JobState

IN_FLIGHT = (JobState.QUEUED, JobState.RUNNING, JobState.RETRYING)


class JobRun(models.Model):
    """One requested run of a job. A worker claims it with a compare-and-set update, so a
    redelivered task message never runs the same job twice."""

    kind = models.CharField(max_length=80, db_index=True)
    params = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        max_length=20, choices=JobState.choices, default=JobState.QUEUED, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    progress = models.FloatField(default=0.0)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Renewed while the job reports progress; a run whose heartbeat is older than the lease
    # is taken to belong to a dead worker and may be claimed again.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state})"

    @property
    def in_flight(self) -> bool:
        """Queued, running or waiting for a retry: the page keeps polling it."""
        return self.state in IN_FLIGHT

    @property
    def result_text(self) -> str:
        return json.dumps(self.result, indent=2, sort_keys=True)

    @property
    def duration_s(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None
