"""Verify the stored audit log, or export it as JSON lines that verify offline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from governance.audit.chain import ChainVerdict, verify_chain
from governance.audit.models import AuditChainHead, AuditEvent

BATCH = 2000


def stored_entries() -> Iterator[dict[str, Any]]:
    """Every entry in sequence order, read in batches so memory stays flat."""
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=BATCH):
        yield event.as_chain_entry()


def chain_head() -> tuple[int, str] | None:
    head = AuditChainHead.objects.filter(pk=1).first()
    return (head.seq, head.hash) if head else None


def verify_stored_log() -> ChainVerdict:
    return verify_chain(stored_entries(), head=chain_head())


def export_jsonl(out: IO[str]) -> int:
    """Write one JSON object per entry; `verify_jsonl` checks the file with no database."""
    count = 0
    for entry in stored_entries():
        out.write(json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n")
        count += 1
    return count


def verify_jsonl(lines: IO[str]) -> ChainVerdict:
    return verify_chain(json.loads(line) for line in lines if line.strip())
