"""Enumerations of the readiness checklist."""

from __future__ import annotations

from django.db import models

from registry.choices import RiskTier


class AnswerChoice(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    NOT_APPLICABLE = "not_applicable", "Not applicable"


# Risk tiers from least to most demanding; a template item lists the tiers that require it.
TIER_ORDER: tuple[str, ...] = (RiskTier.LOW, RiskTier.MEDIUM, RiskTier.HIGH, RiskTier.CRITICAL)


def tiers_from(lowest: str | None) -> list[str]:
    """The tiers at or above `lowest` (none when `lowest` is None): how templates declare
    that an item required of a lower tier is required of every higher one too."""
    if lowest is None:
        return []
    return list(TIER_ORDER[TIER_ORDER.index(lowest) :])
