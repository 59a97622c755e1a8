"""Writes on the rollups that people ask for: choose a version's reference dataset, rebuild a
deployment's rollups since a date. Both are audited and leave the work to the monitoring job
by marking the hours stale."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import TruncHour

from governance import audit
from monitoring.jobs.queue import job_create
from monitoring.models import (
    JobRun,
    PostedSummary,
    PredictionEvent,
    ReferenceChoice,
    ReferenceProfile,
)
from monitoring.rollups import staleness
from monitoring.rollups.hourly import floor_hour
from monitoring.rollups.profiles import ReferenceMissing, reference_dataset, reference_profile_build
from registry.actors import Actor, SystemActor
from registry.choices import Action
from registry.models import Dataset, Deployment, ModelVersion
from registry.services.common import require_object

MONITORING_JOB = "deployment_monitoring"


def _reference_state(version: ModelVersion) -> dict[str, Any]:
    """What the version is compared with now (for the audit entry's before / after)."""
    profile = ReferenceProfile.objects.filter(version=version).first()
    try:
        dataset: Dataset | None = reference_dataset(version)
    except ReferenceMissing:
        dataset = None
    return {
        "dataset": dataset.pk if dataset else None,
        "dataset_name": str(dataset) if dataset else "",
        "dataset_sha256": dataset.sha256 if dataset else "",
        "profile_digest": profile.digest if profile else "",
    }


def _event_hours(
    deployment_ids: list[int], since: dt.datetime | None = None
) -> dict[int, list[dt.datetime]]:
    """{deployment id: [hours holding events or posted summaries]} (two queries)."""
    rows = PredictionEvent.objects.filter(deployment_id__in=deployment_ids)
    if since is not None:
        rows = rows.filter(timestamp__gte=since)
    pairs = (
        rows.annotate(at=TruncHour("timestamp", tzinfo=dt.UTC))
        .order_by()
        .values_list("deployment_id", "at")
        .distinct()
    )
    posted = PostedSummary.objects.filter(deployment_id__in=deployment_ids)
    if since is not None:
        posted = posted.filter(hour__gte=floor_hour(since))
    found: dict[int, set[dt.datetime]] = {}
    for deployment_id, hour in [*pairs, *posted.values_list("deployment_id", "hour").distinct()]:
        found.setdefault(deployment_id, set()).add(hour)
    return {deployment_id: sorted(hours) for deployment_id, hours in found.items()}


@transaction.atomic
def reference_choose(
    *, version: ModelVersion, dataset: Dataset | int, actor: Actor
) -> ReferenceProfile:
    """Make `dataset` (one of the version's model's datasets) the version's reference: the
    profile is rebuilt from it at once (a new digest), and every hour of the version's
    deployments is marked stale so the next monitoring run summarises it on the new layouts.
    Drift results already stored keep the profile digest and dataset they were computed on.
    Needs "change" on the model."""
    require_object(actor, Action.CHANGE, version)
    version = ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
    if isinstance(dataset, int):  # an id from the API, looked up after the permission check
        found = Dataset.objects.filter(model_id=version.model_id, pk=dataset).first()
        if found is None:
            raise ValidationError({"dataset": "no such dataset of this version's model"})
        dataset = found
    if dataset.model_id != version.model_id:
        raise ValidationError({"dataset": "not a dataset of this version's model"})
    if dataset.external:
        raise ValidationError(
            {"dataset": "a metadata-only dataset (no rows in Steward) cannot be a reference"}
        )
    before = _reference_state(version)
    choice = ReferenceChoice.objects.filter(version=version).first() or ReferenceChoice(
        version=version
    )
    choice.dataset = dataset
    choice.chosen_by = actor
    choice.full_clean(validate_unique=False)
    choice.save()
    profile = reference_profile_build(version)
    deployments = list(Deployment.objects.filter(version=version).values_list("pk", flat=True))
    marked = 0
    for deployment_id, hours in _event_hours(deployments).items():
        marked += staleness.hours_mark_stale(deployment_id=deployment_id, hours=hours)
    audit.record(
        actor=actor,
        action="monitoring.reference.chosen",
        target=version,
        before=before,
        after=_reference_state(version) | {"hours_marked_stale": marked},
    )
    return profile


@transaction.atomic
def monitoring_rebuild(
    *, deployment: Deployment, since: dt.date, actor: Actor | SystemActor
) -> tuple[JobRun, int]:
    """Mark every hour of the deployment's events from `since` (a UTC day) stale and queue a
    monitoring run, which rebuilds them with their drift windows and days (its progress is
    the job's). Returns the run and the number of hours marked. Needs "change" on the
    model; a `SystemActor` (a name) is an operator at the shell."""
    if not isinstance(actor, str):
        require_object(actor, Action.CHANGE, deployment)
    start = dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC)
    hours = _event_hours([deployment.pk], since=start).get(deployment.pk, [])
    marked = staleness.hours_mark_stale(deployment_id=deployment.pk, hours=hours)
    job = job_create(kind=MONITORING_JOB, params={"deployment_id": deployment.pk}, actor=actor)
    audit.record(
        actor=actor,
        action="monitoring.rollups.rebuild_requested",
        target=deployment,
        after={"since": since.isoformat(), "hours_marked_stale": marked, "job": job.pk},
    )
    return job, marked
