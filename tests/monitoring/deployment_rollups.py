"""Builders of rollup rows for the deployment dashboard tests: a model with n features, its
reference profile built by the real service from an uploaded training dataset, and hourly
health, hourly summaries, daily performance and drift results written directly."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from monitoring import engines
from monitoring.models import (
    DailyPerformance,
    DriftResult,
    HourlyHealth,
    HourlySummary,
    ReferenceProfile,
)
from monitoring.rollups import profiles
from registry import services as registry
from registry.models import Deployment, RegisteredModel
from tests import factories

HOUR = dt.timedelta(hours=1)
REGIONS = ["north", "south", "east", "west"]


def feature_schema(n: int) -> list[dict[str, Any]]:
    """n features: every third categorical (four regions), the rest numeric."""
    return [
        {"name": f"cat_{i}", "type": "categorical", "categories": REGIONS}
        if i % 3 == 2
        else {"name": f"num_{i}", "type": "numeric"}
        for i in range(n)
    ]


def frame_for(schema: list[dict[str, Any]], rows: int, *, seed: int, shift: float = 0.0):
    """A frame of `rows` values per feature; `shift` moves every numeric feature's mean."""
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {}
    for i, feature in enumerate(schema):
        if feature["type"] == "numeric":
            data[feature["name"]] = (rng.normal(10 * (i + 1), 5, rows) + shift).round(3)
        else:
            data[feature["name"]] = rng.choice(REGIONS, rows, p=[0.4, 0.3, 0.2, 0.1])
    return pd.DataFrame(data)


def with_outcome(frame: pd.DataFrame, *, seed: int, positive_share: float) -> pd.DataFrame:
    """The frame with an "outcome" column of "0" / "1" labels."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(["0", "1"], len(frame), p=[1 - positive_share, positive_share])
    return frame.assign(outcome=labels)


def monitored_deployment(
    *,
    model: RegisteredModel,
    n_features: int,
    reference_rows: int = 400,
    target: bool = False,
    **version_fields: Any,
) -> tuple[Deployment, ReferenceProfile, pd.DataFrame]:
    """A deployment of a new version of `model` with `n_features` features (importance
    descending with the index), the model's training dataset and its reference profile; with
    `target`, the dataset holds the model's target column "outcome", so the profile tracks
    the predictions too."""
    schema = feature_schema(n_features)
    reference = frame_for(schema, reference_rows, seed=1)
    if target:
        reference = with_outcome(reference, seed=4, positive_share=0.3)
        RegisteredModel.objects.filter(pk=model.pk).update(target_column="outcome")
        model.refresh_from_db()
    dataset = registry.dataset_upload(
        model=model,
        actor=model.owner,
        upload=factories.csv_upload(reference.to_csv(index=False)),
        name=f"train-{n_features}",
        kind="training",
    )
    version_fields.setdefault("training_datasets", [dataset.pk])
    importance = {f["name"]: round(1.0 / (i + 1), 6) for i, f in enumerate(schema)}
    version_fields.setdefault("feature_importance", importance)
    version = factories.model_version(model=model, input_schema=schema, **version_fields)
    deployment = factories.deployment(
        version=version, endpoint=f"https://serving.example.org/{model.slug}/{n_features}"
    )
    profile = profiles.reference_profile_build(version)
    return deployment, profile, reference


def add_summaries(
    deployment: Deployment, profile: ReferenceProfile, frame: pd.DataFrame, hour: dt.datetime
) -> None:
    """One HourlySummary per profiled feature for `hour`, of the frame's values."""
    layouts = profiles.profile_layouts(profile)
    rows = []
    for name, layout in layouts.items():
        if name not in frame.columns:
            continue
        summary = engines.summarize(frame[name].to_numpy(), layout)
        rows.append(
            HourlySummary(
                deployment=deployment,
                feature=name,
                hour=hour,
                summary=summary.to_dict(),
                row_count=len(frame),
                digest=summary.digest(),
                profile_digest=profile.digest,
            )
        )
    HourlySummary.objects.bulk_create(rows)


def add_health(deployment: Deployment, start: dt.datetime, hours: int, *, seed: int = 3) -> None:
    """`hours` hourly health rows from `start`, with varied counts, errors and latencies."""
    rng = np.random.default_rng(seed)
    rows = []
    for h in range(hours):
        count = int(rng.integers(20, 200))
        cache_reported = count // 2
        rows.append(
            HourlyHealth(
                deployment=deployment,
                hour=start + h * HOUR,
                count=count,
                errors=int(rng.integers(0, count // 10 + 1)),
                latency_count=count - 3,
                latency_mean_ms=float(rng.uniform(10, 30)),
                latency_p50_ms=float(rng.uniform(8, 20)),
                latency_p95_ms=float(rng.uniform(40, 90)),
                latency_p99_ms=float(rng.uniform(90, 150)),
                cache_hits=int(rng.integers(0, cache_reported + 1)),
                cache_reported=cache_reported,
                cpu_mean=float(rng.uniform(0.1, 0.9)),
                memory_mean=float(rng.uniform(200, 400)),
            )
        )
    HourlyHealth.objects.bulk_create(rows)


def add_performance(deployment: Deployment, days: list[dt.date], *, seed: int = 5) -> None:
    rng = np.random.default_rng(seed)
    DailyPerformance.objects.bulk_create(
        DailyPerformance(
            deployment=deployment,
            day=day,
            task="binary",
            predictions=200,
            labelled=150,
            metrics={
                "accuracy": float(rng.uniform(0.7, 0.95)),
                "precision": float(rng.uniform(0.6, 0.9)),
                "recall": float(rng.uniform(0.6, 0.9)),
                "f1": float(rng.uniform(0.6, 0.9)),
                "roc_auc": float(rng.uniform(0.75, 0.97)),
                "gini_norm": float(rng.uniform(0.5, 0.9)),
                "log_loss": float(rng.uniform(0.2, 0.6)),
                "ks": float(rng.uniform(0.3, 0.7)),
            },
        )
        for day in days
    )


def drift_row(
    deployment: Deployment,
    start: dt.datetime,
    end: dt.datetime,
    feature: str,
    *,
    method: str,
    statistic: float,
    p_value: float | None,
    threshold: float,
    kind: str = "feature",
) -> DriftResult:
    """A stored result whose verdict follows the engines' rule for the method."""
    drifted = p_value < threshold if p_value is not None else statistic >= threshold
    return DriftResult(
        deployment=deployment,
        window_start=start,
        window_end=end,
        feature=feature,
        kind=kind,
        method=method,
        statistic=statistic,
        p_value=p_value,
        threshold=threshold,
        drifted=drifted,
        parameters={"source": "summary"},
        engine_version=engines.ENGINE_VERSION,
        reference_digest="r" * 64,
        current_digest="c" * 64,
    )
