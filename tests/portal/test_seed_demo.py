"""`manage.py seed_demo`: demo models, data sets, artifacts and deployments through services."""

from __future__ import annotations

import hashlib
import io
import re
from decimal import Decimal

import joblib
import pandas as pd
import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command
from sklearn.metrics import accuracy_score, r2_score

from governance.approvals.models import ApprovalRequest
from governance.modelcards.selectors import model_card_for
from governance.models import AuditEvent, LineageEdge
from monitoring.jobs.tasks import run_job
from monitoring.models import (
    DailyEstimate,
    DailyPerformance,
    DeploymentActivity,
    HourlyHealth,
    JobRun,
    ReferenceProfile,
    StaleHour,
)
from portal.demo import cards, catalog, seeding
from portal.models import ApiToken
from portal.security.tokens import digest
from registry.choices import ArtifactKind, DeploymentStatus, Stage
from registry.models import Artifact, Dataset, Deployment, ModelVersion, RegisteredModel
from tests.conftest import on_postgresql
from tests.portal.demo_seed import VERSION_COUNTS, module_seed

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    """One seed for the module (the slow part), rolled back at its end; what it printed."""
    with module_seed(django_db_blocker, tmp_path_factory.mktemp("seed")) as output:
        yield output


@pytest.fixture(autouse=True)
def _media_in_tmp():
    """The module's seed keeps its files for every test (they are the module's, not a test's)."""


def _counts() -> dict[str, int]:
    tables = (RegisteredModel, ModelVersion, Artifact, Dataset, Deployment, LineageEdge)
    counts = {table.__name__: table.objects.count() for table in tables}
    return counts | {
        "AuditEvent": AuditEvent.objects.count(),
        "User": User.objects.count(),
        "ApiToken": ApiToken.objects.count(),
        "JobRun": JobRun.objects.count(),
    }


def _validation_frame(version: ModelVersion) -> pd.DataFrame:
    """The shared hold-out rows (not the version's scored copy of them)."""
    edges = LineageEdge.objects.filter(
        downstream_kind="version", downstream_id=version.pk, relation="validated_with"
    )
    dataset = Dataset.objects.filter(pk__in=edges.values("upstream_id")).exclude(
        name__contains="-scored"
    )
    with dataset.get().file.open("rb") as stored:
        return pd.read_csv(stored)


def test_seed_builds_the_four_demo_models_with_their_versions(seeded):
    models = RegisteredModel.objects.all()
    assert {m.name: m.versions.count() for m in models} == VERSION_COUNTS
    assert {m.owner.username for m in models} == {"scientist"}
    assert {m.name: m.risk_tier for m in models} == {
        "Breast cancer diagnosis": "high",
        "Diabetes progression": "medium",
        "Wine cultivar": "low",
        "Heart attack risk": "critical",
    }


def _retrained(version: ModelVersion) -> bool:
    return version.client_key.startswith("retraining-run-")


def test_every_version_has_model_metrics_requirements_and_image_artifacts(seeded):
    for version in ModelVersion.objects.all():
        if _retrained(version):  # Steward's refit stores the refitted estimator only
            assert list(version.artifacts.values_list("kind", flat=True)) == ["model"]
            continue
        kinds = sorted(version.artifacts.values_list("kind", flat=True))
        assert kinds == sorted(["model", "metrics", "requirements", "image"])
        image = version.artifacts.get(kind=ArtifactKind.IMAGE)
        assert image.uri.startswith(f"oci://registry.example.org/{version.model.slug}@sha256:")
        assert image.digest_source == "pinned"


def test_every_stored_file_matches_its_recorded_sha256(seeded):
    stored = [*Artifact.objects.exclude(file=""), *Dataset.objects.all()]
    # artifacts, datasets, scored hold-outs (the model card's metrics read its version's), the
    # retrained heart v3's model and training data
    assert len(stored) == 27 + 9 + 9 + 2
    for row in stored:
        with row.file.open("rb") as handle:
            content = handle.read()
        assert hashlib.sha256(content).hexdigest() == row.sha256
        assert len(content) == row.size


def test_each_joblib_model_predicts_the_validation_data_as_recorded(seeded):
    for version in ModelVersion.objects.select_related("model"):
        with version.artifacts.get(kind=ArtifactKind.MODEL).file.open("rb") as stored:
            estimator = joblib.load(stored)
        frame = _validation_frame(version)
        x, y = frame[version.feature_names], frame[version.model.target_column]
        predicted = estimator.predict(x)
        if version.model.task == "regression":
            assert r2_score(y, predicted) == pytest.approx(version.training_metrics["r2"])
        else:
            assert accuracy_score(y, predicted) == pytest.approx(
                version.training_metrics["accuracy"]
            )


def test_every_version_records_what_it_was_trained_on_and_validated_with(seeded):
    for version in ModelVersion.objects.all():
        edges = LineageEdge.objects.filter(downstream_kind="version", downstream_id=version.pk)
        assert edges.filter(relation="trained_on").count() == 1
        # The shared hold-out and the same rows scored by this version (what CBPE / DLE
        # calibrate on, and the model card's metrics read); a retrained version, the hold-out
        # its comparison used.
        expected = 1 if _retrained(version) else 2
        assert edges.filter(relation="validated_with").count() == expected
        number = 1 if _retrained(version) else version.number  # the code v1 was trained with
        assert version.code_commit == catalog.code_commit(version.model.name, number)
        assert version.framework.startswith("scikit-learn ")


def test_heart_v2_trains_on_a_larger_training_set_derived_from_v1s(seeded):
    first, second = Dataset.objects.filter(
        name="heart-cohort-training", number__in=(1, 2)
    ).order_by("number")
    assert (first.number, second.number) == (1, 2)
    assert first.row_count < second.row_count
    assert LineageEdge.objects.filter(
        upstream_kind="dataset",
        upstream_id=first.pk,
        downstream_kind="dataset",
        downstream_id=second.pk,
        relation="derived_from",
    ).exists()
    v2 = ModelVersion.objects.get(model__name="Heart attack risk", number=2)
    assert LineageEdge.objects.filter(
        upstream_id=second.pk, downstream_id=v2.pk, relation="trained_on"
    ).exists()


def test_the_heart_models_accuracy_decay_triggers_a_retraining_awaiting_approval(seeded):
    from governance.approvals.models import ApprovalRequest
    from governance.retraining.models import RetrainingRun

    run = RetrainingRun.objects.get(model__name="Heart attack risk")
    assert run.trigger == "realised_metric" and "accuracy" in run.reason
    assert run.state == "awaiting_approval"
    v1, v3 = run.base_version, run.result_version
    assert (v1.number, v3.number, v3.stage) == (1, 3, Stage.PENDING_REVIEW)
    assert LineageEdge.objects.filter(
        upstream_kind="version", upstream_id=v1.pk, downstream_id=v3.pk, relation="derived_from"
    ).exists()
    assert {row["name"] for row in run.comparison["metrics"]} >= {"accuracy", "roc_auc"}
    assert run.comparison["rows"]["production"] > 0
    assert ApprovalRequest.objects.get(pk=run.approval_request_id).state == "pending"
    assert not Deployment.objects.filter(version=v3).exists()


def test_wine_production_was_rolled_back_to_v1_with_a_reason(seeded):
    rollback = Deployment.objects.get(is_rollback=True)
    assert rollback.version.model.name == "Wine cultivar"
    assert rollback.version.number == 1
    assert rollback.status == DeploymentStatus.ACTIVE
    assert rollback.replaces.version.number == 2
    assert rollback.replaces.status == DeploymentStatus.INACTIVE
    assert "harvest" in rollback.description
    assert AuditEvent.objects.filter(action="registry.deployment.rolled_back").count() == 1


def test_production_deployments_are_all_of_approved_versions(seeded):
    production = Deployment.objects.filter(environment="production")
    assert production.exists()
    assert set(production.values_list("version__stage", flat=True)) == {Stage.APPROVED}


def test_breast_cancer_runs_a_90_10_canary_behind_one_production_endpoint(seeded):
    active = Deployment.objects.filter(
        version__model__name="Breast cancer diagnosis",
        environment="production",
        status=DeploymentStatus.ACTIVE,
    )
    assert sorted(active.values_list("traffic_share", flat=True)) == [Decimal(10), Decimal(90)]
    assert active.values("endpoint").distinct().count() == 1
    assert {d.decision_threshold for d in active} == {Decimal("0.35")}


def test_reviewers_have_pending_versions_and_one_version_stays_a_draft(seeded):
    stages = list(ModelVersion.objects.values_list("stage", flat=True))
    assert stages.count(Stage.PENDING_REVIEW) >= 1
    assert stages.count(Stage.DRAFT) == 1
    approvals = AuditEvent.objects.filter(action="registry.version.approved")
    assert approvals.count() == stages.count(Stage.APPROVED)
    assert set(approvals.values_list("actor_name", flat=True)) <= {"reviewer", "reviewer2", "admin"}
    # Every approved version went through a request that its policy's reviewers approved,
    # and every pending one waits in the reviewers' inbox with its checklist partly answered.
    from governance.approvals.models import ApprovalRequest
    from governance.approvals.selectors import inbox
    from governance.readiness.models import ChecklistAnswer

    approved = ApprovalRequest.objects.filter(state="approved").exclude(kind="production")
    assert approved.count() == stages.count(Stage.APPROVED)
    reviewer = type(approvals.first().actor).objects.get(username="reviewer")
    waiting = list(inbox(user=reviewer))
    # Versions waiting for their first approval, and an approved version due for revalidation.
    kinds = sorted(request.kind for request in waiting)
    assert kinds == ["revalidation"] + ["version"] * stages.count(Stage.PENDING_REVIEW)
    assert all(r.version.stage == Stage.APPROVED for r in waiting if r.kind == "revalidation")
    for request in waiting:
        assert ChecklistAnswer.objects.filter(version=request.version).exists()


def test_running_the_seed_twice_changes_no_counts(seeded):
    before = _counts()
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert _counts() == before
    assert out.getvalue().count("skipped") >= len(VERSION_COUNTS)


def test_demo_users_log_in_with_the_documented_passwords(seeded):
    for login in seeding.DEMO_LOGINS:
        user = authenticate(username=login.username, password=login.password)
        assert user is not None, login.username
        assert user.groups.filter(name=login.group).exists()
        assert user.is_superuser == login.superuser
    assert ApiToken.objects.filter(user__username="scientist").exists()


def test_output_lists_each_model_and_the_demo_logins(seeded):
    for name in VERSION_COUNTS:
        assert name in seeded
    for login in seeding.DEMO_LOGINS:
        assert login.password in seeded
    [secret] = re.findall(r"Authorization: Token (\w+)", seeded)
    assert ApiToken.objects.get(user__username="scientist").digest == digest(secret)


def test_the_seeded_audit_trail_verifies(seeded):
    from governance.audit.verification import verify_stored_log

    verdict = verify_stored_log()
    assert verdict.ok, verdict.reason
    assert verdict.count == AuditEvent.objects.count()


def test_on_postgresql_the_jobs_profile_each_version_on_its_own_training_data_and_cover_31_days(
    seeded,
):
    """Issue #11: each active deployment's reference is the dataset its version was trained
    on (heart v1 in production: heart-cohort-training v1, not v2's larger set), and every day
    of the demo traffic is rolled up, not only the last monitoring window."""
    if not on_postgresql():
        pytest.skip("the demo's monitoring runs are checked on PostgreSQL")
    for job in JobRun.objects.filter(kind="deployment_monitoring").order_by("pk"):
        run_job.run(job.pk)
        job.refresh_from_db()
        assert job.state == "succeeded", job.error
    active = Deployment.objects.filter(status=DeploymentStatus.ACTIVE).select_related("version")
    for deployment in active:
        trained_on = LineageEdge.objects.get(
            downstream_kind="version", downstream_id=deployment.version_id, relation="trained_on"
        ).upstream_id
        profile = ReferenceProfile.objects.get(version=deployment.version)
        assert profile.dataset_id == trained_on, deployment
        first = DeploymentActivity.objects.get(deployment=deployment).first_prediction_at
        assert deployment.deployed_at <= first
    heart = ReferenceProfile.objects.get(
        version__model__name="Heart attack risk", version__number=1
    )
    assert (heart.dataset.name, heart.dataset.number) == ("heart-cohort-training", 1)
    breast = active.get(
        version__model__name="Breast cancer diagnosis",
        version__number=1,
        environment="production",
    )
    performance_days = DailyPerformance.objects.filter(deployment=breast, labelled__gt=0)
    assert performance_days.count() >= 28
    # Label-free estimates beside the realised figures, with each day's estimate error.
    estimates = DailyEstimate.objects.filter(deployment=breast, method="cbpe")
    assert estimates.count() >= 28
    assert estimates.exclude(error={}).exists()
    # The multiclass model sends every class's probability: macro one-vs-rest ROC AUC,
    # realised and estimated, for the Performance tab.
    wine = active.get(version__model__name="Wine cultivar", environment="production")
    wine_days = DailyPerformance.objects.filter(deployment=wine, labelled__gt=0)
    assert sum(day.metrics.get("roc_auc") is not None for day in wine_days) >= 28
    wine_estimates = DailyEstimate.objects.filter(deployment=wine, method="cbpe")
    assert sum("roc_auc" in day.estimated for day in wine_estimates) >= 28
    hours = HourlyHealth.objects.filter(deployment=breast).values_list("hour", flat=True)
    assert len({hour.date() for hour in hours}) >= 28
    assert not StaleHour.objects.filter(deployment=breast).exists()


def test_the_demo_has_a_complete_model_card_and_an_overdue_revalidation(seeded):
    heart = ModelVersion.objects.get(model__name=cards.CARD_MODEL, number=cards.CARD_VERSION)
    card = model_card_for(heart)
    assert card["complete"] and card["frozen"] and card["revision"] == 1
    analysis = next(s for s in card["sections"] if s["key"] == "quantitative_analysis")
    assert analysis["content"]["status"] == "computed"
    assert analysis["content"]["metrics"][0]["ci_low"] < analysis["content"]["metrics"][0]["value"]
    assert {g["group"] for g in analysis["content"]["fairness"]["groups"]} == {"female", "male"}
    approved = heart.approval_requests.get(kind="version", state="approved")
    assert approved.manifest["model_card"]["sha256"] == card["digest"]
    overdue = RegisteredModel.objects.get(name=cards.OVERDUE_MODEL)
    assert overdue.validation_status == "revalidation_overdue"
    assert ApprovalRequest.objects.filter(
        version__model=overdue, kind="revalidation", state="pending"
    ).exists()


def test_seed_exports_the_technical_documentation_of_a_deployed_version(seeded):
    from governance.reports.models import ReportExport

    (export,) = ReportExport.objects.filter(kind="technical-documentation")
    assert export.version.deployments.exists()
    with export.file.open("rb") as f:
        assert f.read(5) == b"%PDF-"


def test_the_demo_worker_issues_a_signed_test_log_for_each_seeded_approval(seeded):
    """The seed queues one test-log job per approved version request; `make demo`'s worker
    runs them. Run them here as it would: each approval then carries a log that verifies."""
    from governance.approvals.choices import TEST_LOG_JOB
    from governance.reports import services as reports

    jobs = JobRun.objects.filter(kind=TEST_LOG_JOB).order_by("pk")
    approved = ApprovalRequest.objects.filter(state="approved").exclude(kind="production")
    assert jobs.count() == approved.count() > 0
    for job in jobs:
        run_job.run(job.pk)
        job.refresh_from_db()
        assert job.state == "succeeded", job.error
    for request in approved:
        log = request.test_logs.get()
        with log.file.open("rb") as stored:
            assert reports.report_verify(stored.read()).ok
