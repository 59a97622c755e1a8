"""Rollups: the reference profile, hourly summaries, window drift and the monitoring job."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from django.utils import timezone
from scipy.stats import wasserstein_distance

from monitoring import engines
from monitoring.choices import JobState
from monitoring.jobs.tasks import run_job
from monitoring.models import DriftResult, HourlyHealth, HourlySummary, JobRun, PredictionEvent
from monitoring.rollups import hourly, jobs, profiles
from monitoring.rollups import services as rollup_services
from monitoring.rollups.drift import drift_compute, window_summaries
from registry import services as registry
from tests import factories

pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)
REFERENCE_ROWS = 2000


def reference_frame(rows: int = REFERENCE_ROWS, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.normal(40, 10, rows).round(1),
            "income": rng.normal(50_000, 8_000, rows).round(2),
            "region": rng.choice(["north", "south"], rows, p=[0.6, 0.4]),
        }
    )


@pytest.fixture
def dataset(model_a):
    frame = reference_frame()
    return registry.dataset_upload(
        model=model_a,
        actor=model_a.owner,
        upload=factories.csv_upload(frame.to_csv(index=False)),
        name="training",
        kind="training",
    )


@pytest.fixture
def deployment(model_a, dataset):
    version = factories.model_version(model=model_a, training_datasets=[dataset.pk])
    return factories.deployment(version=version)


def add_events(
    deployment, start: dt.datetime, hours: int, per_hour: int, *, income_shift: float = 0.0
) -> pd.DataFrame:
    """Bulk-create `per_hour` events in each of `hours` hours from `start`; returns them."""
    frame = reference_frame(hours * per_hour, seed=7)
    frame["income"] += income_shift
    offsets = np.repeat(np.arange(hours), per_hour) * 3600 + np.tile(
        np.linspace(0, 3590, per_hour).astype(int), hours
    )
    frame["timestamp"] = [start + dt.timedelta(seconds=int(s)) for s in offsets]
    frame["request_id"] = [f"r-{start:%d%H}-{i}" for i in range(len(frame))]
    PredictionEvent.objects.bulk_create(
        PredictionEvent(
            deployment=deployment,
            request_id=row.request_id,
            timestamp=row.timestamp,
            features={"age": row.age, "income": row.income, "region": row.region},
            latency_ms=10.0 + i % 7,
            status="error" if i % 10 == 0 else "ok",
            cache_hit=bool(i % 2),
            cpu=0.5,
            memory=300.0,
        )
        for i, row in enumerate(frame.itertuples())
    )
    return frame


def recent_start(hours: int) -> dt.datetime:
    return hourly.floor_hour(timezone.now()) - hours * HOUR


def test_profile_built_from_a_dataset_equals_the_engines_layout_on_the_same_data(deployment):
    profile = profiles.reference_profile_get_or_build(deployment.version)
    frame = reference_frame()
    layouts = profiles.profile_layouts(profile)
    summaries = profiles.profile_summaries(profile)
    assert layouts["age"] == engines.NumericLayout.from_reference(frame["age"])
    assert layouts["region"] == engines.CategoricalLayout.from_reference(frame["region"])
    assert summaries["income"] == engines.summarize(frame["income"], layouts["income"])
    assert summaries["region"].count == REFERENCE_ROWS
    assert profiles.reference_profile_get_or_build(deployment.version).pk == profile.pk


def test_a_model_without_datasets_has_no_reference_profile(model_b):
    version = factories.model_version(model=model_b)
    with pytest.raises(profiles.ReferenceMissing):
        profiles.reference_profile_get_or_build(version)


def test_hourly_summaries_merge_to_the_counts_of_one_summary_of_all_events(deployment):
    start = dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)
    events = add_events(deployment, start, hours=5, per_hour=60)
    assert hourly.summaries_build(deployment, start, start + 5 * HOUR) == 5
    profile = profiles.reference_profile_get_or_build(deployment.version)
    merged = window_summaries(deployment, start, start + 5 * HOUR, profile.digest)
    layouts = profiles.profile_layouts(profile)
    keys = pd.util.hash_pandas_object(events["request_id"], index=False).to_numpy()
    for name in ("age", "income"):
        whole = engines.summarize(events[name].to_numpy(), layouts[name], row_keys=keys)
        assert merged[name].counts.tolist() == whole.counts.tolist()
        assert merged[name].count == whole.count == 300
        assert merged[name].sample_values.tolist() == whole.sample_values.tolist()
        assert merged[name].total == pytest.approx(whole.total, rel=1e-12)
    whole_region = engines.summarize(events["region"], layouts["region"])
    assert merged["region"].counts.tolist() == whole_region.counts.tolist()
    health = HourlyHealth.objects.filter(deployment=deployment)
    assert sum(health.values_list("count", flat=True)) == 300
    assert sum(health.values_list("errors", flat=True)) == 30


def test_building_the_same_hours_twice_stores_no_duplicates(deployment):
    start = dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)
    add_events(deployment, start, hours=3, per_hour=20)
    hourly.summaries_build(deployment, start, start + 3 * HOUR)
    first = sorted(HourlySummary.objects.values_list("feature", "hour", "digest"))
    hourly.summaries_build(deployment, start, start + 3 * HOUR)
    assert sorted(HourlySummary.objects.values_list("feature", "hour", "digest")) == first
    assert len(first) == 9 and HourlyHealth.objects.count() == 3


def test_drift_of_a_window_with_one_shifted_feature_flags_that_feature_only(deployment):
    start = dt.datetime(2026, 11, 1, 0, tzinfo=dt.UTC)
    events = add_events(deployment, start, hours=6, per_hour=300, income_shift=8_000.0)
    hourly.summaries_build(deployment, start, start + 6 * HOUR)
    computed = drift_compute(deployment, start, start + 6 * HOUR, exact=False, multivariate=False)
    results = {row.feature: row for row in computed}
    reference = reference_frame()["income"]
    exact = wasserstein_distance(reference, events["income"]) / reference.std(ddof=0)
    assert results["income"].statistic == pytest.approx(exact, rel=0.02)
    assert set(results) == {"age", "income", "region"}
    assert results["income"].drifted
    assert not results["age"].drifted and not results["region"].drifted
    assert results["income"].method == "wasserstein"
    assert results["region"].method == "jensenshannon"
    profile = profiles.reference_profile_get_or_build(deployment.version)
    assert (
        results["age"].reference_digest
        == engines.summary_from_dict(profile.summaries["age"]).digest()
    )
    assert results["age"].engine_version == engines.ENGINE_VERSION


def test_monitoring_job_runs_through_jobrun_and_is_idempotent(deployment):
    add_events(deployment, recent_start(4), hours=3, per_hour=300, income_shift=8_000.0)
    params = {"deployment_id": deployment.pk, "window_hours": 6}
    job = JobRun.objects.create(kind=jobs.KIND, params=params)
    run_job.run(job.pk)
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result["hours_built"] == 3
    assert sorted(job.result["drifted"]) == ["__domain_classifier__", "__mmd__", "income"]
    counts = (HourlySummary.objects.count(), HourlyHealth.objects.count())
    # three features, then MMD and the domain classifier over whole rows
    assert counts == (9, 3) and DriftResult.objects.count() == 5
    kinds = dict(DriftResult.objects.values_list("feature", "kind"))
    assert kinds == {
        "age": "feature",
        "income": "feature",
        "region": "feature",
        "__mmd__": "multivariate",
        "__domain_classifier__": "multivariate",
    }

    again = JobRun.objects.create(kind=jobs.KIND, params=params)
    run_job.run(again.pk)
    again.refresh_from_db()
    assert again.state == JobState.SUCCEEDED and again.result["hours_built"] == 0
    assert (HourlySummary.objects.count(), HourlyHealth.objects.count()) == counts
    assert DriftResult.objects.count() == 5


def test_late_events_make_their_hour_rebuilt(deployment):
    start = recent_start(3)
    add_events(deployment, start, hours=2, per_hour=50)
    profile = profiles.reference_profile_get_or_build(deployment.version)
    end = start + 3 * HOUR
    jobs.deployment_monitor(deployment=deployment, start=start, end=end)
    assert hourly.hours_to_build(deployment, start, end, profile.digest) == []
    late = add_events(deployment, start + HOUR, hours=1, per_hour=5)
    assert late["request_id"].is_unique
    assert hourly.hours_to_build(deployment, start, end, profile.digest) == [start + HOUR]


def test_a_deployment_without_reference_data_is_skipped_not_failed(model_b):
    deployment = factories.deployment(version=factories.model_version(model=model_b))
    job = JobRun.objects.create(kind=jobs.KIND, params={"deployment_id": deployment.pk})
    run_job.run(job.pk)
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert job.result["skipped"].startswith("no reference data")


def test_schedule_queues_one_run_per_active_deployment_and_does_not_stack(deployment):
    created = jobs.monitoring_schedule()
    assert [JobRun.objects.get(pk=pk).params for pk in created] == [
        {"deployment_id": deployment.pk}
    ]
    assert jobs.monitoring_schedule() == []


def test_a_small_window_takes_the_exact_path_and_equals_scipy(deployment, settings):
    from scipy.stats import ks_2samp

    settings.STEWARD_DRIFT_EXACT_MAX_ROWS = 5_000
    start = dt.datetime(2026, 11, 1, 0, tzinfo=dt.UTC)
    events = add_events(deployment, start, hours=2, per_hour=200, income_shift=500.0)
    hourly.summaries_build(deployment, start, start + 2 * HOUR)
    settings_row = factories.monitoring_settings(deployment, drift_methods={"age": "ks"})
    assert settings_row.drift_methods == {"age": "ks"}
    results = {row.feature: row for row in drift_compute(deployment, start, start + 2 * HOUR)}
    reference = reference_frame()
    assert results["income"].parameters["source"] == "raw"
    exact = wasserstein_distance(reference["income"], events["income"])
    assert results["income"].statistic == pytest.approx(
        exact / reference["income"].std(ddof=0), abs=1e-9
    )
    ks = ks_2samp(reference["age"], events["age"])
    assert results["age"].method == "ks"
    assert results["age"].statistic == pytest.approx(ks.statistic, abs=1e-9)
    assert results["age"].p_value == pytest.approx(ks.pvalue, abs=1e-9)


def test_a_window_over_the_exact_limit_merges_hourly_summaries(deployment, settings):
    settings.STEWARD_DRIFT_EXACT_MAX_ROWS = 100
    start = dt.datetime(2026, 11, 1, 0, tzinfo=dt.UTC)
    add_events(deployment, start, hours=2, per_hour=200)
    hourly.summaries_build(deployment, start, start + 2 * HOUR)
    results = drift_compute(deployment, start, start + 2 * HOUR, multivariate=False)
    assert {row.parameters["source"] for row in results} == {"summary"}


def test_method_overrides_per_feature_and_per_kind_are_used(deployment):
    start = dt.datetime(2026, 11, 1, 0, tzinfo=dt.UTC)
    add_events(deployment, start, hours=2, per_hour=200)
    hourly.summaries_build(deployment, start, start + 2 * HOUR)
    factories.monitoring_settings(
        deployment,
        drift_methods={
            "income": "psi",
            "numerical": "ks",
            "categorical": {"method": "chisquare", "threshold": 0.01},
        },
    )
    rows = drift_compute(deployment, start, start + 2 * HOUR, exact=False, multivariate=False)
    results = {row.feature: row for row in rows}
    assert results["income"].method == "psi"
    assert results["region"].method == "chisquare" and results["region"].threshold == 0.01
    assert results["age"].method == "ks"  # the numerical kind's override


def test_shifted_rows_are_flagged_by_both_multivariate_tests_and_same_rows_are_not(deployment):
    start = dt.datetime(2026, 11, 1, 0, tzinfo=dt.UTC)
    add_events(deployment, start, hours=2, per_hour=300, income_shift=8_000.0)
    shifted = drift_compute(deployment, start, start + 2 * HOUR, exact=True)
    flags = {row.feature: row.drifted for row in shifted if row.kind == "multivariate"}
    assert flags == {"__mmd__": True, "__domain_classifier__": True}

    calm = factories.deployment(version=deployment.version, environment="dev")
    add_events(calm, start, hours=2, per_hour=300)
    rows = drift_compute(calm, start, start + 2 * HOUR, exact=True)
    classifier = next(row for row in rows if row.feature == "__domain_classifier__")
    assert classifier.method == "domain_classifier" and not classifier.drifted
    assert 0.4 < classifier.statistic < 0.6  # ROC AUC near chance


def test_multivariate_rows_store_the_digests_of_the_matrices_they_compared(deployment):
    from monitoring.engines import multivariate
    from monitoring.rollups.hourly import events_frame, feature_frame

    start = dt.datetime(2026, 11, 1, 0, tzinfo=dt.UTC)
    add_events(deployment, start, hours=1, per_hour=300)
    rows = drift_compute(deployment, start, start + HOUR, exact=True)
    mmd, classifier = (
        next(row for row in rows if row.feature == name)
        for name in ("__mmd__", "__domain_classifier__")
    )
    profile = profiles.reference_profile_get_or_build(deployment.version)
    columns = ["age", "income", "region"]
    reference = pd.DataFrame.from_records(profile.sample, columns=columns)
    current = feature_frame(events_frame(deployment, start, start + HOUR), columns)
    ref, cur = multivariate.feature_matrix(reference, current, columns, ["region"])
    assert mmd.reference_digest == multivariate.matrix_digest(ref, columns)
    assert mmd.current_digest == multivariate.matrix_digest(cur, columns)
    assert (classifier.reference_digest, classifier.current_digest) == (
        mmd.reference_digest,
        mmd.current_digest,
    )
    assert mmd.reference_digest != mmd.current_digest


def test_predictions_are_compared_with_the_reference_target(model_a):
    rng = np.random.default_rng(3)
    frame = reference_frame()
    frame["label"] = rng.choice(["approve", "decline"], len(frame), p=[0.7, 0.3])
    dataset = registry.dataset_upload(
        model=model_a,
        actor=model_a.owner,
        upload=factories.csv_upload(frame.to_csv(index=False)),
        name="training",
        kind="training",
    )
    type(model_a).objects.filter(pk=model_a.pk).update(target_column="label")
    version = factories.model_version(model=model_a, training_datasets=[dataset.pk])
    deployment = factories.deployment(version=version)
    start = dt.datetime(2026, 11, 1, 0, tzinfo=dt.UTC)
    add_events(deployment, start, hours=1, per_hour=400)
    # the model now declines most requests: far more than the 30 % of the reference
    PredictionEvent.objects.filter(deployment=deployment).update(prediction_label="decline")
    PredictionEvent.objects.filter(deployment=deployment, request_id__endswith="0").update(
        prediction_label="approve"
    )
    profile = profiles.reference_profile_build(deployment.version)
    assert profile.feature_types[profiles.PREDICTION_FEATURE] == "categorical"
    hourly.summaries_build(deployment, start, start + HOUR)
    for exact in (False, True):
        rows = drift_compute(deployment, start, start + HOUR, exact=exact, multivariate=False)
        prediction = next(row for row in rows if row.kind == "prediction")
        assert prediction.feature == profiles.PREDICTION_FEATURE
        assert prediction.method == "psi" and prediction.drifted


def test_a_regression_compares_predictions_only_with_a_prediction_column(model_a):
    frame = reference_frame()
    frame["amount"] = frame["income"] / 10
    dataset = registry.dataset_upload(
        model=model_a,
        actor=model_a.owner,
        upload=factories.csv_upload(frame.to_csv(index=False)),
        name="training",
        kind="training",
    )
    type(model_a).objects.filter(pk=model_a.pk).update(target_column="amount", task="regression")
    version = factories.model_version(model=model_a, training_datasets=[dataset.pk])
    assert profiles.PREDICTION_FEATURE not in profiles.reference_profile_build(version).layouts

    frame["prediction"] = frame["amount"] * 0.9
    scored = registry.dataset_upload(
        model=model_a,
        actor=model_a.owner,
        upload=factories.csv_upload(frame.to_csv(index=False)),
        name="scored",
        kind="reference",
    )
    profile = rollup_services.reference_choose(version=version, dataset=scored, actor=model_a.owner)
    assert profile.feature_types[profiles.PREDICTION_FEATURE] == "numeric"
    summary = engines.summary_from_dict(profile.summaries[profiles.PREDICTION_FEATURE])
    assert summary.mean == pytest.approx(float(frame["prediction"].mean()))


def test_hours_to_rebuild_are_grouped_into_runs_of_consecutive_hours():
    t0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    hours = [t0 + n * HOUR for n in (5, 0, 1, 2, 7, 8)]
    assert hourly.hour_runs(hours) == [
        (t0, t0 + 3 * HOUR),
        (t0 + 5 * HOUR, t0 + 6 * HOUR),
        (t0 + 7 * HOUR, t0 + 9 * HOUR),
    ]
    day = [t0 + n * HOUR for n in range(30)]
    assert hourly.hour_runs(day, limit=24) == [
        (t0, t0 + 24 * HOUR),
        (t0 + 24 * HOUR, t0 + 30 * HOUR),
    ]
    assert hourly.hour_runs([]) == []


def test_the_multivariate_sample_reads_only_the_newest_events(deployment):
    start = dt.datetime(2026, 11, 1, 0, tzinfo=dt.UTC)
    events = add_events(deployment, start, hours=2, per_hour=50)
    frame = hourly.events_frame(deployment, start, start + 2 * HOUR, latest=5)
    newest = events.sort_values("timestamp").tail(5)["request_id"]
    assert sorted(frame["request_id"]) == sorted(newest)


def straightforward_hour_rows(deployment, hour):
    """One hour's rows computed plainly: its events read alone, each feature summarised."""
    profile = profiles.reference_profile_get_or_build(deployment.version)
    layouts = profiles.profile_layouts(profile)
    rows = (
        PredictionEvent.objects.filter(
            deployment=deployment, timestamp__gte=hour, timestamp__lt=hour + HOUR
        )
        .order_by("timestamp", "id")
        .values_list(*hourly.EVENT_COLUMNS)
    )
    frame = hourly.rows_frame(list(rows))
    features = hourly.feature_frame(frame, list(layouts))
    keys = hourly.row_keys(frame)
    summaries = {
        name: engines.summarize(features[name].to_numpy(), layout, row_keys=keys)
        for name, layout in layouts.items()
    }
    return summaries, hourly.health_numbers(frame), len(frame)


def test_chunked_rebuild_stores_the_rows_of_a_plain_per_hour_computation(deployment):
    """Hours spread over three runs, read in chunks smaller than an hour and larger, with
    missing and odd values, on SQLite and PostgreSQL (COPY in and out there)."""
    start = dt.datetime(2026, 10, 1, 6, tzinfo=dt.UTC)
    add_events(deployment, start, hours=4, per_hour=37)
    add_events(deployment, start + 30 * HOUR, hours=2, per_hour=50)
    odd = start + 2 * HOUR + dt.timedelta(minutes=7)
    PredictionEvent.objects.bulk_create(
        PredictionEvent(
            deployment=deployment,
            request_id=f'odd,"{i}"\n\\',
            timestamp=odd + dt.timedelta(microseconds=i),
            features=[{}, {"age": None, "region": None}, {"age": "41.5", "region": 3}][i % 3],
            prediction_label=["", None, "yes"][i % 3],
            prediction_score=[None, 0.25, 1e-7][i % 3],
            latency_ms=None,
            status="error",
            cache_hit=[None, True, False][i % 3],
        )
        for i in range(9)
    )
    hours = [start + n * HOUR for n in (0, 1, 2, 3, 30, 31)] + [start + 100 * HOUR]
    for chunk in (25, 10_000):
        assert hourly.hours_build(deployment, hours, read_chunk=chunk) == 6
        stored = {
            (row.feature, row.hour): row
            for row in HourlySummary.objects.filter(deployment=deployment)
        }
        healths = {row.hour: row for row in HourlyHealth.objects.filter(deployment=deployment)}
        assert len(stored) == 6 * 3 and sorted(healths) == hours[:-1]
        for hour in hours[:-1]:
            summaries, health, count = straightforward_hour_rows(deployment, hour)
            for name, summary in summaries.items():
                row = stored[(name, hour)]
                assert row.summary == summary.to_dict()
                assert (row.digest, row.row_count) == (summary.digest(), count)
            row = healths[hour]
            assert {name: getattr(row, name) for name in health} == health


def test_a_long_rebuild_reports_progress_between_slices_and_stores_the_same_rows(
    deployment, monkeypatch
):
    start = dt.datetime(2026, 10, 1, 6, tzinfo=dt.UTC)
    add_events(deployment, start, hours=5, per_hour=20)
    hours = [start + n * HOUR for n in range(5)]
    hourly.hours_build(deployment, hours)
    before = sorted(HourlySummary.objects.values_list("feature", "hour", "digest"))
    monkeypatch.setattr(hourly, "PROGRESS_HOURS", 2)
    reports = []

    def progress(fraction):
        # A query here too: the report is made between reads, never during a streamed one.
        reports.append((fraction, HourlyHealth.objects.filter(deployment=deployment).count()))

    assert hourly.hours_build(deployment, hours, progress=progress) == 5
    # Fractions of the hours read; the rows themselves are written at the end.
    assert reports == [(0.4, 0), (0.8, 0), (1.0, 0)]
    assert sorted(HourlySummary.objects.values_list("feature", "hour", "digest")) == before
