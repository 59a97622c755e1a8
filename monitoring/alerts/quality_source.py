"""Alert rules on data quality (source "quality"): `name` is a share of engines/quality_counts
("missing_share", "type_error_share", "out_of_range_share", "unseen_share"), optionally
followed by ":<feature>"; without a feature the worst feature's share is compared. The share
is taken over the last `window_days` x 24 hours of hourly quality rows."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from monitoring.engines.quality_counts import FIGURES
from monitoring.models import AlertRule
from monitoring.rollups.quality_selectors import quality_worst
from registry.models import Deployment

HOURS_PER_DAY = 24


def quality_rule_parts(name: str) -> tuple[str, str | None]:
    """(figure, feature or None) of a rule name."""
    figure, _, feature = name.partition(":")
    return figure, feature or None


def quality_rule_name_problem(name: str) -> str | None:
    """Why `name` is not a data-quality rule name, or None when it is."""
    figure, feature = quality_rule_parts(name)
    if figure not in FIGURES:
        return f"one of {list(FIGURES)}, optionally followed by ':<feature>'"
    if feature is not None and not feature.strip():
        return "the feature after ':' must not be blank"
    return None


def quality_reading(
    rule: AlertRule, deployment: Deployment, now: dt.datetime | None = None
) -> tuple[float, str] | None:
    """(share, message) of the rule on the deployment; None without stored quality hours."""
    figure, feature = quality_rule_parts(rule.name)
    since = (now or timezone.now()) - dt.timedelta(hours=HOURS_PER_DAY * max(rule.window_days, 1))
    worst = quality_worst(deployment=deployment, since=since, feature=feature).get(figure)
    if worst is None:
        return None
    name, share = worst
    hours = HOURS_PER_DAY * max(rule.window_days, 1)
    message = (
        f"{figure.replace('_', ' ')} of feature {name} on deployment {deployment.pk} over the "
        f"last {hours} hours is {share:.4g} ({rule.get_comparator_display()} {rule.threshold:.4g})"
    )
    return share, message
