"""Demo training: data sets scikit-learn ships, a synthetic cardiology cohort, seeded models.

Pure numpy, pandas and scikit-learn: no ORM, no network (no `fetch_*`). Every random step
takes a fixed seed, so two runs train identical models with identical metrics.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
    root_mean_squared_error,
)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

SEED = 20240601
VALIDATION_SHARE = 0.25
HEART_ROWS = 3000
REQUIREMENTS = ("scikit-learn", "numpy", "pandas", "scipy", "joblib")

BINARY, MULTICLASS, REGRESSION = "binary", "multiclass", "regression"

SEXES = ("female", "male")
CHEST_PAIN_TYPES = ("asymptomatic", "atypical_angina", "non_anginal_pain", "typical_angina")
HEART_COLUMNS = (
    "age",
    "sex",
    "resting_blood_pressure",
    "cholesterol",
    "max_heart_rate",
    "smoker",
    "diabetes",
    "chest_pain_type",
    "heart_attack",
)


@dataclass(frozen=True, eq=False)
class Problem:
    """A table with its target column; `categories` names the categorical features."""

    key: str
    task: str
    target: str
    frame: pd.DataFrame
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        return [str(c) for c in self.frame.columns if c != self.target]

    @property
    def numeric_features(self) -> list[str]:
        return [f for f in self.features if f not in self.categories]

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in sorted(self.frame[self.target].unique())]

    def input_schema(self) -> list[dict[str, Any]]:
        """The version's input schema: every feature, numeric or categorical."""
        schema: list[dict[str, Any]] = []
        for name in self.features:
            if name in self.categories:
                schema.append(
                    {"name": name, "type": "categorical", "categories": list(self.categories[name])}
                )
            else:
                schema.append({"name": name, "type": "numeric"})
        return schema

    def table_schema(self) -> list[dict[str, Any]]:
        """The schema of a data set file: the features and the target column."""
        if self.task == REGRESSION:
            target: dict[str, Any] = {"name": self.target, "type": "numeric"}
        else:
            target = {"name": self.target, "type": "categorical", "categories": self.classes}
        return [*self.input_schema(), target]


@dataclass(frozen=True, eq=False)
class Split:
    """Training and validation rows of a problem (indexes reset, as they read back from CSV)."""

    train: pd.DataFrame
    valid: pd.DataFrame

    def training_rows(self, share: float) -> pd.DataFrame:
        """The first `share` of the (already shuffled) training rows."""
        return self.train.iloc[: round(len(self.train) * share)].reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class TrainedModel:
    """A fitted estimator with what a model version records about it."""

    estimator: BaseEstimator
    algorithm: str
    train: pd.DataFrame
    valid: pd.DataFrame
    metrics: dict[str, float]
    importance: dict[str, float]
    hyperparameters: dict[str, Any]


# --- data -------------------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def heart_attack_frame(n_rows: int = HEART_ROWS, seed: int = SEED) -> pd.DataFrame:
    """A synthetic cohort whose 10-year heart-attack outcome follows a known logistic model.

    Not real patients: the risk factors and their weights are plausible, not clinical.
    """
    rng = np.random.default_rng(seed)
    age = np.clip(rng.normal(56, 10, n_rows), 30, 85).round().astype(int)
    male = rng.random(n_rows) < 0.55
    bp = np.clip(rng.normal(128 + 0.4 * (age - 56), 16), 90, 210).round().astype(int)
    cholesterol = np.clip(rng.normal(215, 40, n_rows), 120, 420).round().astype(int)
    max_hr = np.clip(208 - 0.7 * age + rng.normal(0, 14, n_rows), 80, 205).round().astype(int)
    smoker = (rng.random(n_rows) < 0.28).astype(int)
    diabetes = (rng.random(n_rows) < 0.06 + 0.003 * (age - 30)).astype(int)
    pain = rng.choice(len(CHEST_PAIN_TYPES), size=n_rows, p=[0.35, 0.2, 0.3, 0.15])
    pain_weight = np.array([1.6, 0.3, 0.0, 0.9])[pain]
    logit = (
        -2.6
        + 0.08 * (age - 56)
        + 0.8 * male
        + 0.03 * (bp - 128)
        + 0.012 * (cholesterol - 215)
        - 0.04 * (max_hr - 169 + 0.7 * (age - 56))  # below the age-expected maximum
        + 1.0 * smoker
        + 1.1 * diabetes
        + pain_weight
    )
    outcome = (rng.random(n_rows) < _sigmoid(logit)).astype(int)
    columns = (age, np.where(male, "male", "female"), bp, cholesterol, max_hr, smoker, diabetes)
    frame = pd.DataFrame(dict(zip(HEART_COLUMNS[:7], columns, strict=True)))
    frame["chest_pain_type"] = np.array(CHEST_PAIN_TYPES)[pain]
    frame["heart_attack"] = outcome
    return frame


def _breast_cancer() -> Problem:
    data = load_breast_cancer(as_frame=True)
    frame = data.data.copy()
    frame["malignant"] = (data.target == 0).astype(int)  # scikit-learn codes malignant as 0
    return Problem("breast_cancer", BINARY, "malignant", frame)


def _diabetes() -> Problem:
    frame = load_diabetes(as_frame=True, scaled=False).frame
    return Problem(
        "diabetes", REGRESSION, "progression", frame.rename(columns={"target": "progression"})
    )


def _wine() -> Problem:
    frame = load_wine(as_frame=True).frame.rename(columns={"target": "cultivar"})
    return Problem("wine", MULTICLASS, "cultivar", frame)


def _heart_attack() -> Problem:
    categories = {"sex": SEXES, "chest_pain_type": CHEST_PAIN_TYPES}
    return Problem("heart_attack", BINARY, "heart_attack", heart_attack_frame(), categories)


PROBLEMS: dict[str, Callable[[], Problem]] = {
    "breast_cancer": _breast_cancer,
    "diabetes": _diabetes,
    "wine": _wine,
    "heart_attack": _heart_attack,
}


def load_problem(key: str) -> Problem:
    return PROBLEMS[key]()


def split_problem(problem: Problem, *, seed: int = SEED) -> Split:
    """A seeded split; classification splits keep the class shares (stratified)."""
    stratify = None if problem.task == REGRESSION else problem.frame[problem.target]
    train, valid = train_test_split(
        problem.frame, test_size=VALIDATION_SHARE, random_state=seed, stratify=stratify
    )
    return Split(train.reset_index(drop=True), valid.reset_index(drop=True))


# --- estimators ---------------------------------------------------------------------------


def _pipeline(problem: Problem, model: BaseEstimator, *, scale: bool) -> BaseEstimator:
    """One-hot encode categorical features; standardise numeric ones for linear models."""
    numeric = StandardScaler() if scale else "passthrough"
    if problem.categories:
        names = list(problem.categories)
        onehot = OneHotEncoder(
            categories=[list(problem.categories[n]) for n in names],
            handle_unknown="ignore",
            sparse_output=False,
        )
        prepare = ColumnTransformer(
            [("onehot", onehot, names), ("numeric", numeric, problem.numeric_features)]
        )
        return Pipeline([("prepare", prepare), ("model", model)])
    if scale:
        return Pipeline([("scale", StandardScaler()), ("model", model)])
    return model


ESTIMATORS: dict[str, tuple[str, Callable[[Problem], BaseEstimator]]] = {
    "logistic_regression": (
        "Logistic regression",
        lambda p: _pipeline(p, LogisticRegression(max_iter=2000), scale=True),
    ),
    "random_forest": (
        "Random forest",
        lambda p: _pipeline(
            p,
            RandomForestClassifier(n_estimators=120, min_samples_leaf=2, random_state=SEED),
            scale=False,
        ),
    ),
    "hist_gradient_boosting": (
        "Histogram gradient boosting",
        lambda p: _pipeline(
            p, HistGradientBoostingClassifier(max_iter=150, random_state=SEED), scale=False
        ),
    ),
    "gradient_boosting": (
        "Gradient boosting",
        lambda p: _pipeline(
            p,
            GradientBoostingClassifier(
                n_estimators=150, max_depth=3, learning_rate=0.05, random_state=SEED
            ),
            scale=False,
        ),
    ),
    "ridge": ("Ridge regression", lambda p: _pipeline(p, Ridge(alpha=1.0), scale=True)),
    "random_forest_regressor": (
        "Random forest regressor",
        lambda p: _pipeline(
            p,
            RandomForestRegressor(n_estimators=150, min_samples_leaf=5, random_state=SEED),
            scale=False,
        ),
    ),
}


def build_estimator(problem: Problem, algorithm: str) -> BaseEstimator:
    return ESTIMATORS[algorithm][1](problem)


def algorithm_label(algorithm: str) -> str:
    return ESTIMATORS[algorithm][0]


# --- evaluation ---------------------------------------------------------------------------


def classification_metrics(
    estimator: BaseEstimator, x: pd.DataFrame, y: pd.Series
) -> dict[str, float]:
    """accuracy, roc_auc, f1 and log_loss; multiclass: one-vs-rest AUC and macro F1."""
    classes = estimator.classes_
    proba = estimator.predict_proba(x)
    predicted = estimator.predict(x)
    if len(classes) == 2:
        auc = roc_auc_score(y, proba[:, 1])
        f1 = f1_score(y, predicted, pos_label=classes[1])
    else:
        auc = roc_auc_score(y, proba, multi_class="ovr", labels=classes)
        f1 = f1_score(y, predicted, average="macro")
    return {
        "accuracy": float(accuracy_score(y, predicted)),
        "roc_auc": float(auc),
        "f1": float(f1),
        "log_loss": float(log_loss(y, proba, labels=classes)),
    }


def regression_metrics(estimator: BaseEstimator, x: pd.DataFrame, y: pd.Series) -> dict[str, float]:
    """mae, rmse and r2 of the estimator's predictions."""
    predicted = estimator.predict(x)
    return {
        "mae": float(mean_absolute_error(y, predicted)),
        "rmse": float(root_mean_squared_error(y, predicted)),
        "r2": float(r2_score(y, predicted)),
    }


def evaluate(problem: Problem, estimator: BaseEstimator, frame: pd.DataFrame) -> dict[str, float]:
    x, y = frame[problem.features], frame[problem.target]
    if problem.task == REGRESSION:
        return regression_metrics(estimator, x, y)
    return classification_metrics(estimator, x, y)


def _intrinsic_importance(estimator: BaseEstimator, n_features: int) -> np.ndarray | None:
    """feature_importances_ or mean |coef| when the model sees the features one to one."""
    final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    if getattr(final, "n_features_in_", None) != n_features:
        return None  # one-hot columns: attribute through permutation instead
    if hasattr(final, "feature_importances_"):
        return np.asarray(final.feature_importances_, dtype=float)
    if hasattr(final, "coef_"):
        return np.abs(np.atleast_2d(final.coef_)).mean(axis=0)
    return None


def feature_importance(
    problem: Problem, estimator: BaseEstimator, frame: pd.DataFrame
) -> dict[str, float]:
    """Importance per input feature, normalised to sum to 1."""
    x, y = frame[problem.features], frame[problem.target]
    raw = _intrinsic_importance(estimator, len(problem.features))
    if raw is None:
        scoring = "r2" if problem.task == REGRESSION else "neg_log_loss"
        result = permutation_importance(
            estimator, x, y, scoring=scoring, n_repeats=5, random_state=SEED
        )
        raw = np.clip(result.importances_mean, 0, None)
    total = float(raw.sum())
    shares = raw / total if total > 0 else np.zeros_like(raw)
    return {name: round(float(s), 6) for name, s in zip(problem.features, shares, strict=True)}


def _json_value(value: Any) -> Any:
    """A JSON-safe stand-in for a hyper-parameter value (no NaN, no objects)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, type) or callable(value):
        return getattr(value, "__name__", type(value).__name__)
    return str(value)


def _is_estimator_valued(value: Any) -> bool:
    if hasattr(value, "get_params"):
        return True
    return isinstance(value, list | tuple) and any(
        _is_estimator_valued(v) for item in value for v in (item if isinstance(item, tuple) else [])
    )


def hyperparameters(estimator: BaseEstimator) -> dict[str, Any]:
    """`get_params(deep=True)` without the nested estimator objects, made JSON-safe."""
    params = estimator.get_params(deep=True)
    return {
        key: _json_value(value)
        for key, value in sorted(params.items())
        if not _is_estimator_valued(value)
    }


# --- training -----------------------------------------------------------------------------


def train(
    problem: Problem, split: Split, *, algorithm: str, training_share: float = 1.0
) -> TrainedModel:
    """Fit `algorithm` on the first `training_share` of the training rows; score on validation."""
    train_rows = split.training_rows(training_share)
    estimator = build_estimator(problem, algorithm)
    estimator.fit(train_rows[problem.features], train_rows[problem.target])
    return TrainedModel(
        estimator=estimator,
        algorithm=algorithm,
        train=train_rows,
        valid=split.valid,
        metrics=evaluate(problem, estimator, split.valid),
        importance=feature_importance(problem, estimator, split.valid),
        hyperparameters=hyperparameters(estimator),
    )


def scored_frame(problem: Problem, estimator: BaseEstimator, rows: pd.DataFrame) -> pd.DataFrame:
    """`rows` with the estimator's outputs as the demo's serving app sends them: the predicted
    label or value as `prediction`; for classifiers, `prediction_score` (the positive class's
    probability for binary models, the top class's for multiclass, with every class's as
    `prediction_score_<class>` for multiclass ROC AUC)."""
    features = rows[problem.features]
    if problem.task == REGRESSION:
        return rows.assign(prediction=np.asarray(estimator.predict(features), dtype=float))
    proba = estimator.predict_proba(features)
    classes = np.asarray(estimator.classes_)
    if problem.task == BINARY:
        return rows.assign(
            prediction=classes[(proba[:, 1] >= 0.5).astype(int)], prediction_score=proba[:, 1]
        )
    per_class = {f"prediction_score_{k}": proba[:, i] for i, k in enumerate(classes)}
    return rows.assign(
        prediction=classes[proba.argmax(axis=1)], prediction_score=proba.max(axis=1), **per_class
    )


# --- files --------------------------------------------------------------------------------


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def model_bytes(estimator: BaseEstimator) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    return buffer.getvalue()


def metrics_bytes(trained: TrainedModel) -> bytes:
    document = {
        "algorithm": trained.algorithm,
        "validation_rows": len(trained.valid),
        "training_rows": len(trained.train),
        "metrics": trained.metrics,
        "feature_importance": trained.importance,
    }
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def requirements_bytes() -> bytes:
    """Pinned versions of the libraries the model was trained with."""
    return "".join(f"{name}=={metadata.version(name)}\n" for name in REQUIREMENTS).encode()


def framework() -> str:
    return f"scikit-learn {metadata.version('scikit-learn')}"
