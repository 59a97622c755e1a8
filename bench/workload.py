"""The workload the PostgreSQL benchmarks share (bench/backfill.py, bench/scale_ingest.py): a
binary model's ten input features, random rows of them, and a staging deployment of a version
registered with a training set of those rows. Django must be set up (harness.setup_django)
before `bench_deployment`."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

NUMERIC = [f"x{i}" for i in range(7)]
REGIONS = ["north", "south", "east", "west"]
PLANS = ["free", "pro", "team"]
SCHEMA = [{"name": n, "type": "numeric"} for n in NUMERIC] + [
    {"name": "visits", "type": "integer"},
    {"name": "region", "type": "categorical", "categories": REGIONS},
    {"name": "plan", "type": "categorical", "categories": PLANS},
]


def features(n: int, seed: int) -> pd.DataFrame:
    """`n` rows of the ten features (seven normal, a count, two categories)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(n, len(NUMERIC))).round(6), columns=NUMERIC)
    frame["visits"] = rng.integers(0, 50, size=n)
    frame["region"] = rng.choice(REGIONS, size=n)
    frame["plan"] = rng.choice(PLANS, size=n)
    return frame


def bench_deployment(name: str, training: pd.DataFrame | None = None) -> tuple[Any, Any]:
    """(owner, deployment): a new binary model `name` (made unique), its version (trained on
    `training` when given), deployed to staging."""
    from django.contrib.auth.models import Group, User
    from django.core.files.uploadedfile import SimpleUploadedFile

    from registry import services
    from registry.roles import DATA_SCIENTISTS

    owner, _ = User.objects.get_or_create(username="bench-owner")
    owner.groups.add(Group.objects.get(name=DATA_SCIENTISTS))
    model = services.model_create(actor=owner, name=f"{name} {time.time_ns()}", task="binary")
    datasets = []
    if training is not None:
        upload = SimpleUploadedFile(
            "training.csv", training.to_csv(index=False).encode(), content_type="text/csv"
        )
        dataset = services.dataset_upload(
            model=model, actor=owner, upload=upload, name="training", kind="training"
        )
        datasets.append(dataset.pk)
    version = services.version_register(
        model=model, actor=owner, input_schema=SCHEMA, training_datasets=datasets
    )
    deployment = services.deployment_create(
        version=version,
        actor=owner,
        environment="staging",
        endpoint=f"https://bench.example.org/{model.slug}",
    )
    return owner, deployment
