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
    ok: bool
    count: int
    head_hash: str
    bad_seq: int | None = None
    reason: str = ""


def verify_chain(
    entries: Iterable[Mapping[str, Any]], *, head: tuple[int, str] | None = None
) -> ChainVerdict:
    """Walk entries in sequence order and name the first one that breaks the chain.

    `head` is the (seq, hash) the log claims to end at; without it, entries cut off the end
    of the log go unnoticed.
    """
    expected_seq = 1
    prev = GENESIS_HASH
    count = 0
    for entry in entries:
        seq = entry["seq"]
        if seq != expected_seq:
            reason = "missing" if seq > expected_seq else "out of order"
            return ChainVerdict(False, count, prev, expected_seq, f"entry {expected_seq} {reason}")
        if entry["prev_hash"] != prev:
            return ChainVerdict(False, count, prev, seq, "previous-hash link broken")
        if entry_hash(entry) != entry["hash"]:
            return ChainVerdict(False, count, prev, seq, "content modified (hash mismatch)")
        prev = entry["hash"]
        expected_seq += 1
        count += 1
    if head is not None and (count, prev) != tuple(head):
        if head[0] > count:
            return ChainVerdict(False, count, prev, count + 1, f"entry {count + 1} missing")
        return ChainVerdict(False, count, prev, count, "chain head does not match the log")
    return ChainVerdict(True, count, prev)
