"""Version numbers are allocated without races: concurrent registrations get 1..N."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from registry import services
from registry.models import ModelVersion
from tests import factories
from tests.conftest import on_postgresql

THREADS = 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_get_distinct_consecutive_numbers():
    if not on_postgresql():
        pytest.skip("row locks are a PostgreSQL matter; SQLite serialises every writer anyway")
    model = factories.registered_model(name="Race")
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def register() -> None:
        try:
            barrier.wait(timeout=10)
            services.version_register(model=model, actor=model.owner)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    numbers = sorted(ModelVersion.objects.filter(model=model).values_list("number", flat=True))
    assert numbers == list(range(1, THREADS + 1))
    assert connection.vendor == "postgresql"


@pytest.mark.django_db(transaction=True)
def test_two_models_racing_for_a_new_endpoint_leave_it_with_one():
    """Both first deployments find no Endpoint row; the unique constraint lets one claim it
    and the other is refused, so the endpoint never serves two models."""
    if not on_postgresql():
        pytest.skip("row locks are a PostgreSQL matter; SQLite serialises every writer anyway")
    from django.core.exceptions import ValidationError

    from registry.models import Deployment, Endpoint

    versions = [factories.model_version() for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    refused: list[BaseException] = []
    errors: list[BaseException] = []

    def deploy(version) -> None:
        try:
            barrier.wait(timeout=10)
            factories.deployment(version=version, endpoint="https://race.example.org/p")
        except ValidationError as exc:
            refused.append(exc)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deploy, args=(v,)) for v in versions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and len(refused) == THREADS - 1
    owner = Endpoint.objects.get(name="https://race.example.org/p").model_id
    serving = Deployment.objects.filter(endpoint="https://race.example.org/p")
    assert set(serving.values_list("version__model_id", flat=True)) == {owner}


@pytest.mark.django_db(transaction=True)
def test_two_teammates_racing_for_one_name_get_one_model_and_a_400():
    if not on_postgresql():
        pytest.skip("row locks are a PostgreSQL matter; SQLite serialises every writer anyway")
    from django.core.exceptions import ValidationError

    from registry.models import RegisteredModel

    users = [factories.data_scientist(f"mate{i}") for i in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    refused: list[ValidationError] = []
    errors: list[BaseException] = []

    def create(user) -> None:
        try:
            barrier.wait(timeout=10)
            factories.registered_model(owner=user, name="Race name", team="t")
        except ValidationError as exc:
            refused.append(exc)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and len(refused) == THREADS - 1
    assert all(list(e.error_dict) == ["name"] for e in refused)
    assert RegisteredModel.objects.filter(name__iexact="race name", team="t").count() == 1
