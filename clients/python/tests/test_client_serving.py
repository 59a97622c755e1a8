"""The decorator and the ASGI middleware time each call, log errors, and hand one row to the
logger; a broken extractor never breaks serving."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from steward_client import Exchange, Logged, StewardMiddleware, log_predictions


class Rows:
    """Collects what would be logged (the logger itself is tested against a live server)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def log(self, request_id, features, prediction=None, score=None, latency_ms=None, **kw):
        self.rows.append(
            {
                "request_id": request_id,
                "features": dict(features),
                "prediction": prediction,
                "score": score,
                "latency_ms": latency_ms,
                **kw,
            }
        )


def test_the_decorator_logs_results_and_errors():
    rows = Rows()

    @log_predictions(rows, lambda args, kwargs, result: Logged({"x": args[0]}, result, 0.9))
    def predict(x: float) -> str:
        if x < 0:
            raise ValueError("negative")
        return "yes"

    assert predict(1.0) == "yes"
    with pytest.raises(ValueError, match="negative"):
        predict(-1.0)
    ok, failed = rows.rows
    assert ok["prediction"] == "yes" and ok["status"] == "ok" and ok["latency_ms"] >= 0
    assert failed["status"] == "error" and "negative" in failed["error"]
    assert failed["prediction"] is None and failed["features"] == {"x": -1.0}


def app_with(rows: Rows, extract) -> FastAPI:
    app = FastAPI()

    @app.post("/predict")
    def predict(body: dict[str, Any]) -> dict[str, Any]:
        if body.get("boom"):
            raise RuntimeError("model exploded")
        return {"prediction": "yes", "score": 0.7}

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"ok": "yes"}

    app.add_middleware(StewardMiddleware, logger=rows, extract=extract, paths=("/predict",))
    return app


def extract(exchange: Exchange) -> Logged:
    body = exchange.request_json()
    answer = exchange.response_json() if exchange.status == 200 else {}
    return Logged(body.get("features", {}), answer.get("prediction"), answer.get("score"))


def test_the_middleware_logs_predictions_with_latency_and_request_ids():
    rows = Rows()
    client = TestClient(app_with(rows, extract), raise_server_exceptions=False)
    answer = client.post("/predict", json={"features": {"x": 1}}, headers={"X-Request-ID": "abc"})
    assert answer.status_code == 200 and answer.headers["x-request-id"] == "abc"
    fresh = client.post("/predict", json={"features": {"x": 2}})
    assert client.get("/health").status_code == 200  # not a prediction path
    failed = client.post("/predict", json={"features": {"x": 3}, "boom": True})
    assert failed.status_code == 500
    first, second, third = rows.rows
    assert first["request_id"] == "abc" and first["prediction"] == "yes" and first["score"] == 0.7
    assert second["request_id"] == fresh.headers["x-request-id"] and len(second["request_id"]) == 32
    assert third["status"] == "error" and "model exploded" in third["error"]
    assert third["features"] == {"x": 3} and all(r["latency_ms"] > 0 for r in rows.rows)


def test_a_broken_extractor_does_not_break_serving():
    rows = Rows()

    def broken(exchange: Exchange) -> Logged:
        raise KeyError("nope")

    client = TestClient(app_with(rows, broken))
    assert client.post("/predict", json={"features": {}}).json()["prediction"] == "yes"
    assert rows.rows == []
