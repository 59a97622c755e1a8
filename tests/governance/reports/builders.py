"""Monitoring rows for deployment reports, written straight into the rollup tables (the
rollup jobs are tested in tests/monitoring; here only what a report reads matters)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from monitoring.models import Alert, AlertRule, DailyPerformance, DriftResult, HourlyHealth
from registry.models import Dataset, Deployment


def monitoring_history(
    deployment: Deployment,
    *,
    days: int,
    features: list[str],
    end: dt.datetime | None = None,
    reference: Dataset | None = None,
) -> dt.datetime:
    """`days` days of daily performance, hourly health (every 6 h), daily drift per feature
    (computed against `reference`, when given), and one alert that was resolved; returns the
    period's end."""
    end = (end or timezone.now()).replace(minute=0, second=0, microsecond=0)
    start = end - dt.timedelta(days=days)
    perf, health, drift = [], [], []
    for i in range(days):
        day_start = start + dt.timedelta(days=i)
        perf.append(
            DailyPerformance(
                deployment=deployment,
                day=day_start.date(),
                task="binary",
                predictions=1000,
                labelled=800,
                metrics={
                    "accuracy": 0.9 - i * 0.001,
                    "roc_auc": 0.93 - i * 0.0005,
                    "demographic_parity_difference": 0.05 + 0.001 * i,
                    "disparate_impact_ratio": 0.85,
                },
            )
        )
        for h in range(0, 24, 6):
            health.append(
                HourlyHealth(
                    deployment=deployment,
                    hour=day_start + dt.timedelta(hours=h),
                    count=250,
                    errors=i % 3,
                    latency_count=250,
                    latency_p95_ms=40.0 + i % 7,
                )
            )
        for j, feature in enumerate(features):
            drift.append(
                DriftResult(
                    deployment=deployment,
                    window_start=day_start,
                    window_end=day_start + dt.timedelta(days=1),
                    feature=feature,
                    method="psi",
                    statistic=0.01 * ((i + j) % 30),
                    threshold=0.2,
                    drifted=0.01 * ((i + j) % 30) > 0.2,
                    engine_version="test",
                    reference_digest=f"{j:064x}",
                    current_digest=f"{i * 1000 + j:064x}",
                    reference_dataset=reference,
                    reference_sha256=reference.sha256 if reference else "",
                )
            )
    DailyPerformance.objects.bulk_create(perf)
    HourlyHealth.objects.bulk_create(health)
    DriftResult.objects.bulk_create(drift, batch_size=500)
    rule = AlertRule.objects.create(
        deployment=deployment, source="metric", name="accuracy", comparator="lt", threshold=0.88
    )
    Alert.objects.create(
        rule=rule,
        deployment=deployment,
        state="resolved",
        value=0.87,
        message="accuracy fell below 0.88",
        dedup_key=f"{rule.pk}:{deployment.pk}",
        opened_at=end - dt.timedelta(days=2),
        resolved_at=end - dt.timedelta(days=1),
    )
    return end
