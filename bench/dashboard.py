"""Dashboard benchmark: server-side latency of the portfolio, inventory, deployment detail and
drift pages over 1,000 deployments and the rollups of 10 million prediction events, on
PostgreSQL.

The script migrates the database named by DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/dashboard_bench, created if missing) and, unless it holds
the fleet already, generates it (seeded): 40 models of 25 features each (20 numeric, 5
categorical) with 25 versions, 1,000 deployments across environments, and per deployment
the rollups the dashboards read, as the monitoring job would have written them for 10,000,000
events in all: `DeploymentActivity` totals, 30 days x 24 `HourlyHealth` rows (720,000 rows),
30 `DailyPerformance` days, the latest window's 25 feature drift rows plus prediction and
multivariate rows, a `DeploymentStatus` row, and one alert in five deployments. Rows go in
with `bulk_create` (no events are stored: the pages never read them).

Each page is then requested in-process through Django's test client (full middleware,
URL routing, permission funnel, templates) as a reviewer, who sees every deployment (the
largest lists), and timed: the first requests warm up, then `--requests` timed ones per page
(the detail and drift pages cycle over deployments). Server-side time: no network, no
browser.

Usage: .venv/bin/python bench/dashboard.py [--requests 60] [--quick]
The last line is `RESULT dashboard_p95_ms=<the largest p95 over the pages>`. Target < 300.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from typing import Any

import numpy as np
from harness import ensure_database, setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/dashboard_bench"
DEPLOYMENTS = 1_000
MODELS = 40
FEATURES = [f"f{i:02d}" for i in range(20)] + [f"c{i}" for i in range(5)]
EVENTS = 10_000_000
DAYS = 30
LEVELS = ["good", "good", "good", "at_risk", "failing", "unknown"]


def schema() -> list[dict[str, Any]]:
    numeric = [{"name": name, "type": "numeric"} for name in FEATURES if name.startswith("f")]
    categorical = [
        {"name": name, "type": "categorical", "categories": ["a", "b", "c", "d"]}
        for name in FEATURES
        if name.startswith("c")
    ]
    return numeric + categorical


def users() -> tuple[Any, Any]:
    from django.contrib.auth.models import Group, User

    owner, _ = User.objects.get_or_create(username="bench-owner")
    owner.groups.add(Group.objects.get(name="data-scientists"))
    reviewer, _ = User.objects.get_or_create(username="bench-reviewer")
    reviewer.groups.add(Group.objects.get(name="reviewers"))
    return owner, reviewer


def generate(owner: Any, rng: np.random.Generator) -> None:
    """The fleet and its rollups (see the module docstring)."""
    from registry.models import Deployment, ModelVersion, RegisteredModel

    now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    models = RegisteredModel.objects.bulk_create(
        RegisteredModel(
            name=f"Bench model {m:02d}",
            slug=f"bench-model-{m:02d}",
            owner=owner,
            task="binary",
            target_column="label",
        )
        for m in range(MODELS)
    )
    importance = {
        name: float(w) for name, w in zip(FEATURES, rng.dirichlet(np.ones(25)), strict=True)
    }
    versions = ModelVersion.objects.bulk_create(
        ModelVersion(
            model=model,
            number=1,
            input_schema=schema(),
            feature_importance=importance,
            training_metrics={"accuracy": 0.9, "roc_auc": 0.95},
            created_by=owner,
        )
        for model in models
    )
    environments = ["production", "staging", "dev"]
    deployments = Deployment.objects.bulk_create(
        Deployment(
            version=versions[i % MODELS],
            environment=environments[i % 3],
            endpoint=f"https://serving.example.org/bench/{i}",
            status="active" if i % 10 else "inactive",
            traffic_share=100,
            deployed_by=owner,
        )
        for i in range(DEPLOYMENTS)
    )
    rollups(deployments, now, rng)


def rollups(deployments: list[Any], now: dt.datetime, rng: np.random.Generator) -> None:
    from monitoring.models import (
        Alert,
        AlertRule,
        DailyPerformance,
        DeploymentActivity,
        DeploymentStatus,
        DriftResult,
        HourlyHealth,
    )

    shares = rng.dirichlet(np.ones(len(deployments)) * 0.5)
    counts = np.floor(shares * EVENTS).astype(int)
    hours = [now - dt.timedelta(hours=h) for h in range(DAYS * 24, 0, -1)]
    for index, deployment in enumerate(deployments):
        total = int(counts[index])
        per_hour = rng.multinomial(total, np.ones(len(hours)) / len(hours))
        HourlyHealth.objects.bulk_create(
            (
                HourlyHealth(
                    deployment=deployment,
                    hour=hour,
                    count=int(n),
                    errors=int(n * 0.01),
                    latency_count=int(n),
                    latency_mean_ms=20.0,
                    latency_p50_ms=18.0,
                    latency_p95_ms=45.0,
                    latency_p99_ms=80.0,
                    cache_hits=int(n * 0.1),
                    cache_reported=int(n),
                    cpu_mean=0.3,
                    memory_mean=400.0,
                )
                for hour, n in zip(hours, per_hour, strict=True)
            ),
            batch_size=1000,
        )
        DeploymentActivity.objects.create(
            deployment=deployment,
            predictions=total,
            first_prediction_at=hours[0],
            last_prediction_at=now - dt.timedelta(seconds=int(rng.integers(10, 200_000))),
        )
        DailyPerformance.objects.bulk_create(
            DailyPerformance(
                deployment=deployment,
                day=(now - dt.timedelta(days=d)).date(),
                task="binary",
                predictions=max(total // DAYS, 1),
                labelled=max(total // DAYS // 2, 1),
                metrics={
                    "accuracy": float(rng.uniform(0.7, 0.95)),
                    "roc_auc": float(rng.uniform(0.75, 0.99)),
                    "gini_norm": 0.8,
                    "log_loss": 0.3,
                    "ks": 0.6,
                },
            )
            for d in range(DAYS)
        )
        window = (now - dt.timedelta(days=7), now)
        drift = [
            DriftResult(
                deployment=deployment,
                window_start=window[0],
                window_end=window[1],
                feature=name,
                kind="feature",
                method="wasserstein" if name.startswith("f") else "jensenshannon",
                statistic=float(rng.uniform(0, 0.2)),
                p_value=None,
                threshold=0.1,
                drifted=False,
                parameters={"source": "summary"},
                engine_version="bench",
                reference_digest="0" * 64,
                current_digest="1" * 64,
            )
            for name in FEATURES
        ]
        for row in drift:
            row.drifted = row.statistic >= row.threshold
        DriftResult.objects.bulk_create(drift)
        level = [LEVELS[int(k)] for k in rng.integers(0, len(LEVELS), 3)]
        DeploymentStatus.objects.create(
            deployment=deployment,
            accuracy_level=level[0],
            accuracy_reason="bench",
            drift_level=level[1],
            drift_reason="bench",
            service_health_level=level[2],
            service_health_reason="bench",
            computed_at=now,
        )
        if index % 5 == 0:
            rule = AlertRule.objects.create(
                deployment=deployment,
                source="metric",
                name="accuracy",
                comparator="lt",
                threshold=0.8,
            )
            Alert.objects.create(
                rule=rule,
                deployment=deployment,
                value=0.75,
                message="accuracy under 0.8",
                dedup_key=f"{rule.pk}:{deployment.pk}",
                opened_at=now,
            )
        if index % 100 == 99:
            print(f"  generated {index + 1} deployments", flush=True)


def time_page(client: Any, urls: list[str], requests: int, warmup: int = 3) -> list[float]:
    for url in urls[:warmup]:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    timings = []
    for i in range(requests):
        url = urls[i % len(urls)]
        start = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return timings


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--quick", action="store_true", help="20 requests per page")
    args = parser.parse_args()
    requests = 20 if args.quick else args.requests
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    ensure_database(url)
    setup_django(url, "bench-dashboard")

    from django.test import Client
    from django.urls import reverse

    from monitoring.models import HourlyHealth
    from registry.models import Deployment

    owner, reviewer = users()
    if not Deployment.objects.filter(version__model__slug__startswith="bench-model-").exists():
        started = time.perf_counter()
        print(f"Generating {DEPLOYMENTS} deployments and the rollups of {EVENTS:,} events")
        generate(owner, np.random.default_rng(20261202))
        print(f"  done in {time.perf_counter() - started:.0f} s")
    fleet = list(
        Deployment.objects.filter(version__model__slug__startswith="bench-model-", status="active")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    health_rows = HourlyHealth.objects.filter(deployment_id__in=fleet).count()
    client = Client()
    client.force_login(reviewer)
    sample = fleet[:: max(len(fleet) // 40, 1)]
    pages = {
        "portfolio": [reverse("monitoring:portfolio")],
        "inventory": [
            reverse("monitoring:inventory"),
            reverse("monitoring:inventory") + "?drift=at_risk",
            reverse("monitoring:inventory") + "?sort=-last_prediction&page=3",
        ],
        "detail": [reverse("registry:deployment-detail", args=[pk]) for pk in sample],
        "drift": [reverse("monitoring:deployment-drift", args=[pk]) for pk in sample],
    }
    print(
        f"\n{len(fleet)} active deployments of {DEPLOYMENTS}, {health_rows:,} hourly health rows;"
        f" {requests} timed requests per page as a reviewer (sees all)\n"
    )
    print(f"{'page':<12}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    worst = 0.0
    for name, urls in pages.items():
        timings = time_page(client, urls, requests)
        p50, p95 = statistics.median(timings), percentile(timings, 95)
        worst = max(worst, p95)
        print(f"{name:<12}{p50:>10.1f}{p95:>10.1f}{max(timings):>10.1f}")
    print(f"\nTarget: p95 under 300 ms on every page ({'met' if worst < 300 else 'NOT met'}).")
    print(f"RESULT dashboard_p95_ms={worst:.0f}")


if __name__ == "__main__":
    main()
