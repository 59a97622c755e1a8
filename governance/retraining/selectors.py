"""Reads for the model page and the retraining pages."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from governance.retraining.choices import OPEN_STATES
from governance.retraining.models import RetrainingPolicy, RetrainingRun
from governance.retraining.triggers import earliest_start
from registry.models import RegisteredModel


def run_list(*, model: RegisteredModel) -> QuerySet[RetrainingRun]:
    """The model's runs, newest first (the caller has checked the model is visible)."""
    return RetrainingRun.objects.filter(model=model).select_related(
        "base_version", "result_version", "requested_by", "approval_request"
    )


def model_summary(*, model: RegisteredModel, runs: int = 5) -> dict[str, Any]:
    """What the model page shows: the policy (or None), the open run, the newest runs and
    when the next run may start at the earliest."""
    policy = RetrainingPolicy.objects.filter(model=model).first()
    recent = list(run_list(model=model)[:runs])
    return {
        "policy": policy,
        "runs": recent,
        "open": next((r for r in recent if r.state in OPEN_STATES), None),
        "earliest": earliest_start(policy) if policy is not None else None,
    }


def comparison_rows(run: RetrainingRun) -> list[dict[str, Any]]:
    """The comparison's rows, as stored (previous, candidate, change, better)."""
    rows = run.comparison.get("metrics") if isinstance(run.comparison, dict) else None
    return list(rows or [])
