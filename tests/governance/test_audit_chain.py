"""The audit log: every service write leaves a chained entry; tampering is named."""

from __future__ import annotations

import pytest

from governance import audit
from governance.audit.chain import GENESIS_HASH, verify_chain
from governance.audit.context import AuditContext, bound
from governance.audit.models import AppendOnlyError
from governance.models import AuditChainHead, AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db


def _entries():
    return [e.as_chain_entry() for e in AuditEvent.objects.order_by("seq")]


def test_entries_chain_from_genesis_and_verify(model_a):
    factories.model_version(model=model_a)
    entries = _entries()
    assert entries[0]["seq"] == 1 and entries[0]["prev_hash"] == GENESIS_HASH
    verdict = verify_chain(entries)
    assert verdict.ok and verdict.count == len(entries) == AuditEvent.objects.count()
    assert verdict.head_hash == entries[-1]["hash"]


def test_the_orm_refuses_to_change_or_delete_entries(model_a):
    event = AuditEvent.objects.first()
    event.action = "forged"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().update(action="forged")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


@pytest.mark.parametrize("field", ["action", "after", "actor_name", "created_at"])
def test_a_modified_entry_is_named_by_its_sequence_number(model_a, field):
    for _ in range(3):
        factories.model_version(model=model_a)
    entries = _entries()
    victim = entries[2]
    victim[field] = {"forged": True} if field == "after" else "forged"
    verdict = verify_chain(entries)
    assert not verdict.ok and verdict.bad_seq == victim["seq"]
    assert "modified" in verdict.reason


def test_a_missing_entry_is_named(model_a):
    factories.model_version(model=model_a)
    factories.model_version(model=model_a)
    entries = _entries()
    del entries[1]
    verdict = verify_chain(entries)
    assert not verdict.ok and verdict.bad_seq == 2 and "missing" in verdict.reason


def test_entries_cut_off_the_end_are_caught_against_the_head(model_a):
    factories.model_version(model=model_a)
    entries = _entries()
    head = AuditChainHead.objects.get()
    assert verify_chain(entries, head=(head.seq, head.hash)).ok
    verdict = verify_chain(entries[:-1], head=(head.seq, head.hash))
    assert not verdict.ok and verdict.bad_seq == head.seq and "missing" in verdict.reason


def test_request_id_and_client_address_are_copied(owner):
    with bound(AuditContext(request_id="req-42", remote_addr="10.1.2.3")):
        event = audit.record(actor=owner, action="test.happened")
    assert (event.request_id, event.remote_addr, event.actor_name) == (
        "req-42",
        "10.1.2.3",
        owner.username,
    )


def test_api_writes_carry_the_request_id(api_as, owner):
    response = api_as(owner).post(
        "/api/v1/models/",
        {"name": "Traced", "task": "binary"},
        format="json",
        HTTP_X_REQUEST_ID="trace-123",
    )
    assert response["X-Request-ID"] == "trace-123"
    event = AuditEvent.objects.get(action="registry.model.created")
    assert event.request_id == "trace-123" and event.remote_addr == "127.0.0.1"


def test_verify_audit_command_reports_ok_and_exports_a_file_that_verifies_offline(
    model_a, tmp_path
):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    export = tmp_path / "audit.jsonl"
    call_command("verify_audit", export=str(export), stdout=out)
    assert "audit chain OK" in out.getvalue()
    count = AuditEvent.objects.count()
    assert f"{count} entries" in out.getvalue()
    lines = export.read_text().splitlines()
    assert len(lines) == count
    lines[0] = lines[0].replace("registry.model.created", "registry.model.deleted")
    export.write_text("\n".join(lines))
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="BROKEN at entry 1"):
        call_command("verify_audit", file=str(export), stdout=StringIO())
