"""Signed checkpoints: made every N entries and on demand, stored as rows and as files after
commit, signed with a key created on first use, and checked by verify_audit."""

from __future__ import annotations

import json
import stat
import threading
from io import StringIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from governance import audit
from governance.audit import checkpoints, keys
from governance.audit.chain import entry_hash
from governance.audit.checkpointing import checkpoint_dir, key_path
from governance.audit.models import AuditCheckpoint
from governance.audit.verification import audit_report, stored_entries

pytestmark = pytest.mark.django_db


def append(count: int) -> None:
    for i in range(count):
        audit.record(actor="system", action=f"test.{i}", after={"i": i})


def files() -> list[Path]:
    return sorted(checkpoint_dir().glob("*.json"))


@pytest.fixture
def every_5(settings, django_capture_on_commit_callbacks):
    """Checkpoints every 5 entries; 12 entries appended and committed (files written)."""
    settings.STEWARD_AUDIT_CHECKPOINT_EVERY = 5
    with django_capture_on_commit_callbacks(execute=True):
        append(12)


def test_a_checkpoint_is_signed_every_n_entries_and_filed_once_committed(every_5):
    rows = list(AuditCheckpoint.objects.all())
    assert [row.seq for row in rows] == [5, 10]
    entries = {e["seq"]: e["hash"] for e in stored_entries()}
    assert [row.head_hash for row in rows] == [entries[5], entries[10]]
    on_disk = [checkpoints.from_dict(json.loads(path.read_text())) for path in files()]
    assert on_disk == [row.as_checkpoint() for row in rows]
    public = keys.read_public_key(key_path())
    trusted = {keys.key_id(public): public}
    assert all(checkpoints.signature_problem(cp, trusted) == "" for cp in on_disk)
    assert {cp.key_id for cp in on_disk} == {keys.key_id(public)}


def test_no_checkpoint_row_or_file_survives_a_rolled_back_transaction(
    settings, django_capture_on_commit_callbacks
):
    settings.STEWARD_AUDIT_CHECKPOINT_EVERY = 2
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        append(2)
        raise RuntimeError("the service failed")
    assert callbacks == [] and files() == []
    assert not AuditCheckpoint.objects.exists()


def test_the_file_is_written_only_after_commit(settings, django_capture_on_commit_callbacks):
    settings.STEWARD_AUDIT_CHECKPOINT_EVERY = 2
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        append(2)
    assert AuditCheckpoint.objects.count() == 1 and files() == []
    for callback in callbacks:
        callback()
    assert len(files()) == 1


def test_audit_checkpoint_signs_the_current_head_on_demand_once(
    settings, django_capture_on_commit_callbacks
):
    settings.STEWARD_AUDIT_CHECKPOINT_EVERY = 0  # on demand only
    append(3)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("audit_checkpoint", stdout=out)
        call_command("audit_checkpoint", stdout=StringIO())
    assert list(AuditCheckpoint.objects.values_list("seq", flat=True)) == [3]
    assert "checkpoint at entry 3" in out.getvalue() and len(files()) == 1
    assert audit_report().verdict.signed_through == 3


def test_audit_checkpoint_on_an_empty_log_signs_nothing():
    out = StringIO()
    call_command("audit_checkpoint", stdout=out)
    assert "empty" in out.getvalue() and not AuditCheckpoint.objects.exists()


def test_audit_checkpoint_sync_files_rewrites_a_lost_file(every_5):
    files()[0].unlink()
    assert "checkpoint at entry 5 has no file" in audit_report().notes
    out = StringIO()
    call_command("audit_checkpoint", "--sync-files", stdout=out)  # signs 12 too, unfiled yet
    assert "2 missing checkpoint files written" in out.getvalue()
    assert [p.name[:12] for p in files()] == ["000000000005", "000000000010", "000000000012"]
    assert audit_report().notes == ()


def test_the_signing_key_is_created_on_first_use_private_to_its_owner_and_reused(every_5):
    path = key_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    before = path.read_bytes()
    append(5)
    assert path.read_bytes() == before


def test_processes_racing_to_create_the_key_end_up_with_one_key(tmp_path):
    path = tmp_path / "race" / "key.pem"
    barrier = threading.Barrier(8)
    made: list[str] = []

    def create() -> None:
        barrier.wait(timeout=10)
        made.append(keys.key_id(keys.load_or_create_private_key(path).public_key()))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(made) == 8 and len(set(made)) == 1
    assert made[0] == keys.key_id(keys.read_public_key(path))
    assert [p.name for p in path.parent.iterdir()] == ["key.pem"]


def test_audit_public_key_prints_the_key_that_verifies_the_checkpoints(every_5, tmp_path):
    out, err = StringIO(), StringIO()
    call_command("audit_public_key", stdout=out, stderr=err)
    pem = tmp_path / "public.pem"
    pem.write_text(out.getvalue())
    public = keys.read_public_key(pem)
    assert "PRIVATE" not in out.getvalue() and keys.key_id(public) in err.getvalue()
    cp = AuditCheckpoint.objects.first().as_checkpoint()
    assert checkpoints.signature_problem(cp, {cp.key_id: public}) == ""


def test_a_checkpoint_file_altered_or_signed_by_another_key_fails_verification(every_5):
    path = files()[0]
    data = json.loads(path.read_text())
    altered = dict(data, head_hash="0" * 64)
    (path.parent / "altered.json").write_text(json.dumps(altered))
    report = audit_report()
    assert not report.verdict.ok and report.verdict.bad_seq is None
    assert "checkpoint at entry 5: signature does not verify" in report.verdict.reason
    (path.parent / "altered.json").unlink()
    rogue = checkpoints.sign(
        Ed25519PrivateKey.generate(), seq=10, head_hash="1" * 64, created_at=data["created_at"]
    )
    checkpoints.write_file(path.parent, rogue)
    assert "signed by unknown key" in audit_report().verdict.reason


def test_a_second_checkpoint_for_the_same_entry_is_kept_beside_the_first(every_5):
    """A database restored from an older backup, then written again, disagrees with the
    files: the new checkpoint does not replace the old one, and verification says so."""
    first = AuditCheckpoint.objects.get(seq=10).as_checkpoint()
    other = checkpoints.sign(
        keys.read_private_key(key_path()), seq=10, head_hash="2" * 64, created_at="later"
    )
    assert checkpoints.write_file(checkpoint_dir(), other) is not None
    assert checkpoints.write_file(checkpoint_dir(), first) is None
    assert len(files()) == 3
    verdict = audit_report().verdict
    assert not verdict.ok and verdict.window == (6, 10)


def test_a_checkpoint_missing_from_the_database_is_noted_and_its_file_still_checks(
    every_5, attacker
):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM governance_auditcheckpoint WHERE seq = 10")
    report = audit_report()
    assert report.verdict.ok and report.verdict.signed_through == 10
    assert "checkpoint at entry 10 is on file but not in the database" in report.notes


def test_verify_audit_reports_ok_with_the_signed_reach(every_5):
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "audit chain OK: 12 entries" in out.getvalue()
    assert "signed through entry 10" in out.getvalue()


def test_verify_audit_warns_when_an_expected_checkpoint_is_nowhere(every_5, settings):
    settings.STEWARD_AUDIT_CHECKPOINT_EVERY = 4  # as if the setting had been 4 all along
    err = StringIO()
    call_command("verify_audit", stdout=StringIO(), stderr=err)
    assert "warning: no checkpoint found for entries 4, 8, 12 (expected every 4)" in err.getvalue()


def test_an_export_verifies_offline_against_the_checkpoint_files_and_public_key(every_5, tmp_path):
    export, pem = tmp_path / "audit.jsonl", tmp_path / "public.pem"
    call_command("verify_audit", export=str(export), stdout=StringIO())
    call_command("audit_public_key", output=str(pem), stderr=StringIO())
    offline = ["--file", str(export), "--checkpoints", str(checkpoint_dir())]
    out = StringIO()
    call_command("verify_audit", *offline, "--public-key", str(pem), stdout=out)
    assert (
        "audit chain OK: 12 entries" in out.getvalue()
        and "signed through entry 10" in out.getvalue()
    )

    entries = [json.loads(line) for line in export.read_text().splitlines()]
    entries[6]["action"] = "forged"  # entry 7, then every later hash recomputed
    for i in range(6, len(entries)):
        entries[i]["prev_hash"] = entries[i - 1]["hash"]
        entries[i]["hash"] = entry_hash(entries[i])
    export.write_text("".join(json.dumps(e) + "\n" for e in entries))
    with pytest.raises(CommandError, match=r"BROKEN at entry 6: .* \[window 6\.\.10\]"):
        call_command("verify_audit", *offline, "--public-key", str(pem), stdout=StringIO())
