"""The readiness section of the version page: the checklist's score and what blocks approval,
read through `governance.readiness.selectors` (the page itself lives in portal)."""

from __future__ import annotations

from typing import Any

from django import template

from governance.readiness.selectors import readiness
from registry.models import ModelVersion

register = template.Library()


@register.inclusion_tag("readiness/_summary.html")
def readiness_summary(version: ModelVersion) -> dict[str, Any]:
    state = readiness(version)
    return {
        "version": version,
        "model": version.model,
        "state": state,
        "score_percent": round(state.overall.score * 100),
    }
