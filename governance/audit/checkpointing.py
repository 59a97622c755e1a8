"""Signing checkpoints of the stored chain: every N entries inside `record`, and on demand.

Each checkpoint is a database row (AuditCheckpoint) and, once the transaction commits, a JSON
file under STEWARD_AUDIT_CHECKPOINT_DIR. Copy that folder and the public key somewhere the
database's owner cannot write, and a rewrite of the log cannot be hidden from you.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import transaction

from governance.audit import checkpoints, keys
from governance.audit.checkpoints import Checkpoint
from governance.audit.models import HEAD_ID, AuditChainHead, AuditCheckpoint


def checkpoint_every() -> int:
    """Entries between automatic checkpoints; 0 turns them off (on demand only)."""
    return int(getattr(settings, "STEWARD_AUDIT_CHECKPOINT_EVERY", 100))


def checkpoint_dir() -> Path:
    default = Path(settings.STORAGE_DIR) / "audit-checkpoints"
    return Path(getattr(settings, "STEWARD_AUDIT_CHECKPOINT_DIR", default))


def key_path() -> Path:
    default = Path(settings.STORAGE_DIR) / "keys" / "audit-ed25519.pem"
    return Path(getattr(settings, "STEWARD_AUDIT_KEY", default))


def signing_key() -> Ed25519PrivateKey:
    # Read every time (it is needed once per checkpoint), so a rotated key file takes effect
    # without a restart.
    return keys.load_or_create_private_key(key_path())


def checkpoint_due(seq: int) -> bool:
    every = checkpoint_every()
    return every > 0 and seq % every == 0


def checkpoint_create(*, seq: int, head_hash: str) -> AuditCheckpoint:
    """Sign "entry `seq` has hash `head_hash`" now and store it; the file is written once the
    transaction commits. Call with the head row locked, so checkpoints follow chain order."""
    now = dt.datetime.now(dt.UTC)
    cp = checkpoints.sign(signing_key(), seq=seq, head_hash=head_hash, created_at=now.isoformat())
    row = AuditCheckpoint.objects.create(
        seq=cp.seq,
        head_hash=cp.head_hash,
        created_at=now,
        key_id=cp.key_id,
        signature=cp.signature,
    )
    directory = checkpoint_dir()
    # robust: the entry is committed already; a full disk must not turn that into an error.
    # `write_missing_files` (audit_checkpoint --sync-files) repairs a lost file later.
    transaction.on_commit(lambda: checkpoints.write_file(directory, cp), robust=True)
    return row


@transaction.atomic
def checkpoint_now() -> AuditCheckpoint | None:
    """Sign the current head (the `audit_checkpoint` command). None while the log is empty;
    the existing row when the head is signed already."""
    head = AuditChainHead.objects.select_for_update().filter(pk=HEAD_ID).first()
    if head is None or head.seq == 0:
        return None
    existing = AuditCheckpoint.objects.filter(seq=head.seq).first()
    return existing or checkpoint_create(seq=head.seq, head_hash=head.hash)


def stored_checkpoints() -> list[Checkpoint]:
    return [row.as_checkpoint() for row in AuditCheckpoint.objects.order_by("seq")]


def latest_checkpoint() -> Checkpoint | None:
    row = AuditCheckpoint.objects.order_by("-seq").first()
    return row.as_checkpoint() if row else None


def write_missing_files() -> int:
    """Write the file of every stored checkpoint that has none; returns how many were written."""
    directory = checkpoint_dir()
    return sum(checkpoints.write_file(directory, cp) is not None for cp in stored_checkpoints())
