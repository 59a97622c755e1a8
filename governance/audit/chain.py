"""The audit hash chain as pure functions: canonical encoding, entry hash, verification.

No Django import: an exported log (JSON lines) verifies offline with this module alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64

# The fields an entry's hash covers, in the order they are listed in exports.
HASHED_FIELDS = (
    "seq",
    "created_at",
    "actor_id",
    "actor_name",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "before",
    "after",
    "request_id",
    "remote_addr",
    "prev_hash",
)


def canonical_bytes(entry: Mapping[str, Any]) -> bytes:
    """Deterministic encoding of the hashed fields: sorted keys, no spaces, UTF-8."""
    payload = {name: entry.get(name) for name in HASHED_FIELDS}
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(entry: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(entry)).hexdigest()


@dataclass(frozen=True)
class ChainVerdict:
    """The outcome of a walk. `bad_seq` is the first entry that cannot be trusted; `window`
    bounds a rewrite that only a signed checkpoint caught (entries window[0]..window[1]);
    `signed_through` is the last entry a verified checkpoint vouches for."""

    ok: bool
    count: int
    head_hash: str
    bad_seq: int | None = None
    reason: str = ""
    window: tuple[int, int] | None = None
    signed_through: int = 0


def _entry_problem(entry: Mapping[str, Any], expected_seq: int, prev: str) -> tuple[int, str]:
    """(seq, reason) of what is wrong with `entry` at this point of the walk, or (0, "")."""
    seq = entry["seq"]
    if seq != expected_seq:
        reason = "missing" if seq > expected_seq else "out of order"
        return expected_seq, f"entry {expected_seq} {reason}"
    if entry["prev_hash"] != prev:
        return seq, "previous-hash link broken"
    if entry_hash(entry) != entry["hash"]:
        return seq, "content modified (hash mismatch)"
    return 0, ""


def _rewritten(seq: int, signed: str, found: str, start: int) -> tuple[str, tuple[int, int]]:
    reason = (
        f"checkpoint at entry {seq} signed head {signed[:12]}, the log has {found[:12]}: "
        f"entries {start}..{seq} were rewritten and re-hashed"
    )
    return reason, (start, seq)


def verify_chain(
    entries: Iterable[Mapping[str, Any]],
    *,
    head: tuple[int, str] | None = None,
    anchors: Iterable[tuple[int, str]] = (),
) -> ChainVerdict:
    """Walk entries in sequence order and name the first one that breaks the chain.

    `head` is the (seq, hash) the log claims to end at; without it, entries cut off the end
    of the log go unnoticed. `anchors` are (seq, hash) pairs from verified signed checkpoints:
    a chain that links up but disagrees with one was recomputed after a rewrite, somewhere
    after the previous checkpoint.
    """
    signed: dict[int, set[str]] = {}
    for seq, signed_hash in anchors:
        signed.setdefault(seq, set()).add(signed_hash)
    expected_seq, prev, count, covered = 1, GENESIS_HASH, 0, 0
    for entry in entries:
        bad_seq, reason = _entry_problem(entry, expected_seq, prev)
        if bad_seq:
            return ChainVerdict(False, count, prev, bad_seq, reason, signed_through=covered)
        prev = entry["hash"]
        expected_seq += 1
        count += 1
        if count in signed:
            # Every checkpoint for this entry must agree (a restored backup can leave two).
            wrong = sorted(signed.pop(count) - {prev})
            if wrong:
                reason, window = _rewritten(count, wrong[0], prev, covered + 1)
                return ChainVerdict(False, count, prev, covered + 1, reason, window, covered)
            covered = count
    if any(seq > count for seq in signed):
        seq = min(seq for seq in signed if seq > count)
        reason = f"entries {count + 1}..{seq} missing: a checkpoint signed entry {seq}"
        return ChainVerdict(False, count, prev, count + 1, reason, (covered + 1, seq), covered)
    if head is not None and (count, prev) != tuple(head):
        if head[0] > count:
            reason = f"entry {count + 1} missing"
            return ChainVerdict(False, count, prev, count + 1, reason, signed_through=covered)
        reason = "chain head does not match the log"
        return ChainVerdict(False, count, prev, count, reason, signed_through=covered)
    return ChainVerdict(True, count, prev, signed_through=covered)
