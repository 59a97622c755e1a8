"""The example FastAPI app of clients/python/examples: httpx against it, its predictions in
Steward."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from monitoring.models import PredictionEvent
from registry.models import ModelVersion

pytestmark = pytest.mark.django_db(transaction=True)
EXAMPLE = Path(__file__).resolve().parents[2] / "clients/python/examples/fastapi_app.py"


def load_example():
    spec = importlib.util.spec_from_file_location("steward_fastapi_example", EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_app_serves_and_its_predictions_reach_steward(steward, tmp_path):
    example = load_example()
    estimator, deployment_id = example.setup(steward, "Breast cancer demo")
    X, _ = example.demo_data()
    with steward.prediction_logger(deployment_id, spool_root=tmp_path) as logger:
        app = example.create_app(estimator, logger)
        with TestClient(app) as http:  # an httpx client against the ASGI app
            ids = []
            for row in X.head(50).to_dict("records"):
                answer = http.post("/predict", json={"features": row})
                assert answer.status_code == 200
                assert answer.json()["prediction"] in ("malignant", "benign")
                ids.append(answer.headers["x-request-id"])
            bad = http.post("/predict", json={"features": {"mean radius": 1.0}})
            assert bad.status_code == 422  # a missing feature: refused by the app
        assert logger.flush() == 0
    stored = PredictionEvent.objects.filter(deployment_id=deployment_id)
    assert set(stored.values_list("request_id", flat=True)) >= set(ids)
    ok = stored.filter(request_id__in=ids)
    assert ok.count() == 50 and all(e.latency_ms and e.latency_ms > 0 for e in ok)
    # The app restarted registers again: the same version.
    example.setup(steward, "Breast cancer demo")
    assert ModelVersion.objects.filter(model__name="Breast cancer demo").count() == 1
