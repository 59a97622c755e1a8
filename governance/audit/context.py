"""Per-request facts that every audit entry copies: request id and client address."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class AuditContext:
    request_id: str = ""
    remote_addr: str = ""


_EMPTY = AuditContext()
_current: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar(
    "steward_audit_context", default=None
)


def current() -> AuditContext:
    return _current.get() or _EMPTY


@contextmanager
def bound(ctx: AuditContext) -> Iterator[None]:
    token = _current.set(ctx)
    try:
        yield
    finally:
        _current.reset(token)
