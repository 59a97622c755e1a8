"""factory_boy factories. Rows that services would audit are made through the services, so
the audit chain in tests looks like production's."""

from __future__ import annotations

import io
from typing import Any

import factory
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile

from registry import services
from registry.choices import Stage
from registry.models import Deployment, ModelVersion, RegisteredModel
from registry.roles import DATA_SCIENTISTS, REVIEWERS


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **_: Any) -> None:
        for role in extracted or []:
            self.groups.add(Group.objects.get(name=role))


def data_scientist(username: str = "dana") -> User:
    return UserFactory(username=username, roles=[DATA_SCIENTISTS])


def registered_model(
    *, owner: User | None = None, name: str | None = None, **fields: Any
) -> RegisteredModel:
    owner = owner or data_scientist(f"owner-{RegisteredModel.objects.count()}")
    name = name or f"Model {RegisteredModel.objects.count() + 1}"
    fields.setdefault("task", "binary")
    return services.model_create(actor=owner, name=name, **fields)


SCHEMA = [
    {"name": "age", "type": "numeric"},
    {"name": "income", "type": "numeric"},
    {"name": "region", "type": "categorical", "categories": ["north", "south"]},
]


def model_version(
    *, model: RegisteredModel | None = None, actor: User | None = None, **fields: Any
) -> ModelVersion:
    model = model or registered_model()
    fields.setdefault("input_schema", SCHEMA)
    fields.setdefault("training_metrics", {"accuracy": 0.9, "roc_auc": 0.95})
    fields.setdefault("feature_importance", {"age": 0.5, "income": 0.3, "region": 0.2})
    return services.version_register(model=model, actor=actor or model.owner, **fields)


def _approve(request: Any) -> None:
    """Decide `request` with as many fresh reviewers as its policy wants, per group."""
    from governance.approvals import services as approvals

    groups = request.policy["required_groups"] or [REVIEWERS]
    needed = max(request.policy["min_approvals"], len(groups))
    for i in range(needed):
        group = groups[i % len(groups)]
        reviewer = UserFactory(username=f"approver-{request.pk}-{i}", roles=[group])
        approvals.decide(request=request, actor=reviewer, verdict="approve")


def approved_version(*, model: RegisteredModel | None = None, **fields: Any) -> ModelVersion:
    """A version with a model artifact and a settled checklist, approved through a request."""
    from governance.approvals import services as approvals

    version = model_version(model=model, **fields)
    owner = version.model.owner
    services.artifact_upload(
        version=version,
        actor=owner,
        upload=binary_upload(f"weights of {version}".encode()),
        kind="model",
    )
    answer_required_items(version)
    _approve(approvals.request_version_approval(version=version, actor=owner))
    version.refresh_from_db()
    assert version.stage == Stage.APPROVED
    return version


def production_deployment(
    *,
    version: ModelVersion,
    endpoint: str | None = None,
    replaces: Deployment | None = None,
    **fields: Any,
) -> Deployment:
    """Deploy an approved version to production through an approved production request."""
    from governance.approvals import services as approvals

    endpoint = endpoint or f"https://p.example.org/{version.model.slug}"
    request = approvals.request_production_deployment(
        version=version,
        actor=version.model.owner,
        endpoint=endpoint,
        replaces=replaces,
        **fields,
    )
    _approve(request)
    request.refresh_from_db()
    return request.deployment


def csv_upload(
    text: str = "age,income,region\n31,52000.5,north\n45,61000.0,south\n", name: str = "train.csv"
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def binary_upload(
    data: bytes = b"\x80\x04model-bytes", name: str = "model.joblib"
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def deployment(
    *,
    version: ModelVersion | None = None,
    environment: str = "staging",
    endpoint: str | None = None,
    **fields: Any,
) -> Deployment:
    version = version or model_version()
    # An endpoint belongs to the model that first served it: one per model by default.
    endpoint = endpoint or f"https://serving.example.org/{version.model.slug}/predict"
    return services.deployment_create(
        version=version,
        actor=version.model.owner,
        environment=environment,
        endpoint=endpoint,
        **fields,
    )


def as_stream(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def answer_required_items(version: ModelVersion, *, actor: User | None = None) -> int:
    """Settle every checklist item the model's tier requires, with evidence."""
    from governance.readiness.selectors import open_required_items
    from governance.readiness.services import AnswerInput, answers_record

    items = open_required_items(version=version)
    if items:
        answers_record(
            version=version,
            actor=actor or version.model.owner,
            answers=[
                AnswerInput(item=i.key, answer="yes", evidence_text=f"Evidence for {i.key}")
                for i in items
            ],
        )
    return len(items)


def monitoring_settings(deployment: Deployment, **fields: Any) -> Any:
    """The deployment's monitoring settings row with `fields` set (stored directly: the API
    and its validation are tested on their own)."""
    from monitoring.models import MonitoringSettings

    row, _ = MonitoringSettings.objects.update_or_create(deployment=deployment, defaults=fields)
    return row
