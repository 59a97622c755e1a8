"""The audit log as CSV for spreadsheets. Pure functions: entries in, text lines out.

Cells that a spreadsheet would run as a formula (starting with = + - @, tab or carriage
return) get a leading apostrophe, so the CSV is for reading, not for re-verifying the chain:
the JSON-lines export (`verify_audit --export`) is the one that verifies.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from governance.audit.chain import HASHED_FIELDS

CSV_COLUMNS = (*HASHED_FIELDS, "hash")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """`text` as a spreadsheet shows it literally (OWASP's CSV injection advice)."""
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list | bool):
        value = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return neutralise(value) if isinstance(value, str) else value


class _Line:
    """A file-like object whose write() hands back what it was given (for csv.writer)."""

    def write(self, text: str) -> str:
        return text


def csv_lines(
    entries: Iterable[Mapping[str, Any]],
    columns: Sequence[str] = CSV_COLUMNS,
    headers: Sequence[str] | None = None,
) -> Iterator[str]:
    """The header (`headers`, or the column keys), then one CSV line per entry holding its
    `columns` (formulas neutralised), ready to stream. Every CSV export of Steward writes
    through here."""
    writer = csv.writer(_Line())
    yield writer.writerow(headers or columns)
    for entry in entries:
        yield writer.writerow([csv_cell(entry.get(column)) for column in columns])
