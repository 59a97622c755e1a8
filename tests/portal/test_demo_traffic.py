"""Demo traffic: the pure generator (portal.demo.traffic_generator) and the seeded events and ground
truth (portal.demo.traffic), posted through the ingestion services."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest
from django.core.management import call_command
from scipy.stats import ks_2samp
from sklearn.metrics import accuracy_score

from monitoring.models import (
    DeploymentActivity,
    GroundTruth,
    JobRun,
    PostedSummary,
    PredictionEvent,
)
from portal.demo import catalog, training
from portal.demo import traffic as demo_traffic
from portal.demo import traffic_generator as traffic
from registry.choices import DeploymentStatus
from registry.models import Deployment
from tests.portal.demo_seed import cached_train, module_seed

END = dt.datetime(2026, 11, 22, 7, tzinfo=dt.UTC)


# --- the pure generator ------------------------------------------------------------------


def _generated(spec, *, traffic_share: int = 100, **options):
    """The first version's production traffic of a demo model, with its problem and plan."""
    problem = training.load_problem(spec.problem)
    split = training.split_problem(problem)
    trained = cached_train(problem, split, algorithm=spec.versions[0].algorithm)
    plan = traffic.plan_for(spec, environment="production", version=1, traffic_share=traffic_share)
    generated = traffic.generate(problem, split.valid, trained.estimator, plan, end=END, **options)
    return problem, plan, generated


@pytest.fixture(scope="module")
def breast_production():
    return lambda: _generated(catalog.BREAST_CANCER, traffic_share=90, decision_threshold=0.35)[2]


def test_the_generator_is_deterministic(breast_production):
    first, second = breast_production(), breast_production()
    pd.testing.assert_frame_equal(first.events, second.events)
    pd.testing.assert_frame_equal(first.features, second.features)
    assert list(first.prediction_batches()) == list(second.prediction_batches())
    assert list(first.ground_truth_batches()) == list(second.ground_truth_batches())


def test_traffic_spans_31_days_of_hourly_timestamps_before_the_end(breast_production):
    events = breast_production().events
    assert events["timestamp"].max() < pd.Timestamp(END)
    assert events["timestamp"].min() >= pd.Timestamp(END) - pd.Timedelta(days=traffic.DAYS)
    assert events["timestamp"].dt.floor("h").nunique() > 0.9 * traffic.DAYS * 24
    assert events["timestamp"].dt.floor("D").nunique() == traffic.DAYS + 1  # partial ends
    assert events["request_id"].is_unique
    assert 0 < (events["status"] == "error").mean() < 0.05
    assert 0.05 < events["cache_hit"].mean() < 0.25
    assert 0.75 < events["has_truth"].mean() < 0.95


def test_worst_concave_points_drifts_up_late_and_predictions_follow(breast_production):
    generated = breast_production()
    times, features = generated.events["timestamp"], generated.features
    late = (times >= pd.Timestamp(END) - pd.Timedelta(days=7)).to_numpy()
    early = (times < pd.Timestamp(END) - pd.Timedelta(days=14)).to_numpy()
    drifted = features[traffic.DRIFTED_FEATURE]
    assert drifted[late].mean() > drifted[early].mean() + drifted[early].std()
    assert ks_2samp(drifted[late], drifted[early]).pvalue < 1e-12
    steady = features["mean texture"]
    assert ks_2samp(steady[late], steady[early]).pvalue > 0.01
    assert abs(steady[late].mean() - steady[early].mean()) < 0.2 * steady[early].std()
    # The model sees the shifted feature: more aspirates are scored malignant.
    score = generated.events["score"]
    assert score[late].mean() > score[early].mean()


def test_wine_traffic_sends_every_cultivars_probability_as_ingestion_accepts_it():
    import json

    from monitoring.ingestion.parsing import PREDICTION_FIELDS, parse_batch
    from monitoring.ingestion.validation import validate_predictions

    problem, _, generated = _generated(catalog.WINE)
    _, body = next(generated.prediction_batches())
    rows = [json.loads(line) for line in body.decode().splitlines()]
    ok = [row for row in rows if row["status"] == "ok"]
    assert ok and all(set(row["scores"]) == {"0", "1", "2"} for row in ok)
    assert all(row["scores"][row["prediction"]] == row["score"] for row in ok)
    batch = parse_batch(
        body, content_type="application/x-ndjson", reserved=PREDICTION_FIELDS, nested=True
    )
    schema = [{"name": name, "type": "numeric"} for name in problem.features]
    report = validate_predictions(batch, schema)
    assert report.error_list() == []


def test_only_the_planned_deployments_get_a_story():
    plans = {
        (spec.problem, step.environment, step.traffic_share): traffic.plan_for(
            spec,
            environment=step.environment,
            version=step.version,
            traffic_share=step.traffic_share,
        )
        for spec in catalog.DEMO_MODELS
        for step in spec.deployments
    }
    drifted = {key for key, plan in plans.items() if plan.drift is not None}
    decayed = {key for key, plan in plans.items() if plan.decay is not None}
    assert drifted == {("breast_cancer", "production", 90), ("breast_cancer", "production", 10)}
    # the heart model's production, and the breast-cancer canary (10 % of its production)
    assert decayed == {("heart_attack", "production", 100), ("breast_cancer", "production", 10)}
    gapped = {key for key, plan in plans.items() if plan.gap is not None}
    assert gapped == {("diabetes", "production", 100)}


def test_the_diabetes_production_traffic_sends_bmi_empty_in_recent_events_only():
    _, plan, generated = _generated(catalog.DIABETES)
    times = generated.events["timestamp"]
    recent = (times >= pd.Timestamp(END) - pd.Timedelta(days=plan.gap.days)).to_numpy()
    empty = generated.features[traffic.GAP_FEATURE].isna().to_numpy()
    assert not empty[~recent].any()
    assert 0.2 < empty[recent].mean() < 0.4
    # The model predicted on the full row: no score is missing, and the batches carry null.
    assert generated.events["score"].notna().all()
    body = b"\n".join(batch for _, batch in generated.prediction_batches())
    assert body.count(b'"bmi": null') == int(empty.sum())


# --- the seeded traffic ------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    """One seed for the module, rolled back at its end (the seed is the slow part)."""
    with module_seed(django_db_blocker, tmp_path_factory.mktemp("traffic")) as output:
        yield output


def _active() -> list[Deployment]:
    return list(
        Deployment.objects.filter(status=DeploymentStatus.ACTIVE).select_related("version__model")
    )


def _joined(deployment: Deployment) -> pd.DataFrame:
    events = pd.DataFrame(
        PredictionEvent.objects.filter(deployment=deployment, status="ok").values(
            "request_id", "timestamp", "prediction_label"
        )
    )
    truth = pd.DataFrame(
        GroundTruth.objects.filter(deployment=deployment).values("request_id", "label")
    )
    return events.merge(truth, on="request_id")


@pytest.mark.django_db
def test_every_active_deployment_has_31_days_of_events_mostly_labelled(seeded):
    active = _active()
    assert len(active) == 12
    for deployment in active:
        if (deployment.version.model.name, deployment.environment) == demo_traffic.SUMMARY_FED:
            continue  # fed hourly summaries instead (the test below)
        events = PredictionEvent.objects.filter(deployment=deployment)
        times = pd.Series(events.values_list("timestamp", flat=True))
        assert times.max() - times.min() > pd.Timedelta(days=30), deployment
        joined = GroundTruth.objects.filter(
            deployment=deployment, request_id__in=events.values("request_id")
        ).count()
        assert joined > 0.75 * events.count(), deployment
        assert JobRun.objects.filter(
            kind="deployment_monitoring", params__deployment_id=deployment.pk
        ).exists()


@pytest.mark.django_db
def test_one_deployment_is_fed_31_days_of_hourly_summaries_instead_of_events(seeded):
    name, environment = demo_traffic.SUMMARY_FED
    deployment = Deployment.objects.get(
        version__model__name=name, environment=environment, status=DeploymentStatus.ACTIVE
    )
    posted = PostedSummary.objects.filter(deployment=deployment, source=demo_traffic.SUMMARY_SOURCE)
    hours = sorted(posted.values_list("hour", flat=True))
    assert hours[-1] - hours[0] > dt.timedelta(days=30)
    assert not PredictionEvent.objects.filter(deployment=deployment).exists()
    activity = DeploymentActivity.objects.get(deployment=deployment)
    assert activity.predictions == sum(posted.values_list("count", flat=True)) > 0
    # The known outcomes travel with the hours: the day's performance is computed from them.
    labelled = sum(p["labelled"] for p in posted.values_list("performance", flat=True) if p)
    assert 0 < labelled <= activity.predictions
    assert f"{name} v1 {environment}:" in seeded and "sent as hourly summaries" in seeded


@pytest.mark.django_db
def test_the_seed_prints_a_line_per_deployment(seeded):
    for deployment in _active():
        version = deployment.version
        assert f"{version.model.name} v{version.number} {deployment.environment}:" in seeded
    assert seeded.count("drift injected on 'worst concave points'") == 2
    assert seeded.count("accuracy decay injected") == 2  # heart production, breast canary


@pytest.mark.django_db
def test_the_events_went_through_the_ingestion_service_as_the_scientist(seeded):
    from governance.models import AuditEvent

    batches = AuditEvent.objects.filter(action="monitoring.predictions.ingested")
    weeks = -(-traffic.DAYS // 7)  # one batch per week of traffic and deployment
    assert batches.count() >= 11 * weeks  # the summary-fed deployment posts summaries
    assert set(batches.values_list("actor_name", flat=True)) == {"scientist"}


@pytest.mark.django_db
def test_running_the_seed_again_adds_no_events_or_jobs(seeded):
    counts = (PredictionEvent.objects.count(), GroundTruth.objects.count(), JobRun.objects.count())
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert (
        PredictionEvent.objects.count(),
        GroundTruth.objects.count(),
        JobRun.objects.count(),
    ) == counts
    assert out.getvalue().count("traffic exists, skipped") == 12


@pytest.mark.django_db
def test_heart_production_accuracy_falls_in_the_last_week(seeded):
    deployment = Deployment.objects.get(
        version__model__name="Heart attack risk",
        environment="production",
        status=DeploymentStatus.ACTIVE,
    )
    joined = _joined(deployment)
    end = joined["timestamp"].max()
    last_week = joined[joined["timestamp"] > end - pd.Timedelta(days=7)]
    first_weeks = joined[joined["timestamp"] < end - pd.Timedelta(days=10)]
    before = accuracy_score(first_weeks["label"], first_weeks["prediction_label"])
    after = accuracy_score(last_week["label"], last_week["prediction_label"])
    assert after < before - 0.1, (before, after)


@pytest.mark.django_db
def test_other_production_deployments_keep_their_accuracy(seeded):
    deployment = Deployment.objects.get(
        version__model__name="Wine cultivar",
        environment="production",
        status=DeploymentStatus.ACTIVE,
    )
    joined = _joined(deployment)
    end = joined["timestamp"].max()
    last_week = joined[joined["timestamp"] > end - pd.Timedelta(days=7)]
    first_weeks = joined[joined["timestamp"] < end - pd.Timedelta(days=10)]
    before = accuracy_score(first_weeks["label"], first_weeks["prediction_label"])
    after = accuracy_score(last_week["label"], last_week["prediction_label"])
    assert abs(after - before) < 0.05, (before, after)


@pytest.mark.django_db
def test_the_heart_model_is_watched_for_fairness_by_sex(seeded):
    from monitoring.models import MonitoringSettings

    watched = MonitoringSettings.objects.filter(sensitive_attribute="sex")
    heart = [d for d in _active() if d.version.model.name == "Heart attack risk"]
    assert heart and {row.deployment_id for row in watched} == {d.pk for d in heart}


@pytest.mark.django_db
def test_every_demo_model_has_a_drift_rule_and_binary_ones_an_accuracy_rule(seeded):
    from monitoring.models import AlertRule

    models = {d.version.model for d in _active()}
    drift = set(AlertRule.objects.filter(source="status", name="drift").values_list("model_id"))
    assert drift == {(m.pk,) for m in models}
    accuracy = AlertRule.objects.filter(source="metric", name="accuracy")
    assert {r.model.task for r in accuracy} == {"binary"}
    assert "alert rules added" in seeded
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert AlertRule.objects.filter(source__in=["status", "metric"]).count() == len(drift) + len(
        accuracy
    )
