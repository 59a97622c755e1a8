"""Pure: whether a rule's condition holds for a reading. The one comparison the evaluator
(`services.alerts_evaluate`) and the preview (`preview.py`) both use."""

from __future__ import annotations

import operator
from collections.abc import Callable

COMPARE: dict[str, Callable[[float, float], bool]] = {
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}


def holds(comparator: str, value: float, threshold: float) -> bool:
    """True when `value <comparator> threshold`, i.e. the rule fires."""
    return COMPARE[comparator](value, threshold)
