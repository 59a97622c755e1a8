"""Against a live Steward: register from a scikit-learn estimator in one call (idempotent on
its key), deploy, log 20,000 predictions and their ground truth, and see them in the drift
and performance APIs. Errors carry the server's field messages."""

from __future__ import annotations

import datetime as dt
import hashlib
import pickle

import pytest
from sklearn import metrics as m
from steward_client import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    Steward,
    Unauthorized,
)

from monitoring.models import GroundTruth, PredictionEvent
from monitoring.rollups.jobs import deployment_monitor
from registry.models import Dataset, Deployment, ModelVersion

pytestmark = pytest.mark.django_db(transaction=True)
CODE_REF = "https://git.example.org/credit/cancer@3f2c1e9a7b"


def register(steward, estimator, demo_data, slug):
    X_train, X_valid, y_train, y_valid = demo_data
    return steward.register_version(
        model=slug,
        estimator=estimator,
        X_train=X_train,
        y_train=y_train,
        X_valid=X_valid,
        y_valid=y_valid,
        code_ref=CODE_REF,
    )


def test_register_version_builds_everything_from_the_estimator_once(steward, estimator, demo_data):
    X_train, X_valid, _, y_valid = demo_data
    model = steward.create_model(name="Cancer", task="binary", target_column="diagnosis")
    version = register(steward, estimator, demo_data, model["slug"])

    assert [f["name"] for f in version["input_schema"]] == list(X_train.columns)
    assert {f["type"] for f in version["input_schema"]} == {"numeric"}
    expected = m.accuracy_score(y_valid, estimator.predict(X_valid))
    assert version["training_metrics"]["accuracy"] == pytest.approx(expected)
    assert version["training_metrics"]["roc_auc"] == pytest.approx(
        m.roc_auc_score(y_valid, estimator.predict_proba(X_valid)[:, 1])
    )
    assert "steps" in version["hyperparameters"]
    assert (version["code_repository"], version["code_commit"]) == tuple(CODE_REF.split("@"))
    [artifact] = steward.artifacts(version["id"])
    assert artifact["kind"] == "model"
    assert artifact["sha256"] == hashlib.sha256(pickle.dumps(estimator)).hexdigest()
    upstream = steward.lineage("version", version["id"], direction="upstream")
    relations = sorted(e["relation"] for e in upstream["edges"])
    assert relations == ["trained_on", "validated_with"]
    rows = {d.kind: d.row_count for d in Dataset.objects.filter(model__slug=model["slug"])}
    assert rows == {"training": len(X_train), "validation": len(X_valid)}

    # A retried pipeline step: the same version, no second dataset or artifact.
    again = register(steward, estimator, demo_data, model["slug"])
    assert again["id"] == version["id"]
    assert ModelVersion.objects.filter(model__slug=model["slug"]).count() == 1
    assert Dataset.objects.filter(model__slug=model["slug"]).count() == 2
    assert len(steward.artifacts(version["id"])) == 1


def test_twenty_thousand_predictions_and_their_outcomes_reach_drift_and_performance(
    steward, estimator, demo_data, tmp_path
):
    _, X_valid, _, y_valid = demo_data
    model = steward.create_model(name="Cancer", task="binary", target_column="diagnosis")
    version = register(steward, estimator, demo_data, model["slug"])
    deployment = steward.deploy(
        version["id"], environment="staging", endpoint="https://serving.example.org/cancer"
    )
    steward.monitoring_settings(deployment["id"], positive_label="malignant")
    hour = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    start = hour - dt.timedelta(hours=2)
    rows = X_valid.to_dict("records")
    labels = list(estimator.predict(X_valid))
    scores = estimator.predict_proba(X_valid)[:, 1]
    truth = list(y_valid)
    n = 20_000
    with steward.prediction_logger(
        deployment["id"], spool_root=tmp_path, batch_size=5000, close_at_exit=False
    ) as logger:
        for i in range(n):
            j = i % len(rows)
            logger.log(
                f"req-{i}",
                rows[j],
                labels[j],
                score=float(scores[j]),
                latency_ms=3.5,
                timestamp=start + dt.timedelta(milliseconds=250 * i),
            )
        assert logger.flush() == 0
    assert logger.stats.accepted == n and logger.stats.dropped == 0
    outcomes = [{"request_id": f"req-{i}", "label": truth[i % len(rows)]} for i in range(n)]
    assert steward.log_ground_truth(deployment["id"], outcomes) == 0
    assert PredictionEvent.objects.filter(deployment_id=deployment["id"]).count() == n
    assert GroundTruth.objects.filter(deployment_id=deployment["id"]).count() == n

    deployment_monitor(
        deployment=Deployment.objects.get(pk=deployment["id"]), start=start, end=hour
    )
    drift = steward.drift(deployment["id"])
    features = {row["feature"] for row in drift}
    assert set(X_valid.columns) <= features
    days = steward.performance(deployment["id"], days=2)
    assert sum(day["labelled"] for day in days) == n
    accuracy = m.accuracy_score(
        [truth[i % len(rows)] for i in range(n)], [labels[i % len(rows)] for i in range(n)]
    )
    weighted = sum(d["metrics"]["accuracy"] * d["labelled"] for d in days) / n
    assert weighted == pytest.approx(accuracy)


def test_errors_carry_the_servers_field_messages(
    steward, reviewer_client, live_server, settings, model_a
):
    with pytest.raises(BadRequest) as bad:
        steward.create_model(name="X", task="clustering")
    assert "task" in bad.value.fields and bad.value.status == 400
    with pytest.raises(Unauthorized):
        Steward(live_server.url, "not-a-token").models()
    with pytest.raises(NotFound):
        steward.get_model("no-such-model")
    version = steward.create_version(model_a.slug, input_schema=[{"name": "x", "type": "numeric"}])
    with pytest.raises(Conflict):
        steward.deploy(version["id"], environment="production", endpoint="https://p.example.org")
    staging = steward.deploy(version["id"], environment="staging", endpoint="https://s.example.org")
    with pytest.raises(Forbidden):
        reviewer_client.log_predictions(
            staging["id"],
            [{"request_id": "a", "timestamp": "2026-01-01T00:00:00Z", "features": {"x": 1}}],
        )
    settings.STEWARD_MAX_BATCH_ROWS = 2
    events = [
        {"request_id": str(i), "timestamp": "2026-01-01T00:00:00Z", "features": {"x": 1}}
        for i in range(3)
    ]
    with pytest.raises(PayloadTooLarge):
        steward.log_predictions(staging["id"], events)


def test_rows_refused_for_a_bad_token_wait_in_the_spool_for_the_next_logger(
    steward, live_server, model_a, tmp_path
):
    version = steward.create_version(model_a.slug, input_schema=[{"name": "x", "type": "numeric"}])
    deployment = steward.deploy(
        version["id"], environment="staging", endpoint="https://s.example.org"
    )
    revoked = Steward(live_server.url, "a-token-that-was-revoked")
    first = revoked.prediction_logger(
        deployment["id"], spool_root=tmp_path, backoff=0.01, close_at_exit=False
    )
    for i in range(3000):
        first.log(f"r{i}", {"x": float(i)}, "yes")
    assert first.close(timeout=1) == 3000  # 401: kept, not dropped
    assert first.stats.dropped == first.stats.rejected == 0
    second = steward.prediction_logger(deployment["id"], spool_root=tmp_path, close_at_exit=False)
    assert second.flush(timeout=30) == 0
    second.close()
    assert PredictionEvent.objects.filter(deployment_id=deployment["id"]).count() == 3000
    assert second.stats.batches_replayed >= 1 and second.spool.pending() == []
