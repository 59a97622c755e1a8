"""What makes a model due for retraining, read from monitoring: the schedule, a failing drift
status, a realised or an estimated metric under the policy's threshold."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Max

from governance.retraining.choices import RunState, Trigger
from governance.retraining.models import MetricSource, RetrainingPolicy, RetrainingRun
from monitoring.engines.status import Level
from monitoring.models import DeploymentStatus
from monitoring.performance.selectors import estimated_metric_latest, windowed_metric
from registry.choices import DeploymentStatus as Lifecycle
from registry.models import Deployment


def last_started(policy: RetrainingPolicy) -> dt.datetime | None:
    """When the model's last retraining started (the "not sooner than" bound counts from it);
    a run that failed or was cancelled does not count."""
    runs = RetrainingRun.objects.filter(model_id=policy.model_id).exclude(
        state__in=(RunState.CANCELLED, RunState.FAILED)
    )
    found = runs.aggregate(t=Max("started_at"))
    return found["t"]


def earliest_start(policy: RetrainingPolicy) -> dt.datetime | None:
    last = last_started(policy)
    return last + dt.timedelta(days=policy.min_days) if last and policy.min_days else None


def active_deployments(policy: RetrainingPolicy) -> list[Deployment]:
    return list(
        Deployment.objects.filter(version__model_id=policy.model_id, status=Lifecycle.ACTIVE)
        .select_related("version")
        .order_by("pk")
    )


def _schedule(policy: RetrainingPolicy, now: dt.datetime) -> str:
    if not policy.every_days:
        return ""
    last = last_started(policy)
    if last is None:
        newest = policy.model.versions.aggregate(t=Max("created_at"))["t"]
        last = newest or policy.created_at
    if now - last >= dt.timedelta(days=policy.every_days):
        every = policy.every_days
        return f"last retrained or registered {last:%Y-%m-%d}; the policy says every {every} days"
    return ""


def _drift(policy: RetrainingPolicy, deployments: list[Deployment]) -> str:
    if not policy.on_drift:
        return ""
    failing = DeploymentStatus.objects.filter(
        deployment__in=deployments, drift_level=Level.FAILING
    ).select_related("deployment")
    return "; ".join(
        f"deployment {s.deployment_id} ({s.deployment.environment}): drift {s.drift_reason}"
        for s in failing
    )


def _metric(policy: RetrainingPolicy, deployments: list[Deployment], source: str) -> str:
    name, threshold = policy.metric_name, policy.metric_threshold
    if not name or threshold is None or policy.metric_source not in (source, MetricSource.EITHER):
        return ""
    reasons = []
    for deployment in deployments:
        if source == MetricSource.REALISED:
            value = windowed_metric(deployment, name, policy.metric_window_days)
            label = f"realised {name} over {policy.metric_window_days} labelled days"
        else:
            value = estimated_metric_latest(deployment, name)
            label = f"estimated {name}"
        if value is not None and value < threshold:
            reasons.append(f"deployment {deployment.pk}: {label} {value:.3f} < {threshold:g}")
    return "; ".join(reasons)


def triggers_firing(policy: RetrainingPolicy, *, now: dt.datetime) -> list[tuple[str, str]]:
    """(trigger, reason) for each automatic trigger of the policy that fires at `now`."""
    deployments = active_deployments(policy)
    found: list[tuple[str, Any]] = [
        (Trigger.SCHEDULE, _schedule(policy, now)),
        (Trigger.DRIFT, _drift(policy, deployments)),
        (Trigger.REALISED_METRIC, _metric(policy, deployments, MetricSource.REALISED)),
        (Trigger.ESTIMATED_METRIC, _metric(policy, deployments, MetricSource.ESTIMATED)),
    ]
    return [(str(trigger), reason) for trigger, reason in found if reason]
