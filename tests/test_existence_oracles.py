"""No existence oracles: every create and filter endpoint answers an object the caller cannot
see exactly as it answers one that does not exist (same status, same body once ids, slugs,
timestamps and the probed value itself are blanked). See tests/oracles.py."""

from __future__ import annotations

import pytest

from tests import factories
from tests.oracles import Probe, assert_no_oracle

pytestmark = pytest.mark.django_db

NO_SUCH_ID = 987654
AT = "2030-01-01T00:00:00Z"
RULE = {"source": "status", "name": "drift", "comparator": "ge", "threshold": 1}
DEPLOY = {"environment": "staging", "endpoint": "https://probe.example.org/predict"}

# Probes by what they name. "{}" is where the hidden or the missing value goes.
BY_SLUG = [
    Probe("get", "/api/v1/models/{}/"),
    Probe("get", "/api/v1/models/{}/versions/"),
    Probe("get", "/api/v1/versions/", {"model": "{}"}),
    Probe("get", "/api/v1/deployments/", {"model": "{}"}),
    Probe("get", "/api/v1/artifacts/", {"model": "{}"}),
    Probe("get", "/api/v1/datasets/", {"model": "{}"}),
    Probe("get", "/api/v1/approvals/", {"model": "{}"}),
    Probe("get", "/api/v1/audit/production-at/", {"at": AT, "model": "{}"}),
    Probe("post", "/api/v1/models/{}/watch/"),
]
BY_NAME = [Probe("post", "/api/v1/models/", {"name": "{}", "task": "binary"})]
BY_MODEL_ID = [Probe("post", "/api/v1/alert-rules/", {"model": "{}", **RULE})]
BY_VERSION_ID = [
    Probe("get", "/api/v1/versions/{}/"),
    Probe("get", "/api/v1/versions/{}/readiness/"),
    Probe("get", "/api/v1/lineage/version/{}/"),
    Probe("post", "/api/v1/versions/{}/submit/"),
    Probe("get", "/api/v1/deployments/", {"version": "{}"}),
    Probe("get", "/api/v1/artifacts/", {"version": "{}"}),
    Probe("get", "/api/v1/approvals/", {"version": "{}"}),
    Probe("get", "/api/v1/reports/exports/", {"version": "{}"}),
    Probe(
        "get", "/api/v1/audit/events/", {"target_type": "registry.modelversion", "target_id": "{}"}
    ),
    Probe("post", "/api/v1/reports/exports/", {"version": "{}"}),
    Probe("post", "/api/v1/approvals/", {"kind": "version", "version": "{}"}),
    Probe("post", "/api/v1/deployments/", {"version": "{}", **DEPLOY}),
]
BY_DEPLOYMENT_ID = [
    Probe("get", "/api/v1/deployments/{}/"),
    Probe("get", "/api/v1/deployments/{}/status/"),
    Probe("get", "/api/v1/deployments/{}/monitoring-settings/"),
    Probe("get", "/api/v1/reports/exports/", {"deployment": "{}"}),
    Probe("post", "/api/v1/reports/exports/", {"deployment": "{}"}),
    Probe("post", "/api/v1/alert-rules/", {"deployment": "{}", **RULE}),
]  # fmt: skip


@pytest.fixture
def hidden(model_b):
    """Bob's model, version and deployment: the prober (olivia) may see none of them."""
    version = factories.model_version(model=model_b)
    deployment = factories.deployment(version=version)
    return {"model": model_b, "version": version, "deployment": deployment}


@pytest.fixture
def prober(api_as, model_a, owner):
    """Olivia, with a model of her own, so her lists are not empty by accident."""
    factories.deployment(version=factories.model_version(model=model_a))
    return api_as(owner)


@pytest.mark.parametrize("probe", BY_SLUG, ids=str)
def test_a_hidden_models_slug_answers_like_a_missing_one(prober, hidden, probe):
    assert_no_oracle(prober, probe, hidden=hidden["model"].slug, missing="no-such-model")


@pytest.mark.parametrize("probe", BY_NAME, ids=str)
def test_a_hidden_models_name_answers_like_an_unused_one(prober, hidden, probe):
    assert_no_oracle(prober, probe, hidden=hidden["model"].name, missing="Unused name")


@pytest.mark.parametrize("probe", BY_MODEL_ID, ids=str)
def test_a_hidden_models_id_answers_like_a_missing_one(prober, hidden, probe):
    assert_no_oracle(prober, probe, hidden=hidden["model"].pk, missing=NO_SUCH_ID)


@pytest.mark.parametrize("probe", BY_VERSION_ID, ids=str)
def test_a_hidden_versions_id_answers_like_a_missing_one(prober, hidden, probe):
    assert_no_oracle(prober, probe, hidden=hidden["version"].pk, missing=NO_SUCH_ID)


@pytest.mark.parametrize("probe", BY_DEPLOYMENT_ID, ids=str)
def test_a_hidden_deployments_id_answers_like_a_missing_one(prober, hidden, probe):
    assert_no_oracle(prober, probe, hidden=hidden["deployment"].pk, missing=NO_SUCH_ID)
