"""Registry write services: versions, artifacts, deployments, and their audit entries."""

from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from governance.models import AuditEvent, LineageEdge
from registry import services
from registry.choices import DeploymentStatus
from registry.errors import FrozenError, InvalidTransition
from registry.models import Artifact, Deployment
from tests import factories

pytestmark = pytest.mark.django_db


def test_versions_are_numbered_per_model(model_a, model_b):
    first = factories.model_version(model=model_a)
    second = factories.model_version(model=model_a)
    other = factories.model_version(model=model_b)
    assert (first.number, second.number, other.number) == (1, 2, 1)


def test_registering_a_version_is_audited_with_the_actor(model_a, owner):
    version = factories.model_version(model=model_a)
    event = AuditEvent.objects.get(action="registry.version.registered")
    assert event.target_id == str(version.pk)
    assert event.actor_name == owner.username
    assert event.after["number"] == 1


def test_outsider_may_not_register_a_version(model_a, outsider):
    with pytest.raises(PermissionDenied):
        services.version_register(model=model_a, actor=outsider)


def test_feature_importance_must_name_schema_features(model_a):
    with pytest.raises(ValidationError) as err:
        factories.model_version(model=model_a, feature_importance={"height": 1.0})
    assert "feature_importance" in err.value.error_dict


def test_uploaded_artifact_digest_is_computed_on_the_server(model_a):
    version = factories.model_version(model=model_a)
    payload = b"serialized-model" * 1000
    artifact = services.artifact_upload(
        version=version, actor=model_a.owner, upload=factories.binary_upload(payload), kind="model"
    )
    assert artifact.sha256 == hashlib.sha256(payload).hexdigest()
    assert artifact.size == len(payload)
    with artifact.file.open("rb") as stored:
        assert stored.read() == payload
    assert LineageEdge.objects.filter(
        downstream_kind="artifact", downstream_id=artifact.pk
    ).exists()


def test_artifacts_of_an_approved_version_are_frozen(model_a):
    version = factories.approved_version(model=model_a)
    artifact = version.artifacts.get(kind="model")
    with pytest.raises(FrozenError, match="frozen"):
        services.artifact_update(artifact=artifact, actor=model_a.owner, description="changed")
    with pytest.raises(FrozenError):
        services.artifact_delete(artifact=artifact, actor=model_a.owner)
    with pytest.raises(FrozenError):
        services.artifact_upload(
            version=version,
            actor=model_a.owner,
            upload=factories.binary_upload(),
            kind="other",
            name="extra.bin",
        )
    assert Artifact.objects.filter(version=version).count() == 1


def test_oversized_upload_is_refused_and_leaves_no_file(model_a, settings, tmp_path):
    settings.STEWARD_MAX_UPLOAD_BYTES = 10
    version = factories.model_version(model=model_a)
    with pytest.raises(ValidationError, match="limit"):
        services.artifact_upload(
            version=version,
            actor=model_a.owner,
            upload=factories.binary_upload(b"x" * 11),
            kind="model",
        )
    assert not Artifact.objects.exists()
    media = settings.MEDIA_ROOT
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_production_takes_approved_versions_only(model_a):
    version = factories.model_version(model=model_a)
    with pytest.raises(InvalidTransition, match="approved"):
        factories.deployment(version=version, environment="production")


def test_traffic_behind_an_endpoint_cannot_exceed_100_percent(model_a):
    v1 = factories.model_version(model=model_a)
    factories.deployment(version=v1, traffic_share=90)
    v2 = factories.model_version(model=model_a)
    factories.deployment(version=v2, traffic_share=10)
    with pytest.raises(ValidationError) as err:
        factories.deployment(version=v2, traffic_share=1)
    assert "traffic_share" in err.value.error_dict


def test_rollback_is_a_new_deployment_of_the_earlier_version(model_a):
    v1 = factories.approved_version(model=model_a)
    first = factories.production_deployment(version=v1)
    v2 = factories.approved_version(model=model_a)
    second = factories.production_deployment(version=v2, replaces=first)
    rollback = services.deployment_rollback(
        deployment=second, actor=model_a.owner, reason="accuracy fell"
    )
    second.refresh_from_db()
    assert rollback.pk not in (first.pk, second.pk)
    assert rollback.version == v1 and rollback.is_rollback and rollback.replaces == second
    assert second.status == DeploymentStatus.INACTIVE
    assert Deployment.objects.filter(version__model=model_a).count() == 3
    assert AuditEvent.objects.filter(action="registry.deployment.rolled_back").count() == 1


def test_rollback_needs_an_earlier_version(model_a):
    only = factories.deployment(version=factories.model_version(model=model_a))
    with pytest.raises(InvalidTransition, match="nothing to roll back"):
        services.deployment_rollback(deployment=only, actor=model_a.owner)


def test_only_an_active_deployment_can_be_replaced(model_a):
    v1 = factories.model_version(model=model_a)
    first = factories.deployment(version=v1)
    v2 = factories.model_version(model=model_a)
    factories.deployment(version=v2, replaces=first)
    with pytest.raises(ValidationError) as err:
        factories.deployment(version=v2, replaces=first)
    assert "only an active deployment" in str(err.value.error_dict["replaces"])


def test_a_version_serving_production_cannot_be_archived(model_a):
    version = factories.approved_version(model=model_a)
    serving = factories.production_deployment(version=version)
    with pytest.raises(InvalidTransition, match="retire or replace") as err:
        services.version_archive(version=version, actor=model_a.owner)
    assert f"deployment {serving.pk}" in str(err.value)
    services.deployment_retire(deployment=serving, actor=model_a.owner)
    assert services.version_archive(version=version, actor=model_a.owner).stage == "archived"


def test_archiving_a_version_serving_production_answers_409(api_as, model_a):
    version = factories.approved_version(model=model_a)
    factories.production_deployment(version=version)
    response = api_as(model_a.owner).post(f"/api/v1/versions/{version.pk}/archive/")
    assert response.status_code == 409
    assert "still serves production" in response.json()["detail"]


def test_a_repeated_client_key_returns_the_same_version_and_audits_once(model_a, model_b):
    first = factories.model_version(model=model_a, client_key="run-7")
    again = factories.model_version(model=model_a, client_key="run-7")
    assert again.pk == first.pk and again.number == 1
    assert AuditEvent.objects.filter(action="registry.version.registered").count() == 1
    # Keys are per model, and an empty key never matches.
    assert factories.model_version(model=model_b, client_key="run-7").number == 1
    assert factories.model_version(model=model_a).number == 2
    assert factories.model_version(model=model_a).number == 3


def test_a_metadata_only_dataset_is_recorded_once_per_name_and_digest(model_a, owner, outsider):
    from registry.services.datasets import dataset_record_external

    fields = {
        "name": "Breast cancer",
        "kind": "training",
        "system": "mlflow",
        "digest": "3a5c9e1b",
        "source": "s3://bucket/data.parquet",
        "source_type": "s3",
        "metadata": {"schema": {"mlflow_colspec": []}, "profile": {"num_rows": 569}},
    }
    with pytest.raises(PermissionDenied):
        dataset_record_external(model=model_a, actor=outsider, **fields)
    dataset, created = dataset_record_external(model=model_a, actor=owner, **fields)
    assert created and (dataset.name, dataset.number, dataset.row_count) == (
        "breast-cancer",
        1,
        569,
    )
    assert dataset.external and not dataset.file and dataset.sha256 == ""
    assert (dataset.external_digest, dataset.source_uri) == ("3a5c9e1b", "s3://bucket/data.parquet")
    again, created = dataset_record_external(model=model_a, actor=owner, **fields)
    assert again == dataset and not created
    newer, created = dataset_record_external(
        model=model_a, actor=owner, **fields | {"digest": "ff"}
    )
    assert created and newer.number == 2
    assert AuditEvent.objects.filter(action="registry.dataset.recorded_external").count() == 2
    huge = {"profile": {"x": "y" * 70_000}}
    big, _ = dataset_record_external(
        model=model_a, actor=owner, **fields | {"digest": "ee", "metadata": huge}
    )
    assert "dropped" in big.external_metadata


def test_a_dataset_without_a_file_must_be_marked_metadata_only(model_a, owner):
    from django.db import IntegrityError, transaction

    from registry.models import Dataset

    with pytest.raises(IntegrityError), transaction.atomic():
        Dataset.objects.create(
            model=model_a,
            name="x",
            number=1,
            kind="training",
            size=0,
            row_count=0,
            created_by=owner,
        )
