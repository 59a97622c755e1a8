"""Verify the stored audit log against its head and signed checkpoints, or export it as JSON
lines that verify offline."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from governance.audit import checkpoints, keys
from governance.audit.chain import ChainVerdict, verify_chain
from governance.audit.checkpointing import checkpoint_dir, checkpoint_every, key_path
from governance.audit.checkpointing import stored_checkpoints as database_checkpoints
from governance.audit.checkpoints import Checkpoint
from governance.audit.models import HEAD_ID, AuditChainHead, AuditEvent

BATCH = 2000
# Checkpoints expected at every multiple of STEWARD_AUDIT_CHECKPOINT_EVERY but found nowhere
# are listed up to this many in the notes.
MAX_GAP_NOTES = 5


@dataclass(frozen=True)
class AuditReport:
    """A verdict on the stored log, the newest checkpoint, and warnings that do not by
    themselves mean the log was changed (a checkpoint file never written, for one)."""

    verdict: ChainVerdict
    checkpoints: int
    latest: Checkpoint | None
    notes: tuple[str, ...] = ()


def stored_entries() -> Iterator[dict[str, Any]]:
    """Every entry in sequence order, read in batches so memory stays flat."""
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=BATCH):
        yield event.as_chain_entry()


def chain_head() -> tuple[int, str] | None:
    head = AuditChainHead.objects.filter(pk=HEAD_ID).first()
    return (head.seq, head.hash) if head else None


def trusted_keys(extra: Iterable[Path] = ()) -> dict[str, Ed25519PublicKey]:
    """The configured signing key's public half (if the key exists) and any `extra` keys
    (public or private PEM files: keys used before a rotation)."""
    paths = [key_path()] if key_path().exists() else []
    return keys.public_keys_by_id(keys.read_public_key(path) for path in [*paths, *extra])


def _missing_checkpoints(found: Iterable[Checkpoint], head_seq: int) -> list[str]:
    every = checkpoint_every()
    if every <= 0:
        return []
    have = {cp.seq for cp in found}
    gaps = [seq for seq in range(every, head_seq + 1, every) if seq not in have]
    if not gaps:
        return []
    listed = ", ".join(str(seq) for seq in gaps[:MAX_GAP_NOTES])
    more = f" and {len(gaps) - MAX_GAP_NOTES} more" if len(gaps) > MAX_GAP_NOTES else ""
    return [f"no checkpoint found for entries {listed}{more} (expected every {every})"]


def audit_report(*, extra_keys: Iterable[Path] = ()) -> AuditReport:
    """Check the stored log against the head and every checkpoint, from the database and
    from the checkpoint files."""
    in_db = database_checkpoints()
    on_disk, unreadable = checkpoints.read_dir(checkpoint_dir())
    both = checkpoints.sorted_by_seq({*in_db, *on_disk})
    head = chain_head()
    verdict = checkpoints.verify_log(
        stored_entries(), checkpoints=both, public_keys=trusted_keys(extra_keys), head=head
    )
    notes = [
        *unreadable,
        *checkpoints.store_differences(in_db, on_disk),
        *_missing_checkpoints(both, head[0] if head else verdict.count),
    ]
    return AuditReport(verdict, len(both), both[-1] if both else None, tuple(notes))


def verify_stored_log() -> ChainVerdict:
    return audit_report().verdict


def export_jsonl(out: IO[str]) -> int:
    """Write one JSON object per entry; `verify_jsonl` checks the file with no database."""
    count = 0
    for entry in stored_entries():
        out.write(json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n")
        count += 1
    return count


def verify_jsonl(
    lines: IO[str],
    *,
    checkpoint_files: Path | None = None,
    public_keys: Iterable[Path] = (),
) -> ChainVerdict:
    """Verify an exported log; with a folder of checkpoint files and the public key(s), a
    rewrite that recomputed the hashes is caught too."""
    entries = (json.loads(line) for line in lines if line.strip())
    if checkpoint_files is None:
        return verify_chain(entries)
    found, _ = checkpoints.read_dir(checkpoint_files)
    trusted = keys.public_keys_by_id(keys.read_public_key(path) for path in public_keys)
    return checkpoints.verify_log(entries, checkpoints=found, public_keys=trusted)
