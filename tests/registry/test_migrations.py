"""The migration to per-team names and owned endpoints, run on rows made before it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests import factories

BEFORE = [("registry", "0001_initial")]
AFTER = [("registry", "0002_registry_name_per_team_endpoints")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_drops_the_global_unique_name_and_claims_existing_endpoints():
    owner = factories.data_scientist("olivia")
    apps = _migrate(BEFORE)
    try:
        Model = apps.get_model("registry", "RegisteredModel")
        Version = apps.get_model("registry", "ModelVersion")
        Deployment = apps.get_model("registry", "Deployment")

        def model(name: str, slug: str, team: str):
            return Model.objects.create(
                name=name, slug=slug, team=team, task="binary", owner_id=owner.pk
            )

        first, twin = model("Scorer", "scorer", "t"), model("SCORER", "scorer-b", "t")
        other = model("Other", "other", "u")
        for model in (first, other):
            version = Version.objects.create(model=model, number=1, created_by_id=owner.pk)
            Deployment.objects.create(
                version=version, environment="staging", endpoint="https://e/x",
                deployed_by_id=owner.pk,
            )  # fmt: skip
        apps = _migrate(AFTER)
        Model = apps.get_model("registry", "RegisteredModel")
        Endpoint = apps.get_model("registry", "Endpoint")
        assert Model.objects.get(pk=twin.pk).name == f"SCORER ({twin.pk})"
        assert Endpoint.objects.get(environment="staging", name="https://e/x").model_id == first.pk
        # The old global unique index is gone: another team may now use the name.
        Model.objects.create(
            name="Scorer", slug="scorer-c", team="u", task="binary", owner_id=owner.pk
        )
    finally:
        _migrate(AFTER)
