"""Endpoint ownership: an endpoint serves the model that first deployed to it; an
administrator may move it; refusals describe nothing the caller cannot see."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from governance.models import AuditEvent
from registry import services
from registry.errors import InvalidTransition
from registry.models import Endpoint
from tests import factories

pytestmark = pytest.mark.django_db

SHARED = "https://serving.example.org/shared"


@pytest.fixture
def peer(db):
    return factories.data_scientist("peter")


def _deploy_body(version, endpoint: str, share: int = 100) -> dict:
    return {
        "version": version.pk,
        "environment": "staging",
        "endpoint": endpoint,
        "traffic_share": share,
    }


def test_the_first_deployment_claims_the_endpoint_for_its_model(model_a):
    factories.deployment(version=factories.model_version(model=model_a), endpoint=SHARED)
    assert Endpoint.objects.get(environment="staging", name=SHARED).model == model_a


def test_a_peer_cannot_take_an_endpoint_another_model_serves(model_a, model_b, peer):
    factories.deployment(
        version=factories.model_version(model=model_a), endpoint=SHARED, traffic_share=30
    )
    mine = factories.registered_model(owner=peer, name="Peer model")
    with pytest.raises(ValidationError) as err:
        factories.deployment(
            version=factories.model_version(model=mine), endpoint=SHARED, traffic_share=100
        )
    assert list(err.value.error_dict) == ["endpoint"]
    # Retired or not, the endpoint stays with its model until an administrator moves it.
    assert Endpoint.objects.get(name=SHARED).model == model_a


def test_a_peers_refusal_names_nothing_it_cannot_see(api_as, model_a, model_b, peer):
    """The peer cannot see model_a, which serves SHARED at 30%, nor model_b, which it can be
    granted: both refusals read the same, and neither names the holder or its share."""
    from guardian.shortcuts import assign_perm

    factories.deployment(
        version=factories.model_version(model=model_a), endpoint=SHARED, traffic_share=30
    )
    visible_holder = "https://serving.example.org/visible"
    factories.deployment(
        version=factories.model_version(model=model_b), endpoint=visible_holder, traffic_share=30
    )
    assign_perm("registry.view_registeredmodel", peer, model_b)
    mine = factories.model_version(model=factories.registered_model(owner=peer, name="Mine"))
    client = api_as(peer)
    hidden = client.post("/api/v1/deployments/", _deploy_body(mine, SHARED), format="json")
    seen = client.post("/api/v1/deployments/", _deploy_body(mine, visible_holder), format="json")
    assert hidden.status_code == seen.status_code == 400
    assert hidden.json() == seen.json()
    text = hidden.content.decode()
    for secret in (model_a.name, model_a.slug, "30", model_a.owner.username):
        assert secret not in text


def test_the_traffic_limit_counts_only_the_models_own_deployments(model_a):
    version = factories.model_version(model=model_a)
    factories.deployment(version=version, endpoint=SHARED, traffic_share=60)
    with pytest.raises(ValidationError) as err:
        factories.deployment(version=version, endpoint=SHARED, traffic_share=50)
    assert "traffic_share" in err.value.error_dict


def test_an_administrator_moves_an_endpoint_and_the_move_is_audited(model_a, model_b, admin):
    first = factories.deployment(version=factories.model_version(model=model_a), endpoint=SHARED)
    endpoint = Endpoint.objects.get(name=SHARED)
    with pytest.raises(InvalidTransition, match="retire them first"):
        services.endpoint_move(endpoint=endpoint, to_model=model_b, actor=admin)
    services.deployment_retire(deployment=first, actor=model_a.owner)
    services.endpoint_move(endpoint=endpoint, to_model=model_b, actor=admin)
    assert Endpoint.objects.get(name=SHARED).model == model_b
    event = AuditEvent.objects.get(action="registry.endpoint.moved")
    assert (event.before["model"], event.after["model"]) == (model_a.slug, model_b.slug)
    factories.deployment(version=factories.model_version(model=model_b), endpoint=SHARED)


def test_only_administrators_move_endpoints(model_a, model_b):
    factories.deployment(version=factories.model_version(model=model_a), endpoint=SHARED)
    with pytest.raises(PermissionDenied):
        services.endpoint_move(
            endpoint=Endpoint.objects.get(name=SHARED), to_model=model_b, actor=model_a.owner
        )
