"""The registry's write pages (portal/registry_edit.py): each form writes through the API's
service and is audited; a bad value is shown beside its field and stores nothing; a user who
sees the object but may not change it is refused (sent back with the reason), one who does
not see it gets 404."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from guardian.shortcuts import assign_perm

from governance.audit.models import AuditEvent
from governance.lineage.models import LineageEdge
from registry.models import Artifact, Dataset, ModelVersion, RegisteredModel
from registry.roles import RISK_OFFICERS
from tests import factories

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def field_errors(response: Any, field: str) -> list[str]:
    """The errors the page shows beside `field` (and the form it rendered is bound)."""
    form = response.context["form"]
    assert form.is_bound
    return [str(e) for e in form.errors.get(field, [])]


def refused(response: Any, to: str) -> bool:
    """Sent back to `to` with an error message (the permission matrix's "refused")."""
    levels = [m.level_tag for m in get_messages(response.wsgi_request)]
    return response.status_code == 302 and response["Location"] == to and "error" in levels


def audited(action: str, target: Any) -> AuditEvent:
    return AuditEvent.objects.get(
        action=action, target_type=target._meta.label_lower, target_id=str(target.pk)
    )


def stored_files(settings: Any) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def viewer(model_a: RegisteredModel) -> Any:
    user = factories.data_scientist("vera")
    assign_perm("registry.view_registeredmodel", user, model_a)
    return user


@pytest.fixture
def version(model_a: RegisteredModel) -> ModelVersion:
    return factories.model_version(model=model_a)


def version_url(name: str, version: ModelVersion) -> str:
    return reverse(name, args=[version.model.slug, version.number])


# --- create a model ------------------------------------------------------------------------------

MODEL_FORM = {
    "name": "Loan default",
    "task": "binary",
    "risk_tier": "high",
    "team": "lending",
    "target_column": "defaulted",
    "description": "Probability of default.",
    "intended_use": "Pre-screening.",
    "tags": "credit, pd",
}


def test_a_data_scientist_creates_a_model_and_it_is_audited(owner):
    response = client_for(owner).post(reverse("registry:model-new"), MODEL_FORM)
    model = RegisteredModel.objects.get(name="Loan default")
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:model-detail", args=[model.slug])
    assert (model.owner, model.team, model.risk_tier, model.target_column, model.tags) == (
        owner,
        "lending",
        "high",
        "defaulted",
        ["credit", "pd"],
    )
    event = audited("registry.model.created", model)
    assert event.actor_name == owner.username


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"name": ""}, "name", "required"),
        ({"task": "clustering"}, "task", "valid choice"),
        ({"tags": ",".join(f"t{i}" for i in range(51))}, "tags", "at most 50 tags"),
        ({"target_column": "x" * 121}, "target_column", "at most 120"),
    ],
)
def test_a_bad_model_value_is_shown_beside_its_field_and_nothing_is_stored(
    owner, change, field, says
):
    response = client_for(owner).post(reverse("registry:model-new"), MODEL_FORM | change)
    assert response.status_code == 200
    assert any(says in e for e in field_errors(response, field)), response.context["form"].errors
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not RegisteredModel.objects.exists()


def test_a_name_taken_in_the_team_is_refused_beside_the_name(owner):
    factories.registered_model(owner=owner, name="Loan Default", team="lending")
    response = client_for(owner).post(reverse("registry:model-new"), MODEL_FORM)
    assert "already has a model named" in " ".join(field_errors(response, "name"))
    assert RegisteredModel.objects.count() == 1


def test_a_user_who_may_not_register_models_is_refused(outsider):
    client = client_for(outsider)
    to = reverse("registry:model-list")
    assert refused(client.get(reverse("registry:model-new")), to)
    assert refused(client.post(reverse("registry:model-new"), MODEL_FORM), to)
    assert not RegisteredModel.objects.exists()
    assert "New model" not in client.get(to).content.decode()


def test_the_model_list_offers_new_model_to_who_may_register(owner, client):
    assert "New model" in client_for(owner).get(reverse("registry:model-list")).content.decode()
    response = client.get(reverse("registry:model-new"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- edit a model --------------------------------------------------------------------------------


def edit_form(model: RegisteredModel, **changes: str) -> dict[str, str]:
    return {
        "description": model.description,
        "team": model.team,
        "target_column": model.target_column,
        "risk_tier": model.risk_tier,
        "intended_use": model.intended_use,
        "tags": ", ".join(model.tags),
        "reason": "",
    } | changes


def test_the_owner_edits_a_model_and_raises_its_tier(owner, model_a):
    url = reverse("registry:model-edit", args=[model_a.slug])
    page = client_for(owner).get(url)
    assert page.status_code == 200 and page.context["form"]["risk_tier"].value() == "medium"
    response = client_for(owner).post(
        url, edit_form(model_a, description="Now documented.", risk_tier="high")
    )
    assert response.status_code == 302
    model_a.refresh_from_db()
    assert (model_a.description, model_a.risk_tier) == ("Now documented.", "high")
    assert audited("registry.model.updated", model_a).after == {"description": "Now documented."}
    assert audited("registry.model.risk_tier_changed", model_a).after["risk_tier"] == "high"


def test_lowering_the_tier_is_refused_beside_the_tier_and_nothing_changes(owner, model_a):
    response = client_for(owner).post(
        reverse("registry:model-edit", args=[model_a.slug]),
        edit_form(model_a, description="Changed too.", risk_tier="low", reason="less risky"),
    )
    assert response.status_code == 200
    assert "risk officer" in " ".join(field_errors(response, "risk_tier"))
    model_a.refresh_from_db()
    assert (model_a.risk_tier, model_a.description) == ("medium", "")
    assert not AuditEvent.objects.filter(action="registry.model.updated").exists()


def test_a_risk_officer_lowers_the_tier_with_a_reason(model_a):
    officer = factories.UserFactory(username="rory", roles=[RISK_OFFICERS])
    assign_perm("registry.change_registeredmodel", officer, model_a)
    url = reverse("registry:model-edit", args=[model_a.slug])
    missing = client_for(officer).post(url, edit_form(model_a, risk_tier="low"))
    assert "needs a reason" in " ".join(field_errors(missing, "reason"))
    model_a.refresh_from_db()
    assert model_a.risk_tier == "medium"
    done = client_for(officer).post(url, edit_form(model_a, risk_tier="low", reason="internal"))
    assert done.status_code == 302
    model_a.refresh_from_db()
    assert model_a.risk_tier == "low"
    assert audited("registry.model.risk_tier_changed", model_a).after["reason"] == "internal"


def test_a_viewer_may_not_edit_and_an_outsider_does_not_see_the_model(viewer, outsider, model_a):
    url = reverse("registry:model-edit", args=[model_a.slug])
    back = reverse("registry:model-detail", args=[model_a.slug])
    assert refused(client_for(viewer).get(url), back)
    assert refused(client_for(viewer).post(url, edit_form(model_a, description="x")), back)
    assert "Edit</a>" not in client_for(viewer).get(back).content.decode()
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(outsider).post(url, edit_form(model_a, description="x")).status_code == 404
    model_a.refresh_from_db()
    assert model_a.description == ""


def test_the_model_page_links_to_edit_and_new_version_for_the_owner(owner, model_a):
    body = client_for(owner).get(reverse("registry:model-detail", args=[model_a.slug]))
    assert reverse("registry:model-edit", args=[model_a.slug]) in body.content.decode()
    assert reverse("registry:version-new", args=[model_a.slug]) in body.content.decode()


# --- register a version --------------------------------------------------------------------------


def version_form(**changes: Any) -> dict[str, Any]:
    return {
        "description": "Gradient boosting",
        "framework": "scikit-learn 1.5",
        "code_repository": "https://git.example.org/risk",
        "code_commit": "9f2c1e7d",
        "input_schema": json.dumps(factories.SCHEMA),
        "hyperparameters": '{"max_depth": 6}',
        "training_metrics": '{"auc": 0.91}',
        "feature_importance": '{"age": 0.7, "income": 0.3}',
    } | changes


def test_the_owner_registers_a_version_trained_on_a_dataset(owner, model_a):
    dataset = factories_dataset(model_a)
    response = client_for(owner).post(
        reverse("registry:version-new", args=[model_a.slug]),
        version_form(training_datasets=[dataset.pk]),
    )
    version = ModelVersion.objects.get(model=model_a)
    assert response.status_code == 302
    assert response["Location"] == version_url("registry:artifact-upload", version)
    assert version.hyperparameters == {"max_depth": 6}
    assert version.training_metrics == {"auc": 0.91}
    assert [f["name"] for f in version.input_schema] == ["age", "income", "region"]
    assert version.code_commit == "9f2c1e7d"
    assert audited("registry.version.registered", version).actor_name == owner.username
    assert LineageEdge.objects.filter(
        upstream_id=dataset.pk, downstream_id=version.pk, relation="trained_on"
    ).exists()


def factories_dataset(model: RegisteredModel, name: str = "train") -> Dataset:
    from registry import services

    return services.dataset_upload(
        model=model, actor=model.owner, upload=factories.csv_upload(), name=name, kind="training"
    )


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"hyperparameters": "{max_depth: 6}"}, "hyperparameters", "not valid JSON"),
        ({"training_metrics": '{"auc": NaN}'}, "training_metrics", "NaN"),
        ({"training_metrics": "[1, 2]"}, "training_metrics", "must be an object"),
        ({"training_metrics": '{"auc": "high"}'}, "training_metrics", "must be numbers"),
        ({"input_schema": '[{"name": "age", "type": "float"}]'}, "input_schema", "'type'"),
        ({"feature_importance": '{"height": 1.0}'}, "feature_importance", "not in input_schema"),
        ({"code_commit": "not-a-hash"}, "code_commit", "commit hash"),
        ({"hyperparameters": "[" * 70 + "]" * 70}, "hyperparameters", "nested deeper"),
    ],
)
def test_a_bad_version_value_is_shown_beside_its_field_and_nothing_is_stored(
    owner, model_a, change, field, says
):
    response = client_for(owner).post(
        reverse("registry:version-new", args=[model_a.slug]), version_form(**change)
    )
    assert response.status_code == 200
    errors = field_errors(response, field)
    assert any(says in e for e in errors), response.context["form"].errors
    assert not ModelVersion.objects.exists()
    assert not AuditEvent.objects.filter(action="registry.version.registered").exists()


def test_a_viewer_may_not_register_versions_and_an_outsider_gets_404(viewer, outsider, model_a):
    url = reverse("registry:version-new", args=[model_a.slug])
    back = reverse("registry:model-detail", args=[model_a.slug])
    assert refused(client_for(viewer).post(url, version_form()), back)
    assert client_for(outsider).post(url, version_form()).status_code == 404
    assert not ModelVersion.objects.exists()


# --- upload an artifact --------------------------------------------------------------------------


def test_an_upload_without_javascript_lands_on_the_version_page_with_its_sha256(owner, version):
    data = b"\x80\x04pickled model bytes"
    response = client_for(owner).post(
        version_url("registry:artifact-upload", version),
        {"file": factories.binary_upload(data, name="model.pkl"), "kind": "model"},
        follow=True,
    )
    digest = hashlib.sha256(data).hexdigest()
    artifact = Artifact.objects.get(version=version)
    assert artifact.sha256 == digest and artifact.size == len(data)
    assert response.redirect_chain[-1][0] == version_url("registry:version-detail", version)
    assert digest in response.content.decode()
    assert audited("registry.artifact.added", artifact).after["sha256"] == digest


def test_the_progress_bar_path_gets_the_servers_sha256_as_json(owner, version):
    data = bytes(range(256)) * 1000
    response = client_for(owner).post(
        version_url("registry:artifact-upload", version),
        {"file": factories.binary_upload(data, name="weights.bin"), "kind": "model", "name": "w"},
        **JSON,
    )
    assert response.status_code == 201
    reply = response.json()
    assert reply["sha256"] == hashlib.sha256(data).hexdigest()
    assert reply["name"] == "w" and reply["size"] == len(data)
    assert reply["version_url"] == version_url("registry:version-detail", version)


def test_the_upload_page_loads_its_script_and_states_the_limit(owner, version, settings):
    page = client_for(owner).get(version_url("registry:artifact-upload", version))
    body = page.content.decode()
    assert "steward/upload.js" in body and "<progress" in body
    assert f'data-max-bytes="{settings.STEWARD_MAX_UPLOAD_BYTES}"' in body
    assert "<script>" not in body and "style=" not in body


def test_an_empty_or_oversized_file_is_refused_beside_the_file_and_nothing_is_stored(
    owner, version, settings
):
    settings.STEWARD_MAX_UPLOAD_MB = 1
    settings.STEWARD_MAX_UPLOAD_BYTES = 1024
    url = version_url("registry:artifact-upload", version)
    empty = client_for(owner).post(
        url, {"file": factories.binary_upload(b"", name="e.bin"), "kind": "model"}, **JSON
    )
    assert empty.status_code == 400
    assert "empty" in " ".join(empty.json()["errors"]["file"])
    big = client_for(owner).post(
        url, {"file": factories.binary_upload(b"x" * 2048, name="b.bin"), "kind": "model"}
    )
    assert big.status_code == 200
    assert "the limit is 1,024 bytes" in " ".join(field_errors(big, "file"))
    assert not Artifact.objects.exists()
    assert stored_files(settings) == []


def test_an_approved_versions_artifacts_are_frozen(owner, model_a, settings):
    approved = factories.approved_version(model=model_a)
    before = set(stored_files(settings))
    response = client_for(owner).post(
        version_url("registry:artifact-upload", approved),
        {"file": factories.binary_upload(b"new weights", name="n.bin"), "kind": "model"},
        **JSON,
    )
    assert response.status_code == 400
    assert "frozen" in " ".join(response.json()["non_field_errors"])
    assert Artifact.objects.filter(version=approved).count() == 1
    assert set(stored_files(settings)) == before


# --- link an artifact by URI --------------------------------------------------------------------

PINNED = "oci://registry.example.org/loans@sha256:" + hashlib.sha256(b"image").hexdigest()


def test_an_image_linked_by_a_pinned_uri_is_recorded_with_its_digest(owner, version):
    response = client_for(owner).post(
        version_url("registry:artifact-link", version),
        {"uri": PINNED, "kind": "image", "name": "serving-image"},
        follow=True,
    )
    artifact = Artifact.objects.get(version=version)
    assert artifact.uri == PINNED and artifact.sha256 == PINNED.rsplit(":", 1)[1]
    assert artifact.digest_source == "pinned" and not artifact.file
    assert response.redirect_chain[-1][0] == version_url("registry:version-detail", version)
    assert "serving-image" in response.content.decode()
    assert audited("registry.artifact.added", artifact).after["sha256"] == artifact.sha256


def test_a_bad_uri_or_digest_is_named_beside_its_field_and_nothing_is_stored(owner, version):
    url = version_url("registry:artifact-link", version)
    bad_uri = client_for(owner).post(url, {"uri": "ftp:/nowhere", "kind": "model"})
    assert bad_uri.status_code == 200 and "must be a URI" in " ".join(field_errors(bad_uri, "uri"))
    other = hashlib.sha256(b"other").hexdigest()
    clash = client_for(owner).post(url, {"uri": PINNED, "kind": "image", "sha256": other})
    assert "differs from the digest" in " ".join(field_errors(clash, "sha256"))
    assert not Artifact.objects.exists()


def test_a_viewer_may_not_link_and_an_outsider_gets_404(viewer, outsider, version):
    url = version_url("registry:artifact-link", version)
    body = {"uri": PINNED, "kind": "image"}
    assert refused(
        client_for(viewer).post(url, body), version_url("registry:version-detail", version)
    )
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(outsider).post(url, body).status_code == 404
    assert not Artifact.objects.exists()


def test_a_viewer_may_not_upload_and_an_outsider_gets_404(viewer, outsider, version, settings):
    url = version_url("registry:artifact-upload", version)
    body = {"file": factories.binary_upload(), "kind": "model"}
    assert refused(
        client_for(viewer).post(url, body), version_url("registry:version-detail", version)
    )
    body = {"file": factories.binary_upload(), "kind": "model"}
    by_script = client_for(viewer).post(url, body, **JSON)
    assert by_script.status_code == 403
    assert by_script.json()["non_field_errors"] == [f"You may not add artifacts to {version}."]
    body = {"file": factories.binary_upload(), "kind": "model"}
    assert client_for(outsider).post(url, body).status_code == 404
    assert not Artifact.objects.exists() and stored_files(settings) == []


# --- upload a dataset ----------------------------------------------------------------------------

CSV = "age,income,region\n31,52000.5,north\n45,61000.0,south\n52,70000.0,north\n"


def test_a_dataset_uploaded_for_a_version_is_linked_and_audited(owner, version):
    response = client_for(owner).post(
        version_url("registry:dataset-upload", version),
        {
            "file": factories.csv_upload(CSV, name="train.csv"),
            "name": "Train",
            "kind": "training",
            "link_as": "trained_on",
        },
        **JSON,
    )
    assert response.status_code == 201, response.content
    dataset = Dataset.objects.get(model=version.model)
    reply = response.json()
    assert reply["sha256"] == hashlib.sha256(CSV.encode()).hexdigest() == dataset.sha256
    assert reply["rows"] == 3 == dataset.row_count
    assert reply["dataset_url"] == reverse("registry:dataset-detail", args=[dataset.pk])
    edge = LineageEdge.objects.get(downstream_kind="version", downstream_id=version.pk)
    assert (edge.upstream_id, edge.relation) == (dataset.pk, "trained_on")
    assert audited("registry.dataset.uploaded", dataset).after["rows"] == 3
    assert audited("governance.lineage.linked", edge).actor_name == owner.username


def test_a_reference_dataset_is_not_linked(owner, version):
    response = client_for(owner).post(
        version_url("registry:dataset-upload", version),
        {"file": factories.csv_upload(CSV), "name": "ref", "kind": "reference", "link_as": ""},
    )
    assert response.status_code == 302
    assert Dataset.objects.filter(kind="reference").count() == 1
    assert not LineageEdge.objects.filter(downstream_kind="version").exists()


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"file": "not a table"}, "file", "csv"),
        ({"schema": '[{"name": "age", "type": "text"}]'}, "schema", "age"),
        ({"schema": "{oops"}, "schema", "not valid JSON"),
        ({"name": "!!!"}, "name", "needs a name"),
    ],
)
def test_a_bad_dataset_is_refused_beside_its_field_and_nothing_is_stored(
    owner, version, settings, change, field, says
):
    body: dict[str, Any] = {
        "file": factories.csv_upload(CSV),
        "name": "train",
        "kind": "training",
        "link_as": "trained_on",
    }
    if change.get("file"):
        body["file"] = factories.binary_upload(change.pop("file").encode(), name="data.bin")
    response = client_for(owner).post(
        version_url("registry:dataset-upload", version), body | change
    )
    assert response.status_code == 200
    assert any(says in e.lower() or says in e for e in field_errors(response, field)), (
        response.context["form"].errors
    )
    assert not Dataset.objects.exists()
    assert not LineageEdge.objects.filter(downstream_kind="version").exists()
    assert stored_files(settings) == []


def test_training_data_for_an_approved_version_stores_nothing(owner, model_a, settings):
    approved = factories.approved_version(model=model_a)
    datasets, files = Dataset.objects.count(), set(stored_files(settings))
    response = client_for(owner).post(
        version_url("registry:dataset-upload", approved),
        {
            "file": factories.csv_upload(CSV),
            "name": "late",
            "kind": "training",
            "link_as": "trained_on",
        },
    )
    assert "frozen" in " ".join(response.context["form"].non_field_errors())
    assert Dataset.objects.count() == datasets
    assert set(stored_files(settings)) == files


def test_a_viewer_may_not_upload_datasets_and_an_outsider_gets_404(viewer, outsider, version):
    url = version_url("registry:dataset-upload", version)
    body = {"file": factories.csv_upload(CSV), "name": "t", "kind": "training"}
    assert refused(
        client_for(viewer).post(url, body), version_url("registry:version-detail", version)
    )
    body = {"file": factories.csv_upload(CSV), "name": "t", "kind": "training"}
    assert client_for(outsider).post(url, body).status_code == 404
    assert not Dataset.objects.exists()


# --- lineage -------------------------------------------------------------------------------------


def test_the_owner_links_a_dataset_and_an_earlier_version(owner, model_a):
    dataset = factories_dataset(model_a, "valid")
    first = factories.model_version(model=model_a)
    second = factories.model_version(model=model_a)
    url = version_url("registry:version-lineage", second)
    client = client_for(owner)
    assert (
        client.post(url, {"relation": "validated_with", "dataset": dataset.pk}).status_code == 302
    )
    assert (
        client.post(url, {"relation": "derived_from", "source_version": first.pk}).status_code
        == 302
    )
    edges = {
        (e.upstream_kind, e.upstream_id, e.relation)
        for e in LineageEdge.objects.filter(downstream_kind="version", downstream_id=second.pk)
    }
    assert edges == {
        ("dataset", dataset.pk, "validated_with"),
        ("version", first.pk, "derived_from"),
    }
    assert AuditEvent.objects.filter(action="governance.lineage.linked").count() == 2


def test_a_lineage_link_without_its_object_is_refused_beside_the_field(owner, version):
    response = client_for(owner).post(
        version_url("registry:version-lineage", version), {"relation": "trained_on"}
    )
    assert "choose the dataset" in " ".join(field_errors(response, "dataset"))
    bad = client_for(owner).post(
        version_url("registry:version-lineage", version),
        {"relation": "derived_from", "source_version": 999999},
    )
    assert field_errors(bad, "source_version")
    assert not LineageEdge.objects.filter(downstream_kind="version").exists()


def test_an_approved_versions_training_data_cannot_be_linked_here_or_in_the_api(
    owner, model_a, api_as
):
    approved = factories.approved_version(model=model_a)
    dataset = factories_dataset(model_a, "late")
    response = client_for(owner).post(
        version_url("registry:version-lineage", approved),
        {"relation": "trained_on", "dataset": dataset.pk},
    )
    assert "frozen" in " ".join(response.context["form"].non_field_errors())
    api = api_as(owner).post(
        "/api/v1/lineage/edges/",
        {
            "upstream_kind": "dataset",
            "upstream_id": dataset.pk,
            "downstream_kind": "version",
            "downstream_id": approved.pk,
            "relation": "trained_on",
        },
        format="json",
    )
    assert api.status_code == 409, api.content
    assert not LineageEdge.objects.filter(upstream_kind="dataset", upstream_id=dataset.pk).exists()


def test_a_viewer_may_not_link_lineage_and_an_outsider_gets_404(viewer, outsider, version):
    dataset = factories_dataset(version.model)
    url = version_url("registry:version-lineage", version)
    body = {"relation": "trained_on", "dataset": dataset.pk}
    assert refused(
        client_for(viewer).post(url, body), version_url("registry:version-detail", version)
    )
    assert client_for(outsider).get(url).status_code == 404
    assert not LineageEdge.objects.filter(downstream_kind="version").exists()


# --- archive -------------------------------------------------------------------------------------


def test_archiving_shows_what_will_happen_then_archives(owner, version):
    url = version_url("registry:version-archive", version)
    page = client_for(owner).get(url).content.decode()
    assert "cannot be undone" in page and "No deployment of it is active" in page
    version.refresh_from_db()
    assert version.stage == "draft"
    response = client_for(owner).post(url)
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.stage == "archived"
    assert audited("registry.version.archived", version).actor_name == owner.username


def test_a_version_serving_production_is_not_archived(owner, model_a):
    approved = factories.approved_version(model=model_a)
    deployment = factories.production_deployment(version=approved)
    url = version_url("registry:version-archive", approved)
    page = client_for(owner).get(url).content.decode()
    assert "still serves production" in page and deployment.endpoint in page
    response = client_for(owner).post(url)
    assert response.status_code == 200
    assert "retire or replace" in " ".join(response.context["form"].non_field_errors())
    approved.refresh_from_db()
    assert approved.stage == "approved"


def test_a_viewer_may_not_archive_and_an_outsider_gets_404(viewer, outsider, version):
    url = version_url("registry:version-archive", version)
    assert refused(client_for(viewer).post(url), version_url("registry:version-detail", version))
    assert client_for(outsider).post(url).status_code == 404
    version.refresh_from_db()
    assert version.stage == "draft"


def test_the_version_page_offers_the_write_pages_to_who_may_change(owner, viewer, version):
    links = [
        version_url(name, version)
        for name in (
            "registry:artifact-upload",
            "registry:artifact-link",
            "registry:dataset-upload",
            "registry:version-lineage",
            "registry:version-archive",
        )
    ]
    page = version_url("registry:version-detail", version)
    mine = client_for(owner).get(page).content.decode()
    theirs = client_for(viewer).get(page).content.decode()
    assert all(link in mine for link in links)
    assert not any(link in theirs for link in links)


# --- onboarding ----------------------------------------------------------------------------------


def test_an_empty_portal_shows_the_first_steps(admin, owner, outsider):
    home = reverse("home")
    page = client_for(admin).get(home).content.decode()
    assert "Getting started" in page and "Steward holds no model yet" in page
    for name in ("registry:model-new", "swagger-ui", "approvals:inbox", "monitoring:portfolio"):
        assert reverse(name) in page
    assert "steward-client" in page
    scientist = client_for(owner).get(home).content.decode()
    assert reverse("registry:model-new") in scientist
    assert "Steward holds no model yet" not in scientist  # they do not see every model
    nobody = client_for(outsider).get(home).content.decode()
    assert "ask an administrator" in nobody and reverse("registry:model-new") not in nobody


def test_the_first_steps_go_once_a_model_is_visible(owner, model_a):
    page = client_for(owner).get(reverse("home")).content.decode()
    assert "Getting started" not in page and model_a.name in page


def test_archiving_a_version_under_review_names_its_open_request(owner, model_a):
    from governance.approvals import services as approvals
    from registry import services

    version = factories.model_version(model=model_a)
    services.artifact_upload(
        version=version, actor=owner, upload=factories.binary_upload(), kind="model"
    )
    factories.answer_required_items(version)
    request = approvals.request_version_approval(version=version, actor=owner)
    url = version_url("registry:version-archive", version)
    page = client_for(owner).get(url).content.decode()
    assert f"request #{request.pk}" in page and "is withdrawn with it" in page
    assert client_for(owner).post(url).status_code == 302
    version.refresh_from_db()
    assert version.stage == "archived"
    # What the page says: the request is withdrawn with the version and cannot be approved.
    request.refresh_from_db()
    assert request.state == "withdrawn"


# --- query counts: the pages that list a model's datasets and versions as choices -------------


def _count_queries(client: Client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_form_pages_cost_the_same_with_many_datasets_and_versions(owner, model_a):
    from registry import services

    version = factories.model_version(model=model_a)
    factories_dataset(model_a, "first")
    client = client_for(owner)
    urls = [
        reverse("registry:version-new", args=[model_a.slug]),
        version_url("registry:version-lineage", version),
    ]
    few = [_count_queries(client, url) for url in urls]
    for i in range(8):
        services.dataset_upload(
            model=model_a,
            actor=owner,
            upload=factories.csv_upload(),
            name=f"more-{i}",
            kind="validation",
        )
        factories.model_version(model=model_a)
    many = [_count_queries(client, url) for url in urls]
    assert many == few


def test_training_data_added_under_review_rebinds_the_open_request(owner, model_a):
    from governance.approvals import services as approvals
    from registry import services

    version = factories.model_version(model=model_a)
    services.artifact_upload(
        version=version, actor=owner, upload=factories.binary_upload(), kind="model"
    )
    factories.answer_required_items(version)
    request = approvals.request_version_approval(version=version, actor=owner)
    before = request.manifest_digest
    response = client_for(owner).post(
        version_url("registry:dataset-upload", version),
        {
            "file": factories.csv_upload(CSV),
            "name": "late",
            "kind": "training",
            "link_as": "trained_on",
        },
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.manifest_digest != before
    assert [d["name"] for d in request.manifest["datasets"]] == ["late"]


def test_dataset_upload_links_only_a_version_of_its_own_model(owner, model_a, model_b, settings):
    from django.core.exceptions import ValidationError

    from registry import services

    other = factories.model_version(model=model_b)
    with pytest.raises(ValidationError, match="same model"):
        services.dataset_upload(
            model=model_a,
            actor=owner,
            upload=factories.csv_upload(CSV),
            name="t",
            kind="training",
            for_version=other,
            link_as="trained_on",
        )
    with pytest.raises(ValidationError, match="trained_on or validated_with"):
        services.dataset_upload(
            model=model_a,
            actor=owner,
            upload=factories.csv_upload(CSV),
            name="t",
            kind="training",
            for_version=factories.model_version(model=model_a),
            link_as="derived_from",
        )
    assert not Dataset.objects.filter(model=model_a).exists()
    assert stored_files(settings) == []
