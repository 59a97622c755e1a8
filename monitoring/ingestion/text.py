"""Text that cannot be stored: lone UTF-16 surrogates and NUL characters. No Django model.

JSON may spell a lone surrogate as an escape ("\\ud800"); Python decodes it into a str that
cannot be encoded as UTF-8, so PostgreSQL refuses it, SQLite stores it, and any response that
quotes it fails. PostgreSQL also refuses NUL in text and jsonb. Both are refused at the edge,
with the row and the field that carried them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from registry.limits import unstorable

# Only a \uD800-\uDFFF or \u0000 escape lets a decoded JSON string hold a lone surrogate or a
# NUL (raw surrogate bytes are invalid UTF-8, a raw NUL is invalid JSON): clean bodies skip
# the walk.
_RISKY_ESCAPE = re.compile(rb"\\u(?:[dD][89abcdefABCDEF]|0000)")


def may_hold_unstorable(body: bytes) -> bool:
    return _RISKY_ESCAPE.search(body) is not None


def first_unstorable(records: Iterable[Any], rows: Iterable[int]) -> tuple[int, str, str] | None:
    """(row, field, reason) of the first key or string value in decoded JSON records that
    holds a lone surrogate or a NUL, or None. Nested values are named by their top-level
    field, features by their own name."""
    for row, record in zip(rows, records, strict=False):
        found = _walk(record, "")
        if found is not None:
            return int(row), found[0], found[1]
    return None


def _walk(value: Any, field: str) -> tuple[str, str] | None:
    if isinstance(value, str):
        why = unstorable(value)
        return (field or "(row)", why) if why else None
    if isinstance(value, dict):
        for key, item in value.items():
            name = key if field in ("", "features") else field
            why = unstorable(key) if isinstance(key, str) else None
            if why:
                return ((field or "(row)") + " (a key)", why)
            found = _walk(item, name)
            if found is not None:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _walk(item, field)
            if found is not None:
                return found
    return None
