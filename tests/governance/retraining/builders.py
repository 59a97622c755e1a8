"""A scikit-learn model registered with its training data, approved and serving production,
with labelled production predictions: what the retraining tests start from."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import joblib
import numpy as np
import pandas as pd
from django.core.files.uploadedfile import SimpleUploadedFile
from sklearn.linear_model import LogisticRegression

from monitoring.models import GroundTruth, PredictionEvent
from registry import services as registry
from registry.models import Dataset, Deployment, ModelVersion, RegisteredModel
from tests import factories

FEATURES = ["x1", "x2"]
SCHEMA = [{"name": "x1", "type": "numeric"}, {"name": "x2", "type": "numeric"}]


def frame(n: int, *, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """Two numeric features; the label depends on x1 + x2 (on x1 - x2 after a concept
    shift of 1.0, in between for fractions)."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    score = x1 + (1 - 2 * shift) * x2 + rng.normal(scale=0.3, size=n)
    return pd.DataFrame({"x1": x1.round(4), "x2": x2.round(4), "y": (score > 0).astype(int)})


@dataclass
class World:
    model: RegisteredModel
    dataset: Dataset
    version: ModelVersion
    production: Deployment
    estimator: LogisticRegression
    training: pd.DataFrame


def sklearn_model(owner, *, rows: int = 300) -> World:
    model = registry.model_create(
        actor=owner, name="Heart risk", task="binary", target_column="y", risk_tier="low"
    )
    training = frame(rows, seed=1)
    dataset = registry.dataset_upload(
        model=model,
        actor=owner,
        upload=SimpleUploadedFile("train.csv", training.to_csv(index=False).encode()),
        name="train",
        kind="training",
    )
    version = registry.version_register(
        model=model,
        actor=owner,
        input_schema=SCHEMA,
        framework="scikit-learn",
        training_datasets=[dataset.pk],
    )
    estimator = LogisticRegression(C=0.5).fit(training[FEATURES], training["y"])
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    registry.artifact_upload(
        version=version,
        actor=owner,
        upload=SimpleUploadedFile("model.joblib", buffer.getvalue()),
        kind="model",
    )
    approve_version(version)
    production = factories.production_deployment(version=version)
    return World(model, dataset, version, production, estimator, training)


def approve_version(version: ModelVersion) -> None:
    from governance.approvals import services as approvals

    factories.answer_required_items(version)
    request = approvals.request_version_approval(version=version, actor=version.model.owner)
    factories._approve(request)
    version.refresh_from_db()


def labelled_traffic(
    deployment: Deployment, *, days: int, per_day: int, end: dt.datetime, shift: float = 1.0
) -> pd.DataFrame:
    """Predictions with ground truth over the `days` days before `end`, under a concept shift
    (the old model gets many wrong): stored as ingestion stores them."""
    data = frame(days * per_day, seed=7, shift=shift)
    events, truths = [], []
    for i, row in enumerate(data.itertuples(index=False)):
        at = end - dt.timedelta(days=days) + dt.timedelta(seconds=i * days * 86400 / len(data))
        rid = f"r{i}"
        events.append(
            PredictionEvent(
                deployment=deployment,
                request_id=rid,
                timestamp=at,
                features={"x1": row.x1, "x2": row.x2},
                prediction_label="1",
                prediction_score=0.5,
            )
        )
        truths.append(GroundTruth(deployment=deployment, request_id=rid, label=str(row.y)))
    PredictionEvent.objects.bulk_create(events)
    GroundTruth.objects.bulk_create(truths)
    return data
