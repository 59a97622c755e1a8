"""When a rule would have fired over the last 30 days, from the stored rollups.

The reading at each past moment is computed by the same pure functions the evaluator uses
(`window_mean` for daily metrics and canaries; `merge_hours` and `worst_of`, which
`quality_worst` uses, for data quality), and compared by the same `conditions.holds`: a metric
or canary rule is read at the end of each UTC day (the days with ground truth up to that day),
a data-quality rule at each hour (the `window_days` x 24 hours before it, summed by a sliding
window so that a long window costs no more than a short one). A status rule compares the
current level, of which no history is kept, so it has no preview. The rule may be unsaved
(the form's values).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils import timezone

from monitoring.alerts import canary
from monitoring.alerts.conditions import holds
from monitoring.alerts.quality_source import HOURS_PER_DAY, quality_rule_parts
from monitoring.engines.quality_counts import QualityCounts
from monitoring.models import (
    AlertRule,
    AlertSource,
    DailyEstimate,
    DailyPerformance,
    HourlyQuality,
)
from monitoring.performance.selectors import window_mean
from monitoring.rollups.quality_selectors import hour_counts, merge_hours, worst_of
from registry.models import Deployment

DAYS = 30

DayRows = list[tuple[dt.date, int, dict[str, Any]]]


@dataclass(frozen=True)
class Firing:
    """One day (metric, canary) or hour (quality) at whose end the rule would have fired."""

    deployment: Deployment
    at: dt.datetime
    value: float


@dataclass
class Preview:
    unit: str  # "day" or "hour"
    firings: list[Firing] = field(default_factory=list)
    evaluated: int = 0  # moments with a reading (fired or not)
    moments: int = 0  # moments looked at, per deployment
    note: str = ""  # why there is nothing to show, if so

    @property
    def count(self) -> int:
        return len(self.firings)


def _estimated_rows(deployment: Deployment, start: dt.date, end: dt.date, window: int) -> DayRows:
    """As `_day_rows`, from the daily estimates: (day, predictions, {metric: estimate})."""
    base = DailyEstimate.objects.filter(
        deployment=deployment, predictions__gt=0, day__lte=end
    ).order_by("-day")
    fields = ("day", "predictions", "estimated")
    rows = list(base.filter(day__gte=start).values_list(*fields))
    rows += list(base.filter(day__lt=start).values_list(*fields)[: max(window, 1)])
    return [(d, n, {k: band.get("value") for k, band in est.items()}) for d, n, est in rows]


def _day_rows(
    deployment: Deployment, start: dt.date, end: dt.date, window: int, *, estimated: bool = False
) -> DayRows:
    """(day, labelled, metrics) of the days with ground truth up to `end`, newest first:
    those from `start` on, and the `window` before it that the first days' windows reach
    (with `estimated`, the days with estimates instead)."""
    if estimated:
        return _estimated_rows(deployment, start, end, window)
    base = DailyPerformance.objects.filter(
        deployment=deployment, labelled__gt=0, day__lte=end
    ).order_by("-day")
    fields = ("day", "labelled", "metrics")
    recent = list(base.filter(day__gte=start).values_list(*fields))
    earlier = list(base.filter(day__lt=start).values_list(*fields)[: max(window, 1)])
    return recent + earlier


def _value_at(rows: DayRows, day: dt.date, name: str, window: int) -> float | None:
    """The windowed metric as the evaluator would have read it at the end of `day`."""
    upto = [(n, m) for d, n, m in rows if d <= day]
    return window_mean(upto, name, window)


def _days(now: dt.datetime, days: int) -> list[dt.date]:
    today = now.astimezone(dt.UTC).date()
    return [today - dt.timedelta(days=k) for k in range(days - 1, -1, -1)]


def _end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.UTC)


def _daily(rule: AlertRule, deployments: list[Deployment], now: dt.datetime, days: int) -> Preview:
    preview = Preview(unit="day", moments=days)
    moments = _days(now, days)
    window = max(rule.window_days, 1)
    canaries = 0
    for deployment in deployments:
        rows = _day_rows(
            deployment,
            moments[0],
            moments[-1],
            window,
            estimated=rule.source == AlertSource.ESTIMATED,
        )
        base_rows: DayRows | None = None
        if rule.source == AlertSource.CANARY:
            baseline = canary.baseline_of(deployment)
            if baseline is None:
                continue
            canaries += 1
            base_rows = _day_rows(baseline, moments[0], moments[-1], window)
        for day in moments:
            value = _value_at(rows, day, rule.name, window)
            if value is not None and base_rows is not None:
                theirs = _value_at(base_rows, day, rule.name, window)
                value = None if theirs is None else value - theirs
            if value is None:
                continue
            preview.evaluated += 1
            if holds(rule.comparator, value, rule.threshold):
                preview.firings.append(Firing(deployment, _end_of(day), value))
    if rule.source == AlertSource.CANARY and not canaries:
        preview.note = "No deployment here is a canary now: a canary rule reads nothing."
    elif not preview.evaluated:
        preview.note = f"No day with ground truth and a figure for {rule.name!r} in the period."
    return preview


Hour = dict[str, QualityCounts]


class _SlidingSum:
    """The `merge_hours` sum of a window of hours that slides forward (first in, first out),
    in O(1) merges per hour: two stacks, the back one with its running sum, the front one with
    each element's sum through the end of the front (sums need no subtraction)."""

    def __init__(self) -> None:
        self.front: list[Hour] = []  # suffix sums, the oldest hour's last
        self.back: list[Hour] = []
        self.back_sum: Hour = {}

    def __len__(self) -> int:
        return len(self.front) + len(self.back)

    def push(self, hour: Hour) -> None:
        self.back.append(hour)
        self.back_sum = merge_hours([self.back_sum, hour])

    def pop(self) -> None:
        if not self.front:
            running: Hour = {}
            while self.back:
                running = merge_hours([self.back.pop(), running])
                self.front.append(running)
            self.back_sum = {}
        self.front.pop()

    def total(self) -> Hour:
        return merge_hours([self.front[-1] if self.front else {}, self.back_sum])


def _hourly(rule: AlertRule, deployments: list[Deployment], now: dt.datetime, days: int) -> Preview:
    hours = HOURS_PER_DAY * days
    preview = Preview(unit="hour", moments=hours)
    figure, feature = quality_rule_parts(rule.name)
    span = dt.timedelta(hours=HOURS_PER_DAY * max(rule.window_days, 1))
    top = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    moments = [top - dt.timedelta(hours=k) for k in range(hours - 1, -1, -1)]
    for deployment in deployments:
        rows = list(
            HourlyQuality.objects.filter(
                deployment=deployment, hour__gte=moments[0] - span, hour__lt=moments[-1]
            ).order_by("hour")
        )
        # Each stored hour parsed once, without its unseen examples (which no share reads,
        # and whose ranking is most of a merge's cost).
        parsed = [
            {name: replace(counts, unseen_examples={}) for name, counts in hour_counts(row).items()}
            for row in rows
        ]
        window = _SlidingSum()
        entered = left = 0
        for moment in moments:
            # What the evaluator would have read at `moment`: the hours of the window before it.
            while entered < len(rows) and rows[entered].hour < moment:
                window.push(parsed[entered])
                entered += 1
            while left < entered and rows[left].hour < moment - span:
                window.pop()
                left += 1
            if not len(window):
                continue
            worst = worst_of(window.total(), feature=feature).get(figure)
            if worst is None:
                continue
            preview.evaluated += 1
            if holds(rule.comparator, worst[1], rule.threshold):
                preview.firings.append(Firing(deployment, moment, worst[1]))
    if not preview.evaluated:
        preview.note = "No stored data-quality hour in the period."
    return preview


def rule_preview(
    rule: AlertRule,
    deployments: list[Deployment],
    *,
    days: int = DAYS,
    now: dt.datetime | None = None,
) -> Preview:
    """The moments of the last `days` days at which `rule` would have fired on each of
    `deployments` (oldest first per deployment), from the stored rollups."""
    now = now or timezone.now()
    if rule.source == AlertSource.STATUS:
        return Preview(
            unit="day",
            note=(
                "A status rule compares the current level, and past levels are not kept: "
                "there is no history to preview it on."
            ),
        )
    if not deployments:
        return Preview(unit="day", note="No active deployment to preview the rule on.")
    if rule.source == AlertSource.QUALITY:
        return _hourly(rule, deployments, now, days)
    return _daily(rule, deployments, now, days)
