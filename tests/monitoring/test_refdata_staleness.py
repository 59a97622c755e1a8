"""Reference data follows lineage (and an owner's choice); every hour with data is rolled up:
ingestion marks hours stale, the monitoring job rebuilds them wherever they are in time."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from governance import lineage
from governance.audit.models import AuditEvent
from monitoring.ingestion.services import ground_truth_ingest, predictions_ingest
from monitoring.jobs.tasks import run_job
from monitoring.models import (
    DailyPerformance,
    DriftResult,
    HourlyHealth,
    HourlySummary,
    JobRun,
    StaleHour,
)
from monitoring.rollups import hourly, jobs, profiles, staleness
from monitoring.rollups import services as rollup_services
from registry import services as registry
from tests import factories

pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)


def frame(rows: int, seed: int, *, age_mean: float = 40.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.normal(age_mean, 10, rows).round(1),
            "income": rng.normal(50_000, 8_000, rows).round(2),
            "region": rng.choice(["north", "south"], rows),
            "label": rng.choice(["0", "1"], rows),
        }
    )


def upload(model, data: pd.DataFrame, name: str, kind: str = "training"):
    return registry.dataset_upload(
        model=model,
        actor=model.owner,
        upload=factories.csv_upload(data.to_csv(index=False)),
        name=name,
        kind=kind,
    )


@pytest.fixture
def two_versions(model_a):
    """v1 trained on 1,350 rows, v2 (registered later) on a newer dataset of 2,250 rows."""
    first = upload(model_a, frame(1_350, seed=1), "cohort")
    v1 = factories.model_version(model=model_a, training_datasets=[first.pk])
    second = upload(model_a, frame(2_250, seed=2, age_mean=55.0), "cohort")
    v2 = factories.model_version(model=model_a, training_datasets=[second.pk])
    return v1, v2, first, second


# --- 1. reference data follows lineage --------------------------------------------------------


def test_each_version_is_profiled_on_the_dataset_it_was_trained_on(two_versions):
    v1, v2, first, second = two_versions
    p1 = profiles.reference_profile_get_or_build(v1)
    p2 = profiles.reference_profile_get_or_build(v2)
    # The old code took the model's newest training dataset for both versions.
    assert (p1.dataset_id, p1.dataset_sha256) == (first.pk, first.sha256)
    assert (p2.dataset_id, p2.dataset_sha256) == (second.pk, second.sha256)
    assert profiles.profile_summaries(p1)["age"].count == 1_350
    assert profiles.profile_summaries(p2)["age"].count == 2_250
    assert profiles.profile_summaries(p1)["age"].mean == pytest.approx(
        frame(1_350, seed=1)["age"].mean()
    )


def test_a_reference_dataset_linked_to_the_version_serves_when_it_was_not_trained_on_one(
    model_a,
):
    version = factories.model_version(model=model_a)
    # A reference dataset of the model that is not linked to the version is not its data.
    unlinked = upload(model_a, frame(300, seed=3), "kept", kind="reference")
    with pytest.raises(profiles.ReferenceMissing, match="no reference data"):
        profiles.reference_dataset(version)
    linked = upload(model_a, frame(400, seed=4), "linked", kind="reference")
    lineage.link(upstream=linked, downstream=version, relation="validated_with", actor=None)
    assert profiles.reference_dataset(version) == linked != unlinked


def test_a_version_without_reference_data_gets_a_plain_skip(model_a):
    upload(model_a, frame(500, seed=1), "other")  # the model's, not the version's
    deployment = factories.deployment(version=factories.model_version(model=model_a))
    job = JobRun.objects.create(kind=jobs.KIND, params={"deployment_id": deployment.pk})
    run_job.run(job.pk)
    job.refresh_from_db()
    assert job.state == "succeeded"
    assert job.result["skipped"].startswith("no reference data")


def test_owner_chooses_a_reference_audited_and_old_drift_keeps_its_digest(two_versions):
    v1, _v2, first, second = two_versions
    deployment = factories.deployment(version=v1)
    start = dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)
    post_events(deployment, start, hours=2, per_hour=100)
    old_profile = profiles.reference_profile_get_or_build(v1)
    hourly.hours_build(deployment, [start, start + HOUR])
    from monitoring.rollups.drift import drift_compute

    drift_compute(deployment, start, start + 2 * HOUR, multivariate=False)
    stored = DriftResult.objects.get(deployment=deployment, feature="age")
    assert stored.profile_digest == old_profile.digest
    assert stored.reference_sha256 == first.sha256

    new_profile = rollup_services.reference_choose(version=v1, dataset=second, actor=v1.model.owner)
    assert new_profile.digest != old_profile.digest
    assert new_profile.dataset_id == second.pk
    stored.refresh_from_db()
    assert (stored.profile_digest, stored.reference_sha256) == (old_profile.digest, first.sha256)
    # Reproducible: the first dataset gives the same profile digest again.
    assert profiles.reference_profile_build(v1).digest == new_profile.digest
    entry = AuditEvent.objects.get(action="monitoring.reference.chosen")
    assert entry.before["dataset_sha256"] == first.sha256
    assert entry.after["dataset_sha256"] == second.sha256
    assert entry.after["hours_marked_stale"] == 2
    # The next run rebuilds those hours on the new profile.
    jobs.deployment_monitor(deployment=deployment, start=start, end=start + 2 * HOUR)
    digests = set(HourlyHealth.objects.filter(deployment=deployment).values_list("profile_digest"))
    assert digests == {(new_profile.digest,)}


def test_choosing_a_reference_needs_change_and_a_dataset_of_the_model(
    two_versions, reviewer, model_b
):
    v1, _v2, _first, second = two_versions
    with pytest.raises(PermissionDenied):
        rollup_services.reference_choose(version=v1, dataset=second, actor=reviewer)
    foreign = upload(model_b, frame(100, seed=9), "foreign")
    with pytest.raises(ValidationError) as error:
        rollup_services.reference_choose(version=v1, dataset=foreign, actor=v1.model.owner)
    assert "dataset" in error.value.message_dict


# --- 2. every hour with data is rolled up ----------------------------------------------------


def events_body(start: dt.datetime, hours: int, per_hour: int, prefix: str = "e") -> bytes:
    data = frame(hours * per_hour, seed=int(start.timestamp()) % 1000)
    lines = []
    for i, row in enumerate(data.itertuples()):
        moment = start + (i // per_hour) * HOUR + dt.timedelta(seconds=(i % per_hour) * 3)
        lines.append(
            {
                "request_id": f"{prefix}-{moment:%Y%m%d%H}-{i}",
                "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "features": {"age": row.age, "income": row.income, "region": row.region},
                "prediction": row.label,
                "score": 0.7 if row.label == "1" else 0.2,
                "latency_ms": 10.0,
            }
        )
    return "\n".join(json.dumps(line) for line in lines).encode()


def post_events(deployment, start, *, hours, per_hour, prefix="e"):
    return predictions_ingest(
        deployment=deployment,
        body=events_body(start, hours, per_hour, prefix),
        content_type="application/x-ndjson",
        on_error="reject",
        actor=deployment.version.model.owner,
    )


@pytest.fixture
def deployment(two_versions):
    return factories.deployment(version=two_versions[0])


def test_ingestion_marks_each_touched_hour_stale_in_the_batch(deployment):
    start = dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)
    post_events(deployment, start, hours=3, per_hour=5)
    assert list(StaleHour.objects.values_list("hour", flat=True)) == [
        start,
        start + HOUR,
        start + 2 * HOUR,
    ]


def test_late_events_for_a_built_hour_are_rolled_up_by_the_next_run(deployment):
    end = hourly.floor_hour(timezone.now())
    hour = end - 5 * HOUR
    post_events(deployment, hour, hours=1, per_hour=40)
    jobs.deployment_monitor(deployment=deployment, start=end - 24 * HOUR, end=end)
    assert HourlyHealth.objects.get(deployment=deployment, hour=hour).count == 40
    assert not StaleHour.objects.exists()
    post_events(deployment, hour, hours=1, per_hour=7, prefix="late")
    jobs.deployment_monitor(deployment=deployment, start=end - 24 * HOUR, end=end)
    assert HourlyHealth.objects.get(deployment=deployment, hour=hour).count == 47
    summary = HourlySummary.objects.get(deployment=deployment, hour=hour, feature="age")
    assert summary.row_count == 47
    assert not StaleHour.objects.exists()


def test_an_hour_90_days_old_is_built_with_its_day_and_its_drift_window(deployment):
    end = hourly.floor_hour(timezone.now())
    # Both hours on one UTC day, whatever the time of the run (at 23:00 they were not).
    old = dt.datetime.combine((end - 90 * 24 * HOUR).date(), dt.time(10), tzinfo=dt.UTC)
    post_events(deployment, old, hours=2, per_hour=30)
    # A drift window stored long ago that holds the old hour is recomputed too.
    DriftResult.objects.create(
        deployment=deployment,
        window_start=old - 24 * HOUR,
        window_end=old + 24 * HOUR,
        feature="age",
        method="psi",
        statistic=0.0,
        threshold=0.1,
        drifted=False,
        engine_version="old",
        reference_digest="",
        current_digest="",
    )
    result = jobs.deployment_monitor(deployment=deployment, start=end - 168 * HOUR, end=end)
    assert result["hours_built"] == 2
    assert HourlyHealth.objects.get(deployment=deployment, hour=old).count == 30
    assert HourlySummary.objects.filter(deployment=deployment, hour=old + HOUR).count() == 3
    assert DailyPerformance.objects.get(deployment=deployment, day=old.date()).predictions == 60
    recomputed = DriftResult.objects.get(
        deployment=deployment, window_start=old - 24 * HOUR, feature="age"
    )
    assert recomputed.engine_version != "old" and recomputed.current_digest


def test_ground_truth_marks_its_predictions_hours_and_the_day_is_recomputed(deployment):
    end = hourly.floor_hour(timezone.now())
    old = end - 40 * 24 * HOUR
    post_events(deployment, old, hours=1, per_hour=20)
    jobs.deployment_monitor(deployment=deployment, start=end - 24 * HOUR, end=end)
    assert DailyPerformance.objects.get(deployment=deployment, day=old.date()).labelled == 0
    truth = [
        {"request_id": f"e-{old:%Y%m%d%H}-{i}", "label": "1" if i % 2 else "0"} for i in range(12)
    ]
    ground_truth_ingest(
        deployment=deployment,
        body="\n".join(json.dumps(row) for row in truth).encode(),
        content_type="application/x-ndjson",
        on_error="reject",
        actor=deployment.version.model.owner,
    )
    assert list(StaleHour.objects.values_list("hour", flat=True)) == [old]
    jobs.deployment_monitor(deployment=deployment, start=end - 24 * HOUR, end=end)
    row = DailyPerformance.objects.get(deployment=deployment, day=old.date())
    assert row.labelled == 12 and row.metrics["accuracy"] is not None


def test_marks_renewed_after_the_claim_stay_for_the_next_run(deployment):
    hour = dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)
    staleness.hours_mark_stale(deployment_id=deployment.pk, hours=[hour])
    assert staleness.marks_claim(deployment_id=deployment.pk) == [hour]
    staleness.hours_mark_stale(deployment_id=deployment.pk, hours=[hour, hour + HOUR])
    assert staleness.marks_claim(deployment_id=deployment.pk) == [hour, hour + HOUR]
    assert staleness.marks_claim(deployment_id=deployment.pk) == []


def test_rebuild_command_marks_hours_since_a_day_and_queues_a_run(deployment):
    start = dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)
    post_events(deployment, start, hours=2, per_hour=5)
    post_events(deployment, start + 48 * HOUR, hours=1, per_hour=5, prefix="later")
    StaleHour.objects.all().delete()
    call_command("monitoring_rebuild", "--deployment", deployment.pk, "--since", "2026-11-02")
    assert list(StaleHour.objects.values_list("hour", flat=True)) == [start + 48 * HOUR]
    job = JobRun.objects.get(kind=jobs.KIND)
    assert job.params == {"deployment_id": deployment.pk}
    entry = AuditEvent.objects.get(action="monitoring.rollups.rebuild_requested")
    assert entry.after["hours_marked_stale"] == 1 and entry.after["job"] == job.pk


def test_rebuild_api_is_for_owners_and_audited(api_as, owner, reviewer, outsider, deployment):
    target = f"/api/v1/deployments/{deployment.pk}/monitoring-rebuild/"
    assert api_as(outsider).post(target, {"since": "2026-11-01"}).status_code == 404
    assert api_as(reviewer).post(target, {"since": "2026-11-01"}).status_code == 403
    assert api_as(owner).post(target, {"since": "tomorrow"}).status_code == 400
    response = api_as(owner).post(target, {"since": "2026-11-01"})
    assert response.status_code == 202, response.content
    job = JobRun.objects.get(pk=response.json()["job"])
    assert job.kind == jobs.KIND and job.requested_by == owner
    assert AuditEvent.objects.filter(action="monitoring.rollups.rebuild_requested").count() == 1


def test_reference_api_shows_and_chooses_the_versions_dataset(
    api_as, owner, reviewer, two_versions
):
    v1, _v2, first, second = two_versions
    target = f"/api/v1/versions/{v1.pk}/monitoring-reference/"
    shown = api_as(reviewer).get(target)
    assert shown.status_code == 200, shown.content
    assert shown.json()["dataset"]["id"] == first.pk
    assert shown.json()["dataset"]["sha256"] == first.sha256
    assert shown.json()["chosen"] is False
    assert api_as(reviewer).post(target, {"dataset": second.pk}).status_code == 403
    response = api_as(owner).post(target, {"dataset": second.pk})
    assert response.status_code == 200, response.content
    assert response.json()["dataset"]["sha256"] == second.sha256
    assert response.json()["chosen"] is True
    assert response.json()["profile_digest"]
    assert api_as(owner).post(target, {"dataset": 999_999}).status_code == 400


def test_many_days_at_once_give_the_rows_of_one_day_at_a_time(deployment):
    from monitoring.performance import services as performance

    performance.monitoring_settings_update(
        deployment=deployment, actor=deployment.version.model.owner, sensitive_attribute="region"
    )
    start = dt.datetime(2026, 11, 1, 20, tzinfo=dt.UTC)
    post_events(deployment, start, hours=30, per_hour=12)  # three UTC days, none whole
    truth = [
        {"request_id": f"e-{start + (i // 12) * HOUR:%Y%m%d%H}-{i}", "label": str(i % 2)}
        for i in range(0, 360, 3)
    ]
    ground_truth_ingest(
        deployment=deployment,
        body="\n".join(json.dumps(row) for row in truth).encode(),
        content_type="application/x-ndjson",
        on_error="reject",
        actor=deployment.version.model.owner,
    )
    days = [start.date() + dt.timedelta(days=n) for n in range(4)]  # the last has no events
    one_by_one = {
        row.day: (row.predictions, row.labelled, row.metrics, row.fairness)
        for day in days
        if (row := performance.daily_performance_compute(deployment=deployment, day=day))
    }
    DailyPerformance.objects.all().delete()
    rows = performance.performance_days_list_compute(deployment=deployment, days=days)
    at_once = {
        row.day: (row.predictions, row.labelled, row.metrics, row.fairness)
        for row in DailyPerformance.objects.filter(deployment=deployment)
    }
    assert len(rows) == 3 and set(at_once) == set(days[:3])
    assert at_once == one_by_one
    assert sum(v[0] for v in at_once.values()) == 360
    assert all(v[3]["attribute"] == "region" for v in at_once.values())
