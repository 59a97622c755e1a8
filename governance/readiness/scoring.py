"""Readiness arithmetic on plain values (no Django models), so it can be checked by hand.

Each checklist item contributes one (answer, settles) pair: `answer` is "yes", "no",
"not_applicable" or None (unanswered); `settles` says whether that answer closes the item
(see `ChecklistAnswer.settles_item`).

    applicable = total - not_applicable
    score      = settled yes answers / applicable      (1.0 when nothing is applicable)

A "not applicable" answer takes the item out of the count instead of scoring as done, so
declaring items irrelevant never raises the score; it only shrinks what the score is over.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

YES = "yes"
NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class Tally:
    """Counts for a set of items (a section, or the whole checklist)."""

    total: int
    answered: int
    yes: int  # yes answers that settle their item
    not_applicable: int

    @property
    def applicable(self) -> int:
        return self.total - self.not_applicable

    @property
    def score(self) -> float:
        return self.yes / self.applicable if self.applicable else 1.0


def tally(answers: Iterable[tuple[str | None, bool]]) -> Tally:
    """Count one (answer, settles) pair per item."""
    total = answered = yes = not_applicable = 0
    for answer, settles in answers:
        total += 1
        if answer is None:
            continue
        answered += 1
        if answer == NOT_APPLICABLE:
            not_applicable += 1
        elif answer == YES and settles:
            yes += 1
    return Tally(total=total, answered=answered, yes=yes, not_applicable=not_applicable)
