"""Model names: unique per team ignoring case; slugs unique with a suffix that tells nothing."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from registry import services
from registry.models import RegisteredModel
from tests import factories

pytestmark = pytest.mark.django_db


def test_another_teams_name_is_free_to_use(api_as, model_b, owner):
    response = api_as(owner).post(
        "/api/v1/models/", {"name": model_b.name, "task": "binary"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["slug"] != model_b.slug


def test_a_team_cannot_hold_two_names_that_differ_only_in_case(owner):
    factories.registered_model(owner=owner, name="Credit risk", team="lending")
    teammate = factories.data_scientist("tess")
    with pytest.raises(ValidationError) as err:
        factories.registered_model(owner=teammate, name="CREDIT RISK", team="lending")
    assert list(err.value.error_dict) == ["name"]
    factories.registered_model(owner=teammate, name="CREDIT RISK", team="cards")


def test_without_a_team_names_are_unique_per_owner(owner):
    factories.registered_model(owner=owner, name="Scorer")
    with pytest.raises(ValidationError):
        factories.registered_model(owner=owner, name="scorer")
    factories.registered_model(owner=factories.data_scientist("tess"), name="scorer")


def test_moving_a_model_into_a_team_that_has_its_name_is_refused(owner):
    factories.registered_model(owner=owner, name="Scorer", team="lending")
    other = factories.registered_model(owner=owner, name="scorer", team="cards")
    with pytest.raises(ValidationError) as err:
        services.model_update(model=other, actor=owner, team="lending")
    assert list(err.value.error_dict) == ["name"]


def test_the_database_refuses_a_case_variant_in_one_team(owner):
    first = factories.registered_model(owner=owner, name="Scorer", team="lending")
    with pytest.raises(IntegrityError), transaction.atomic():
        RegisteredModel.objects.create(
            name="SCORER", slug="scorer-x", team="lending", task="binary", owner=first.owner
        )


def test_every_slug_gets_a_random_suffix_so_it_tells_nothing_of_other_models(owner):
    """Taken or not, the plain slug is never used: its absence would say someone has it."""
    slugs = [
        factories.registered_model(owner=factories.data_scientist(f"u{i}"), name="Scorer").slug
        for i in range(3)
    ]
    for slug in slugs:
        assert re.fullmatch(r"scorer-[0-9a-f]{6}", slug)
    assert len(set(slugs)) == 3
