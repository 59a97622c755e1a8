"""Seed the demo through the services, so every row is audited and has lineage.

Approvals and production deployments go through the governance workflow (requests, a
settled readiness checklist, reviewers' decisions), as they would for a real team.

Idempotent: users are got or created (their passwords reset to the documented ones), and a
demo model that already exists is skipped whole. Each model is seeded in one transaction;
if it fails, its rows roll back and the files it stored are removed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd
from django.contrib.auth.models import Group, User
from django.core.files.storage import Storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from governance.approvals import services as approvals
from governance.approvals.models import ApprovalRequest
from governance.readiness.selectors import open_required_items
from governance.readiness.services import AnswerInput, answers_record
from monitoring.jobs.queue import job_create
from monitoring.models import JobRun
from monitoring.retention.jobs import PARTITIONS_KIND, RETENTION_KIND
from portal.demo import cards, catalog, training
from portal.demo.catalog import DemoModel, DeploymentStep, VersionPlan
from portal.demo.reports import seed_reports
from portal.demo.retraining import seed_retraining
from portal.demo.traffic import seed_traffic
from portal.models import ApiToken
from portal.security.tokens import token_create
from registry import services
from registry.choices import ArtifactKind, DatasetKind, Environment, Stage
from registry.models import Artifact, Dataset, Deployment, ModelVersion, RegisteredModel
from registry.roles import ADMINS, AUDITORS, DATA_SCIENTISTS, REVIEWERS, ensure_roles

Progress = Callable[[str], None]
INTEGRITY_SCAN = "artifact_integrity_scan"
SPLIT = f"{1 - training.VALIDATION_SHARE:.0%}/{training.VALIDATION_SHARE:.0%}"
APPROVAL_REASON = "Validation metrics, data lineage and artifacts reviewed (seeded demo approval)"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    group: str
    superuser: bool = False


DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("admin", "steward-admin", ADMINS, superuser=True),
    DemoLogin("reviewer", "steward-reviewer", REVIEWERS),
    DemoLogin("reviewer2", "steward-reviewer2", REVIEWERS),
    DemoLogin("scientist", "steward-scientist", DATA_SCIENTISTS),
    DemoLogin("auditor", "steward-auditor", AUDITORS),
)


@dataclass(frozen=True)
class DemoUsers:
    """The demo's users by name, and the scientist's API token: its secret when this run
    issued it, "" when an earlier seed did (a secret is shown once)."""

    by_name: dict[str, User]
    token: str

    @property
    def admin(self) -> User:
        return self.by_name["admin"]

    @property
    def reviewer(self) -> User:
        return self.by_name["reviewer"]

    @property
    def scientist(self) -> User:
        return self.by_name["scientist"]


@dataclass(frozen=True)
class ModelSummary:
    """What one demo model holds after the seed, and whether this run created it."""

    name: str
    created: bool
    stages: tuple[str, ...]
    datasets: int
    artifacts: int
    deployments: int


def _ensure_user(login: DemoLogin) -> User:
    user, _ = User.objects.get_or_create(
        username=login.username, defaults={"email": f"{login.username}@example.org"}
    )
    if not user.check_password(login.password):
        user.set_password(login.password)  # which revokes the user's tokens
    user.is_active = True
    user.is_superuser = user.is_staff = login.superuser
    user.save()
    user.groups.add(Group.objects.get(name=login.group))
    return user


def ensure_users() -> DemoUsers:
    """Get or create the demo users with their documented passwords and role groups."""
    ensure_roles()
    users = {login.username: _ensure_user(login) for login in DEMO_LOGINS}
    scientist = users["scientist"]
    if ApiToken.objects.filter(user=scientist, name="demo", expires_at__gt=timezone.now()):
        return DemoUsers(by_name=users, token="")
    _, secret = token_create(user=scientist, name="demo")
    return DemoUsers(by_name=users, token=secret)


@contextmanager
def _stored_files_removed_on_failure() -> Iterator[list[tuple[Storage, str]]]:
    """Yield a list to note stored files in; delete them if the block raises."""
    stored: list[tuple[Storage, str]] = []
    try:
        yield stored
    except BaseException:
        for storage, name in stored:
            storage.delete(name)
        raise


def _share_text(share: float) -> str:
    return "Training rows" if share == 1 else f"The first {share:.0%} of the training rows"


def _upload(name: str, content: bytes, content_type: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@dataclass
class _ModelSeed:
    """Seeds one demo model; remembers what it made so later steps can refer to it."""

    spec: DemoModel
    users: DemoUsers
    model: RegisteredModel
    problem: training.Problem
    split: training.Split
    stored: list[tuple[Storage, str]]
    progress: Progress
    validation: Dataset | None = None
    training_sets: dict[float, Dataset] = field(default_factory=dict)
    versions: dict[int, ModelVersion] = field(default_factory=dict)
    latest: dict[str, Deployment] = field(default_factory=dict)

    @property
    def actor(self) -> User:
        return self.users.scientist

    def run(self) -> None:
        for number, plan in enumerate(self.spec.versions, start=1):
            self.add_version(number, plan)
        for step in self.spec.deployments:
            self.deploy(step)

    # --- data sets ---------------------------------------------------------------------

    def _dataset(
        self, frame: pd.DataFrame, *, name: str, kind: str, description: str, **extra: Any
    ) -> Dataset:
        dataset = services.dataset_upload(
            model=self.model,
            actor=self.actor,
            upload=_upload(f"{name}.csv", training.csv_bytes(frame), "text/csv"),
            name=name,
            kind=kind,
            description=description,
            declared_schema=self.problem.table_schema(),
            **extra,
        )
        self.stored.append((dataset.file.storage, str(dataset.file.name)))
        return dataset

    def validation_set(self) -> Dataset:
        """Every version is validated on the same held-out rows, uploaded once."""
        if self.validation is None:
            self.validation = self._dataset(
                self.split.valid,
                name=f"{self.spec.data_name}-validation",
                kind=DatasetKind.VALIDATION,
                description=f"Validation rows of a seeded {SPLIT} split. {self.spec.data_source}.",
            )
        return self.validation

    def training_set(self, share: float) -> Dataset:
        """Uploaded once per distinct share of training rows; a larger share is the next
        version of the same data set, derived from the one before."""
        if share not in self.training_sets:
            previous = list(self.training_sets.values())[-1] if self.training_sets else None
            self.training_sets[share] = self._dataset(
                self.split.training_rows(share),
                name=f"{self.spec.data_name}-training",
                kind=DatasetKind.TRAINING,
                description=f"{_share_text(share)} of a seeded {SPLIT} split. "
                f"{self.spec.data_source}.",
                derived_from=previous,
            )
        return self.training_sets[share]

    def scored_set(self, number: int, trained: training.TrainedModel) -> Dataset:
        """The validation rows with this version's outputs on them (`prediction`, and
        `prediction_score` for classifiers, as the serving app sends them): what label-free
        estimation (CBPE / DLE) calibrates on."""
        frame = training.scored_frame(self.problem, trained.estimator, self.split.valid)
        dataset = services.dataset_upload(
            model=self.model,
            actor=self.actor,
            upload=_upload(
                f"{self.spec.data_name}-scored-v{number}.csv", training.csv_bytes(frame), "text/csv"
            ),
            name=f"{self.spec.data_name}-scored-v{number}",
            kind=DatasetKind.VALIDATION,
            description=f"Validation rows with version {number}'s predictions and scores: the "
            "reference its performance is estimated from before labels arrive.",
        )
        self.stored.append((dataset.file.storage, str(dataset.file.name)))
        return dataset

    # --- versions ----------------------------------------------------------------------

    def add_version(self, number: int, plan: VersionPlan) -> None:
        label = training.algorithm_label(plan.algorithm)
        self.progress(f"{self.spec.name}: training v{number} ({label.lower()})")
        trained = training.train(
            self.problem, self.split, algorithm=plan.algorithm, training_share=plan.training_share
        )
        version = services.version_register(
            model=self.model,
            actor=self.actor,
            input_schema=self.problem.input_schema(),
            hyperparameters=trained.hyperparameters,
            training_metrics=trained.metrics,
            feature_importance=trained.importance,
            code_repository=catalog.repository(self.spec.team, self.model.slug),
            code_commit=catalog.code_commit(self.spec.name, number),
            framework=training.framework(),
            description=plan.description,
            training_datasets=[self.training_set(plan.training_share).pk],
            validation_datasets=[self.validation_set().pk, self.scored_set(number, trained).pk],
        )
        if version.number != number:
            raise RuntimeError(f"expected {self.spec.name} v{number}, registered {version}")
        self.add_artifacts(version, trained)
        cards.seed_card(self.model, version, self.actor)
        self.review(version, plan.stage)
        self.versions[number] = version

    def _file_artifact(
        self,
        version: ModelVersion,
        *,
        name: str,
        content: bytes,
        content_type: str,
        kind: str,
        description: str,
    ) -> None:
        artifact = services.artifact_upload(
            version=version,
            actor=self.actor,
            upload=_upload(name, content, content_type),
            name=name,
            kind=kind,
            description=description,
        )
        self.stored.append((artifact.file.storage, str(artifact.file.name)))

    def add_artifacts(self, version: ModelVersion, trained: training.TrainedModel) -> None:
        """The fitted model, its metrics, its pinned requirements and its serving image."""
        label = training.algorithm_label(trained.algorithm)
        self._file_artifact(
            version,
            name="model.joblib",
            content=training.model_bytes(trained.estimator),
            content_type="application/octet-stream",
            kind=ArtifactKind.MODEL,
            description=f"Fitted {label.lower()} (scikit-learn, serialised with joblib)",
        )
        self._file_artifact(
            version,
            name="metrics.json",
            content=training.metrics_bytes(trained),
            content_type="application/json",
            kind=ArtifactKind.METRICS,
            description="Validation metrics and feature importance",
        )
        self._file_artifact(
            version,
            name="requirements.txt",
            content=training.requirements_bytes(),
            content_type="text/plain",
            kind=ArtifactKind.REQUIREMENTS,
            description="Pinned libraries the model was trained with",
        )
        services.artifact_link(
            version=version,
            actor=self.actor,
            uri=catalog.image_uri(self.model.slug, version.number),
            kind=ArtifactKind.IMAGE,
            name="serving-image",
            description="Serving container image",
        )

    def review(self, version: ModelVersion, stage: str) -> None:
        """Leave the version where the plan says: draft, pending review (a request in the
        reviewers' inbox, its checklist partly answered), or approved (checklist settled,
        approved by as many reviewers as the policy wants)."""
        stage = Stage(stage)
        if stage == Stage.DRAFT:
            return
        required = open_required_items(version=version)
        settled = required if stage == Stage.APPROVED else required[: len(required) // 2]
        if settled:
            answers_record(
                version=version,
                actor=self.actor,
                answers=[
                    AnswerInput(item=item.key, answer="yes", evidence_text=_evidence(item.key))
                    for item in settled
                ],
            )
        request = approvals.request_version_approval(
            version=version, actor=self.actor, comment=f"Please review {version}."
        )
        if stage == Stage.APPROVED:
            self.approve(request)

    def approve(self, request: ApprovalRequest) -> None:
        """Decide the request with the demo reviewers its policy calls for."""
        for reviewer in _approvers(request, self.users):
            approvals.decide(
                request=request, actor=reviewer, verdict="approve", comment=APPROVAL_REASON
            )

    # --- deployments -------------------------------------------------------------------

    def deploy(self, step: DeploymentStep) -> None:
        environment = Environment(step.environment)
        version = self.versions[step.version]
        replaces = self.latest[environment] if step.action == catalog.REPLACE else None
        if step.action == catalog.ROLLBACK:
            deployment = services.deployment_rollback(
                deployment=self.latest[environment],
                actor=self.users.admin,
                to_version=version,
                reason=step.description,
            )
        elif environment == Environment.PRODUCTION:
            request = approvals.request_production_deployment(
                version=version,
                actor=self.actor,
                endpoint=catalog.endpoint(self.model.slug, environment),
                decision_threshold=_decimal(self.spec.decision_threshold),
                traffic_share=Decimal(str(step.traffic_share)),
                replaces=replaces,
                comment=step.description,
            )
            self.approve(request)
            request.refresh_from_db()
            assert request.deployment is not None, f"{request} approved but not deployed"
            deployment = request.deployment
        else:
            deployment = services.deployment_create(
                version=version,
                actor=self.actor,
                environment=environment,
                endpoint=catalog.endpoint(self.model.slug, environment),
                decision_threshold=self.spec.decision_threshold,
                traffic_share=step.traffic_share,
                description=step.description,
                replaces=replaces,
            )
        self.latest[environment] = deployment


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _evidence(key: str) -> str:
    return f"Seeded demo evidence for {key}: see the version's artifacts and lineage."


def _approvers(request: ApprovalRequest, users: DemoUsers) -> list[User]:
    """Distinct demo users who together meet the request's policy."""
    pool = [users.by_name[name] for name in ("reviewer", "reviewer2", "admin")]
    chosen: list[User] = []
    for group in request.policy["required_groups"]:
        member = next(u for u in pool if u not in chosen and u.groups.filter(name=group).exists())
        chosen.append(member)
    for user in pool:
        if len(chosen) >= request.policy["min_approvals"]:
            break
        if user not in chosen and user.groups.filter(name__in=[REVIEWERS]).exists():
            chosen.append(user)
    return chosen


def _create_model(spec: DemoModel, owner: User, *, target: str) -> RegisteredModel:
    return services.model_create(
        actor=owner,
        name=spec.name,
        task=spec.task,
        description=spec.description,
        team=spec.team,
        target_column=target,
        risk_tier=spec.risk_tier,
        intended_use=spec.intended_use,
        tags=list(spec.tags),
    )


def summarize(model: RegisteredModel, *, created: bool) -> ModelSummary:
    return ModelSummary(
        name=model.name,
        created=created,
        stages=tuple(v.stage for v in model.versions.order_by("number")),
        datasets=model.datasets.count(),
        artifacts=Artifact.objects.filter(version__model=model).count(),
        deployments=Deployment.objects.filter(version__model=model).count(),
    )


def seed_model(spec: DemoModel, users: DemoUsers, progress: Progress) -> ModelSummary:
    """Seed one demo model, or skip it when a model of that name exists."""
    existing = RegisteredModel.objects.filter(name=spec.name).first()
    if existing is not None:
        progress(f"{spec.name}: exists, skipped")
        return summarize(existing, created=False)
    with _stored_files_removed_on_failure() as stored, transaction.atomic():
        problem = training.load_problem(spec.problem)
        model = _create_model(spec, users.scientist, target=problem.target)
        cards.seed_inventory(model, users.scientist)
        seed = _ModelSeed(
            spec=spec,
            users=users,
            model=model,
            problem=problem,
            split=training.split_problem(problem),
            stored=stored,
            progress=progress,
        )
        seed.run()
    return summarize(model, created=True)


def seed_demo(
    *, progress: Progress = lambda _message: None
) -> tuple[DemoUsers, list[ModelSummary]]:
    """Create the demo users, then every demo model that does not exist yet, and queue a
    first integrity scan and raw-event partition and retention runs (once each) so the jobs
    page shows real runs when the worker starts.
    Last, 31 days of traffic for each active deployment that has none yet, each with a
    queued monitoring run (`portal.demo.traffic`)."""
    users = ensure_users()
    summaries = [seed_model(spec, users, progress) for spec in catalog.DEMO_MODELS]
    if not JobRun.objects.filter(kind=INTEGRITY_SCAN).exists():
        job_create(kind=INTEGRITY_SCAN, actor=users.admin)
    # Raw-event partitions ahead and retention, as beat starts them daily: their results on
    # the jobs page show the months kept and the horizon (docs/operations.md).
    for kind in (PARTITIONS_KIND, RETENTION_KIND):
        if not JobRun.objects.filter(kind=kind).exists():
            job_create(kind=kind, actor=users.admin)
    seed_traffic(users.scientist, progress=progress)
    cards.seed_overdue(progress)
    seed_reports(users.by_name.get("auditor", users.admin), progress=progress)
    seed_retraining(users.scientist, progress=progress)
    return users, summaries
