"""Untrusted JSON into Python values, refusing what would break later. No Django import.

Every JSON request body goes through `loads`: DRF's parser (`registry.api.parsers`), JSON
strings in form fields (`registry.api.fields.JSONField`) and ingestion's JSON and NDJSON
(`monitoring.ingestion.parsing`). orjson parses: it never recurses on the C stack (it stops at
1,024 levels by itself) and reads ingestion batches faster than the standard library. Then:

- nesting deeper than MAX_DEPTH is refused. orjson's own 1,024 is too deep for what follows:
  the standard library's `json.dumps` (the database's JSON adapter, the audit log, DRF's
  renderer) recurses once per level and raises RecursionError near 1,000;
- an object with more than MAX_KEYS members is refused;
- an integer beyond 64 bits is refused: orjson would silently turn it into a float;
- NaN, Infinity, lone UTF-16 surrogates, invalid UTF-8 and a byte order mark are refused
  (orjson does; the standard library would accept the first three).

Each refusal is a JSONInputError (a ValueError) whose message names the problem.

`loads(..., strict_values=False)` keeps the structural limits (depth, members, NaN and
Infinity, UTF-8) but lets lone surrogates and integers beyond 64 bits through as Python values,
for callers that refuse them per field and name the field and row: the API's serializers
(`registry.limits`, bounded id fields) and ingestion's row checks. A number too long for
Python's `int()` is still refused here.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

MAX_DEPTH = 64
MAX_KEYS = 10_000
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1  # orjson keeps these as int, beyond them a float
_CONTAINERS = frozenset({dict, list})
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGIT_RUN = b"0" * 19  # -(2**63) - 1 has 19 digits; shorter runs always fit


class JSONInputError(ValueError):
    """The text is not JSON Steward accepts (a 400)."""


def loads(data: bytes | bytearray | memoryview | str, *, strict_values: bool = True) -> Any:
    """Parse `data` as JSON, or raise JSONInputError saying why not."""
    raw = _as_bytes(data)
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if strict_values or not _value_level(str(exc)):
            raise JSONInputError(_describe(exc, raw)) from exc
        return _stdlib_loads(raw)
    check_shape(value)
    if raw.translate(_DIGITS_TO_ZERO).find(_LONG_DIGIT_RUN) != -1:
        # Rare: only bodies holding a run of 19 digits pay for it.
        if strict_values:
            _check_integers(raw)
        else:
            value = _stdlib_loads(raw)  # orjson turned integers past 64 bits into floats
    return value


def _value_level(message: str) -> bool:
    """orjson refused a value the standard library reads (and a serializer can name)."""
    return "surrogate in string" in message or message.startswith("number is infinity")


def _stdlib_loads(raw: bytes) -> Any:
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise JSONInputError(f"nested deeper than {MAX_DEPTH} levels") from exc
    except ValueError as exc:  # also a number past Python's 4,300-digit limit for int()
        raise JSONInputError(f"not valid JSON ({exc})") from exc
    check_shape(value)
    return value


def _refuse_constant(name: str) -> Any:
    raise JSONInputError(f"NaN and Infinity are not JSON numbers; send null or a string ({name})")


def check_shape(value: Any, *, max_depth: int = MAX_DEPTH, max_keys: int = MAX_KEYS) -> None:
    """Refuse nesting deeper than `max_depth` and objects with more than `max_keys` members.
    Level by level, without recursion."""
    level = [value] if type(value) in _CONTAINERS else []
    depth = 1
    while level:
        if depth > max_depth:
            raise JSONInputError(f"nested deeper than {max_depth} levels")
        # Whole levels per comprehension: an ingestion batch is one list of 5,000 objects.
        objects = [node for node in level if type(node) is dict]
        if objects and max(map(len, objects)) > max_keys:
            raise JSONInputError(f"an object has more than {max_keys:,} members")
        below = [child for obj in objects for child in obj.values() if type(child) in _CONTAINERS]
        if len(objects) < len(level):
            below += [c for n in level if type(n) is list for c in n if type(c) in _CONTAINERS]
        level = below
        depth += 1


def _as_bytes(data: bytes | bytearray | memoryview | str) -> bytes:
    if isinstance(data, str):
        # Lone surrogates pass through encoding, so that orjson names them.
        return data.encode("utf-8", "surrogatepass")
    return bytes(data)


def _describe(exc: orjson.JSONDecodeError, raw: bytes) -> str:
    message = str(exc)
    if message.startswith("depth limit exceeded"):
        return f"nested deeper than {MAX_DEPTH} levels"
    at = raw[exc.pos : exc.pos + 8]
    if at.startswith((b"NaN", b"Infinity")):
        return f"NaN and Infinity are not JSON numbers; send null or a string ({message})"
    if "surrogate in string" in message:
        return f"a string holds a lone UTF-16 surrogate ({message})"
    if "not valid UTF-8" in message:
        return f"not UTF-8 text, or a string holds an encoded surrogate ({message})"
    if message.startswith("number is infinity"):
        return f"a number is too large for a 64-bit float ({message})"
    return f"not valid JSON ({message})"


def _checked_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:  # past Python's digit limit for int()
        number = _INT_MAX + 1
    if not _INT_MIN <= number <= _INT_MAX:
        shown = text if len(text) <= 30 else f"{text[:27]}..."
        raise JSONInputError(f"the integer {shown} does not fit in 64 bits; send it as a string")
    return number


def _check_integers(raw: bytes) -> None:
    # The standard library hands each integer's text to parse_int; depth is already checked,
    # so it cannot recurse too far.
    json.loads(raw, parse_int=_checked_int)
