"""Conflicts the readiness services and gate raise (HTTP 409 through portal.api)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from registry.errors import ConflictError, FrozenError

if TYPE_CHECKING:
    from governance.readiness.models import ChecklistItem


class ChecklistFrozen(FrozenError):
    """The version was approved or archived: its checklist stays as it was reviewed."""

    code = "checklist_frozen"


class ChecklistIncomplete(ConflictError):
    """Items required for the model's risk tier are still open; `items` lists them."""

    code = "checklist_incomplete"

    def __init__(self, message: str, *, items: Sequence[ChecklistItem]) -> None:
        super().__init__(message)
        self.items = list(items)
