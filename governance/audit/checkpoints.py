"""Signed checkpoints of the audit chain, and verification of a log against them.

A checkpoint states "entry `seq` of the chain has hash `head_hash`", with the time and the id
of the Ed25519 key that signed it. Someone who rewrites an entry and recomputes every later
hash (and the head) gets a chain that links up again, but it no longer passes through the
hash a later checkpoint signed, and without the private key they cannot sign a new one.

No Django import: checkpoint files, an exported log and the public key verify offline.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from governance.audit.chain import ChainVerdict, verify_chain
from governance.audit.keys import key_id

FORMAT = "steward-audit-checkpoint/1"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class CheckpointFormatError(ValueError):
    """A checkpoint record is not in the expected shape."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    head_hash: str
    created_at: str
    key_id: str
    signature: str = ""

    def signed_bytes(self) -> bytes:
        """What the signature covers: every field but the signature, canonically encoded."""
        payload = {
            "format": FORMAT,
            "seq": self.seq,
            "head_hash": self.head_hash,
            "created_at": self.created_at,
            "key_id": self.key_id,
        }
        return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()

    def as_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}

    @property
    def file_name(self) -> str:
        return f"{self.seq:012d}-{self.head_hash[:16]}.json"


def sign(key: Ed25519PrivateKey, *, seq: int, head_hash: str, created_at: str) -> Checkpoint:
    unsigned = Checkpoint(seq, head_hash, created_at, key_id(key.public_key()))
    signature = base64.b64encode(key.sign(unsigned.signed_bytes())).decode()
    return replace(unsigned, signature=signature)


def signature_problem(cp: Checkpoint, public_keys: Mapping[str, Ed25519PublicKey]) -> str:
    """Why `cp` cannot be trusted, or "" when a known key signed exactly this content."""
    key = public_keys.get(cp.key_id)
    if key is None:
        return f"checkpoint at entry {cp.seq} is signed by unknown key {cp.key_id}"
    try:
        key.verify(base64.b64decode(cp.signature, validate=True), cp.signed_bytes())
    except (InvalidSignature, binascii.Error, ValueError):
        return f"checkpoint at entry {cp.seq}: signature does not verify (forged or altered)"
    return ""


def from_dict(data: Mapping[str, Any]) -> Checkpoint:
    """Read a checkpoint record (a file's JSON), checking its shape but not its signature."""
    try:
        cp = Checkpoint(
            seq=data["seq"],
            head_hash=data["head_hash"],
            created_at=data["created_at"],
            key_id=data["key_id"],
            signature=data["signature"],
        )
    except (KeyError, TypeError) as exc:
        raise CheckpointFormatError(f"not a checkpoint record: {exc}") from None
    if data.get("format") != FORMAT:
        raise CheckpointFormatError(f"unknown checkpoint format {data.get('format')!r}")
    if not isinstance(cp.seq, int) or isinstance(cp.seq, bool) or cp.seq < 1:
        raise CheckpointFormatError(f"bad checkpoint seq {cp.seq!r}")
    if not isinstance(cp.head_hash, str) or not _HEX64.match(cp.head_hash):
        raise CheckpointFormatError("bad checkpoint head hash")
    if not all(isinstance(v, str) for v in (cp.created_at, cp.key_id, cp.signature)):
        raise CheckpointFormatError("checkpoint time, key id and signature must be text")
    return cp


def write_file(directory: Path, cp: Checkpoint) -> Path | None:
    """Write `cp` as `<seq>-<hash prefix>.json`, never replacing a file already there.

    The file appears whole or not at all (written aside, then hard-linked into place). A
    checkpoint for the same entry with another hash gets its own file: evidence is kept.
    Returns the new path, or None when the same checkpoint was on file already.
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / cp.file_name
    tmp = directory / f".{cp.file_name}.{secrets.token_hex(8)}"
    tmp.write_text(json.dumps(cp.as_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    try:
        os.link(tmp, path)
    except FileExistsError:
        return None
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_dir(directory: Path) -> tuple[list[Checkpoint], list[str]]:
    """Every checkpoint file in `directory`, and a note for each file that cannot be read."""
    found: list[Checkpoint] = []
    notes: list[str] = []
    if not directory.is_dir():
        return found, notes
    for path in sorted(directory.glob("*.json")):
        try:
            found.append(from_dict(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError) as exc:
            notes.append(f"checkpoint file {path.name} unreadable: {exc}")
    return found, notes


def store_differences(database: Iterable[Checkpoint], files: Iterable[Checkpoint]) -> list[str]:
    """Checkpoints that one store has and the other lacks (a lost write, or a deletion)."""
    in_db, on_disk = set(database), set(files)
    notes = [f"checkpoint at entry {cp.seq} has no file" for cp in sorted_by_seq(in_db - on_disk)]
    notes += [
        f"checkpoint at entry {cp.seq} is on file but not in the database"
        for cp in sorted_by_seq(on_disk - in_db)
    ]
    return notes


def sorted_by_seq(checkpoints: Iterable[Checkpoint]) -> list[Checkpoint]:
    return sorted(checkpoints, key=lambda cp: (cp.seq, cp.head_hash, cp.created_at))


def verify_log(
    entries: Iterable[Mapping[str, Any]],
    *,
    checkpoints: Iterable[Checkpoint],
    public_keys: Mapping[str, Ed25519PublicKey],
    head: tuple[int, str] | None = None,
) -> ChainVerdict:
    """Verify the chain, anchored at every checkpoint whose signature holds.

    A checkpoint that does not verify anchors nothing and fails the verdict by itself: someone
    forged or altered it. Two different checkpoints for one entry both anchor it, so at
    least one of them fails against the log.
    """
    good: list[Checkpoint] = []
    problems: list[str] = []
    for cp in sorted_by_seq(set(checkpoints)):
        problem = signature_problem(cp, public_keys)
        if problem:
            problems.append(problem)
        else:
            good.append(cp)
    verdict = verify_chain(entries, head=head, anchors=[(cp.seq, cp.head_hash) for cp in good])
    if not problems:
        return verdict
    note = problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
    if not verdict.ok:
        return replace(verdict, reason=f"{verdict.reason}; also {note}")
    return replace(verdict, ok=False, reason=note)
