"""A FastAPI app serving a demo scikit-learn model, its predictions logged to Steward.

    pip install 'steward-client[ml,serving]' uvicorn
    STEWARD_URL=http://127.0.0.1:8000 STEWARD_TOKEN=... python examples/fastapi_app.py

On start it trains a logistic regression on scikit-learn's breast-cancer data, registers it
(idempotently) as a version of the model `STEWARD_MODEL` (created when absent), deploys it to
staging and serves `POST /predict {"features": {...}}`. Every prediction reaches Steward
through the middleware; the response's `X-Request-ID` is what ground truth names later.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from steward_client import Exchange, Logged, PredictionLogger, Steward, StewardMiddleware

FEATURES = ["mean radius", "mean texture", "mean smoothness", "worst concave points"]


class PredictRequest(BaseModel):
    features: dict[str, float]


class PredictResponse(BaseModel):
    prediction: str
    score: float


def demo_data() -> tuple[Any, Any]:
    """Four features of scikit-learn's breast-cancer data; labels "malignant" / "benign"."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    X = data.frame[FEATURES]
    y = data.target.map({0: "malignant", 1: "benign"})
    return X, y


def train() -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = demo_data()
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)


def extract(exchange: Exchange) -> Logged | None:
    """The request's features and the response's prediction, for POST /predict."""
    if exchange.method != "POST":
        return None
    features = exchange.request_json().get("features", {})
    if exchange.status is None or exchange.status >= 500:
        return Logged(features=features)  # the model failed: logged as an error
    if exchange.status != 200:
        return None  # the request was refused (422): no prediction was made
    answer = exchange.response_json()
    return Logged(features=features, prediction=answer["prediction"], score=answer["score"])


def create_app(estimator: Any, logger: PredictionLogger) -> FastAPI:
    app = FastAPI(title="Breast cancer demo")

    @app.post("/predict")
    def predict(body: PredictRequest) -> PredictResponse:
        import pandas as pd

        missing = [name for name in FEATURES if name not in body.features]
        if missing:
            raise HTTPException(422, f"missing features: {', '.join(missing)}")
        row = pd.DataFrame([[body.features[name] for name in FEATURES]], columns=FEATURES)
        label = str(estimator.predict(row)[0])
        positive = list(estimator.classes_).index("malignant")
        return PredictResponse(
            prediction=label, score=float(estimator.predict_proba(row)[0][positive])
        )

    app.add_middleware(StewardMiddleware, logger=logger, extract=extract, paths=("/predict",))
    return app


def setup(client: Steward, model_name: str) -> tuple[Any, int]:
    """Train, register and deploy to staging; returns the estimator and the deployment id."""
    X, y = demo_data()
    estimator = train()
    found = [m for m in client.models(search=model_name) if m["name"] == model_name]
    model = (
        found[0]
        if found
        else client.create_model(
            name=model_name, task="binary", target_column="diagnosis", risk_tier="low"
        )
    )
    version = client.register_version(
        model=model["slug"], estimator=estimator, X_train=X, y_train=y, X_valid=X, y_valid=y
    )
    active = [d for d in client.deployments(version=version["id"]) if d["status"] == "active"]
    deployment = (
        active[0]
        if active
        else client.deploy(
            version["id"], environment="staging", endpoint="http://127.0.0.1:8080/predict"
        )
    )
    return estimator, int(deployment["id"])


def main() -> None:
    import uvicorn

    client = Steward()
    estimator, deployment_id = setup(client, os.environ.get("STEWARD_MODEL", "Breast cancer demo"))
    with client.prediction_logger(deployment_id) as logger:
        uvicorn.run(create_app(estimator, logger), host="127.0.0.1", port=8080)


if __name__ == "__main__":
    main()
