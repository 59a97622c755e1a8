"""Simultaneous answers to one item: the version row lock makes them queue, never collide."""

from __future__ import annotations

import threading

import pytest
from django.apps import apps as live_apps
from django.db import connections

from governance.models import AuditEvent
from governance.readiness.loader import load_template
from governance.readiness.models import ChecklistAnswer
from governance.readiness.services import answer_record
from tests import factories
from tests.conftest import on_postgresql

THREADS = 6


# A transactional test may run after another one's flush has removed the template the data
# migration loaded, so this one brings its own.
RACE_TEMPLATE = {
    "version": 98,
    "title": "Race",
    "sections": [
        {"key": "race", "title": "Race", "items": [{"key": "race.item", "question": "Ready?"}]}
    ],
}


@pytest.mark.django_db(transaction=True)
def test_concurrent_answers_to_one_item_leave_one_answer_and_a_complete_audit_trail():
    if not on_postgresql():
        pytest.skip("row locks are a PostgreSQL matter; SQLite serialises every writer anyway")
    load_template(live_apps, RACE_TEMPLATE)
    version = factories.model_version(model=factories.registered_model(name="Race"))
    owner = version.model.owner
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def answer(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            answer_record(
                version=version,
                actor=owner,
                item="race.item",
                answer="not_applicable",
                note=f"reason {n}",
            )
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=answer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    (current,) = ChecklistAnswer.objects.filter(version=version)
    events = list(
        AuditEvent.objects.filter(
            target_id=str(current.pk), target_type="readiness.checklistanswer"
        )
        .order_by("seq")
        .values_list("action", "after__note")
    )
    assert [action for action, _ in events] == ["readiness.answer.recorded"] + [
        "readiness.answer.changed"
    ] * (THREADS - 1)
    assert events[-1][1] == current.note
