"""The demo's pure training module: seeded data, deterministic models, metrics as sklearn's."""

from __future__ import annotations

import functools
import json
import re

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    roc_auc_score,
)

from portal.demo import catalog, training

PLANS = [
    pytest.param(spec.problem, plan.algorithm, plan.training_share, id=f"{spec.problem}-v{n}")
    for spec in catalog.DEMO_MODELS
    for n, plan in enumerate(spec.versions, start=1)
]


@functools.cache
def _problem(key: str) -> tuple[training.Problem, training.Split]:
    problem = training.load_problem(key)
    return problem, training.split_problem(problem)


@functools.cache
def _trained(key: str, algorithm: str, share: float = 1.0) -> training.TrainedModel:
    """Each plan is trained once for the module (the determinism test trains it again)."""
    problem, split = _problem(key)
    return training.train(problem, split, algorithm=algorithm, training_share=share)


def _outputs(trained: training.TrainedModel, problem: training.Problem) -> np.ndarray:
    x = trained.valid[problem.features]
    if problem.task == training.REGRESSION:
        return trained.estimator.predict(x)
    return trained.estimator.predict_proba(x)


@pytest.mark.parametrize(("key", "algorithm", "share"), PLANS)
def test_training_twice_gives_identical_predictions(key, algorithm, share):
    problem = training.load_problem(key)
    first = _trained(key, algorithm, share)
    second = training.train(
        problem, training.split_problem(problem), algorithm=algorithm, training_share=share
    )
    np.testing.assert_array_equal(_outputs(first, problem), _outputs(second, problem))
    assert first.metrics == second.metrics
    assert first.importance == second.importance
    assert training.model_bytes(first.estimator) == training.model_bytes(second.estimator)


@pytest.mark.parametrize(
    ("key", "algorithm"),
    [
        ("breast_cancer", "logistic_regression"),
        ("breast_cancer", "hist_gradient_boosting"),
        ("heart_attack", "gradient_boosting"),
    ],
)
def test_binary_metrics_equal_sklearns_on_the_validation_split(key, algorithm):
    problem, split = _problem(key)
    trained = _trained(key, algorithm)
    x, y = split.valid[problem.features], split.valid[problem.target]
    proba = trained.estimator.predict_proba(x)
    predicted = trained.estimator.predict(x)
    assert trained.metrics == pytest.approx(
        {
            "accuracy": accuracy_score(y, predicted),
            "roc_auc": roc_auc_score(y, proba[:, 1]),
            "f1": f1_score(y, predicted),
            "log_loss": log_loss(y, proba),
        },
        rel=1e-12,
    )


def test_multiclass_metrics_use_one_vs_rest_auc_and_macro_f1():
    problem, split = _problem("wine")
    trained = _trained(problem.key, "random_forest")
    x, y = split.valid[problem.features], split.valid[problem.target]
    proba = trained.estimator.predict_proba(x)
    predicted = trained.estimator.predict(x)
    assert trained.metrics == pytest.approx(
        {
            "accuracy": accuracy_score(y, predicted),
            "roc_auc": roc_auc_score(y, proba, multi_class="ovr"),
            "f1": f1_score(y, predicted, average="macro"),
            "log_loss": log_loss(y, proba),
        },
        rel=1e-12,
    )


def test_regression_metrics_equal_sklearns_on_the_validation_split():
    problem, split = _problem("diabetes")
    trained = _trained(problem.key, "ridge")
    y = split.valid[problem.target]
    predicted = trained.estimator.predict(split.valid[problem.features])
    assert trained.metrics == pytest.approx(
        {
            "mae": mean_absolute_error(y, predicted),
            "rmse": float(np.sqrt(mean_squared_error(y, predicted))),
            "r2": r2_score(y, predicted),
        },
        rel=1e-12,
    )


def test_classification_splits_are_stratified_and_disjoint():
    problem, split = _problem("breast_cancer")
    assert len(split.train) + len(split.valid) == len(problem.frame)
    shares = [part[problem.target].mean() for part in (split.train, split.valid)]
    assert shares[0] == pytest.approx(shares[1], abs=0.01)
    assert len(split.training_rows(0.6)) == round(len(split.train) * 0.6)


def test_heart_data_is_seeded_and_has_the_declared_columns():
    first = training.heart_attack_frame(n_rows=500, seed=7)
    assert first.equals(training.heart_attack_frame(n_rows=500, seed=7))
    assert not first.equals(training.heart_attack_frame(n_rows=500, seed=8))
    assert tuple(first.columns) == training.HEART_COLUMNS
    assert set(first["sex"]) <= set(training.SEXES)
    assert set(first["chest_pain_type"]) == set(training.CHEST_PAIN_TYPES)
    assert set(first["smoker"]) | set(first["diabetes"]) | set(first["heart_attack"]) == {0, 1}
    assert first["age"].between(30, 85).all()


def test_heart_outcome_follows_its_risk_factors():
    problem, _ = _problem("heart_attack")
    assert 0.15 < problem.frame["heart_attack"].mean() < 0.5
    trained = _trained(problem.key, "logistic_regression")
    assert trained.metrics["roc_auc"] > 0.75


def test_heart_input_schema_lists_the_categories_of_categorical_features():
    problem, _ = _problem("heart_attack")
    schema = {feature["name"]: feature for feature in problem.input_schema()}
    assert list(schema) == list(training.HEART_COLUMNS[:-1])
    assert schema["chest_pain_type"] == {
        "name": "chest_pain_type",
        "type": "categorical",
        "categories": list(training.CHEST_PAIN_TYPES),
    }
    assert schema["age"]["type"] == "numeric"
    assert problem.table_schema()[-1]["categories"] == ["0", "1"]


def test_the_breast_cancer_target_marks_malignant_masses_as_positive():
    problem, _ = _problem("breast_cancer")
    assert problem.target == "malignant"
    assert problem.frame["malignant"].sum() == 212  # WDBC: 212 malignant, 357 benign
    assert "mean radius" in problem.features


@pytest.mark.parametrize(("key", "algorithm", "share"), PLANS)
def test_importance_covers_every_feature_and_sums_to_one(key, algorithm, share):
    problem, _ = _problem(key)
    trained = _trained(key, algorithm, share)
    assert list(trained.importance) == problem.features
    assert min(trained.importance.values()) >= 0
    assert sum(trained.importance.values()) == pytest.approx(1, abs=1e-4)


def test_hyperparameters_are_strict_json_and_name_sklearn_params():
    trained = _trained("heart_attack", "gradient_boosting")
    json.dumps(trained.hyperparameters, allow_nan=False)
    assert trained.hyperparameters["model__n_estimators"] == 150
    assert trained.hyperparameters["model__random_state"] == training.SEED
    assert not any(key in trained.hyperparameters for key in ("steps", "model", "prepare"))


def test_code_commits_are_stable_forty_hex_ids_per_version():
    first = catalog.code_commit("Wine cultivar", 1)
    assert re.fullmatch(r"[0-9a-f]{40}", first)
    assert first == catalog.code_commit("Wine cultivar", 1)
    assert first != catalog.code_commit("Wine cultivar", 2)


def test_requirements_pin_the_training_libraries():
    lines = training.requirements_bytes().decode().splitlines()
    assert [line.split("==")[0] for line in lines] == list(training.REQUIREMENTS)
    assert training.framework() == f"scikit-learn {lines[0].split('==')[1]}"
