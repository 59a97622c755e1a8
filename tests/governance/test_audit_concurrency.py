"""Appends are serialised by the head row's lock: concurrent writers make one linear chain."""

from __future__ import annotations

import threading
from collections import defaultdict

import pytest
from django.db import connection, connections

from governance import audit
from governance.audit.models import AuditCheckpoint, AuditEvent
from governance.audit.verification import audit_report

THREADS = 8
PER_THREAD = 500


@pytest.mark.django_db(transaction=True)
def test_eight_threads_appending_500_entries_each_make_one_chain_of_4000_that_verifies(
    postgresql, settings
):
    settings.STEWARD_AUDIT_CHECKPOINT_EVERY = 100
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def append(writer: int) -> None:
        try:
            with connection.cursor() as cursor:
                # Durability is not under test; waiting for each commit's fsync only slows it.
                cursor.execute("SET synchronous_commit = off")
            barrier.wait(timeout=10)
            for i in range(PER_THREAD):
                audit.record(actor=f"writer-{writer}", action="test.concurrent", after={"i": i})
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []

    total = THREADS * PER_THREAD
    rows = list(AuditEvent.objects.order_by("seq").values_list("seq", "actor_name", "after"))
    assert [seq for seq, _, _ in rows] == list(range(1, total + 1))
    by_writer: dict[str, list[int]] = defaultdict(list)
    for _, writer, after in rows:
        by_writer[writer].append(after["i"])
    assert all(order == list(range(PER_THREAD)) for order in by_writer.values())
    assert len(by_writer) == THREADS

    report = audit_report()
    assert report.verdict.ok, report.verdict
    assert (report.verdict.count, report.verdict.signed_through) == (total, total)
    assert list(AuditCheckpoint.objects.values_list("seq", flat=True)) == list(
        range(100, total + 1, 100)
    )
    assert len(list(settings.STEWARD_AUDIT_CHECKPOINT_DIR.glob("*.json"))) == total // 100
    assert report.notes == ()
