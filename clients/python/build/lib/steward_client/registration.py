"""`register_version`: one call from a trained estimator to a registered version with its
model file, training and validation datasets (linked `trained_on` / `validated_with`),
metrics on the validation data, hyper-parameters and feature importance.

Idempotent on a client-side key (by default a digest of the data, the hyper-parameters and
the code reference): a retried pipeline step finds the version it made and finishes it
instead of making another. Datasets are found again by their sha256.
"""

from __future__ import annotations

import io
import pickle
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from steward_client import estimators

if TYPE_CHECKING:
    from steward_client.client import JSON, Steward

_COMMIT = re.compile(r"^[0-9a-fA-F]{7,64}$")


def parse_code_ref(code_ref: str | Mapping[str, str] | None) -> tuple[str, str]:
    """(repository, commit) from `"https://git.example.org/repo@3f2c1e9"`, a mapping with
    `repository` and `commit`, or a bare commit hash."""
    if code_ref is None:
        return "", ""
    if isinstance(code_ref, Mapping):
        return code_ref.get("repository", ""), code_ref.get("commit", "")
    if "@" in code_ref:
        repository, commit = code_ref.rsplit("@", 1)
        if _COMMIT.match(commit):
            return repository, commit
    if _COMMIT.match(code_ref):
        return "", code_ref
    return code_ref, ""


def register_version(
    client: Steward,
    *,
    model: str,
    estimator: Any,
    X_train: Any,
    y_train: Any = None,
    X_valid: Any = None,
    y_valid: Any = None,
    code_ref: str | Mapping[str, str] | None = None,
    description: str = "",
    framework: str | None = None,
    client_key: str | None = None,
    model_file: bytes | None = None,
) -> JSON:
    """Register `estimator` as the next version of `model` (a slug); returns the version.
    `model_file` replaces the default pickle of the estimator."""
    train = estimators.as_frame(X_train)
    valid = estimators.as_frame(X_valid, list(train.columns)) if X_valid is not None else None
    target = client.get_model(model).get("target_column") or "target"
    train_csv = estimators.table_csv(train, y_train, target)
    valid_csv = estimators.table_csv(valid, y_valid, target) if valid is not None else None
    params = estimators.hyperparameters(estimator)
    repository, commit = parse_code_ref(code_ref)
    key = client_key or estimators.client_key(
        model, train_csv, valid_csv, params, repository, commit, type(estimator).__qualname__
    )
    version = client.find_version(model, key)
    if version is None:
        training = _dataset(client, model, train_csv, "training")
        validation = _dataset(client, model, valid_csv, "validation") if valid_csv else None
        metrics = (
            estimators.metrics(estimator, valid, y_valid)
            if valid is not None and y_valid is not None
            else {}
        )
        version = client.create_version(
            model,
            input_schema=estimators.input_schema(train),
            hyperparameters=params,
            training_metrics=metrics,
            feature_importance=estimators.feature_importance(estimator, list(train.columns)),
            code_repository=repository,
            code_commit=commit,
            framework=framework or _framework(estimator),
            description=description,
            training_datasets=[training["id"]],
            validation_datasets=[validation["id"]] if validation else [],
            client_key=key,
        )
    if not any(a["kind"] == "model" for a in client.artifacts(version["id"])):
        blob = model_file if model_file is not None else pickle.dumps(estimator)
        client.upload_artifact(version["id"], io.BytesIO(blob), kind="model", name="model.pkl")
    return version


def _dataset(client: Steward, model: str, body: bytes, kind: str) -> JSON:
    """The model's dataset with these bytes, uploaded now unless an earlier try did."""
    import hashlib

    digest = hashlib.sha256(body).hexdigest()
    for found in client.datasets(model=model, sha256=digest, kind=kind):
        return found
    name = f"{kind} {digest[:12]}"
    return client.upload_dataset(
        model, io.BytesIO(body), name=name, kind=kind, filename=f"{kind}.csv"
    )


def _framework(estimator: Any) -> str:
    module = type(estimator).__module__.split(".")[0]
    try:
        import importlib.metadata as metadata

        distribution = {"sklearn": "scikit-learn"}.get(module, module)
        return f"{distribution} {metadata.version(distribution)}"[:80]
    except Exception:  # the framework's name is a nicety
        return module[:80]
