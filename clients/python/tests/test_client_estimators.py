"""What register_version derives from an estimator, checked against pandas and scikit-learn."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn import metrics as m
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from steward_client import estimators
from steward_client.registration import parse_code_ref


def test_schema_types_come_from_the_frame():
    frame = pd.DataFrame(
        {
            "age": [41, 52],
            "income": [1.5, 2.0],
            "region": ["north", "south"],
            "vip": [True, False],
            "seen": pd.to_datetime(["2026-01-01", "2026-01-02"]),
        }
    )
    assert estimators.input_schema(frame) == [
        {"name": "age", "type": "integer"},
        {"name": "income", "type": "numeric"},
        {"name": "region", "type": "categorical", "categories": ["north", "south"]},
        {"name": "vip", "type": "boolean"},
        {"name": "seen", "type": "datetime"},
    ]


def test_classifier_metrics_equal_scikit_learns():
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    values = estimators.metrics(model, X, y)
    assert values["accuracy"] == pytest.approx(m.accuracy_score(y, model.predict(X)))
    assert values["log_loss"] == pytest.approx(m.log_loss(y, model.predict_proba(X)))
    assert estimators.task_of(model, y) == "multiclass"
    importance = estimators.feature_importance(model, list(X.columns))
    assert set(importance) == set(X.columns)


def test_regressor_metrics_and_importance():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    model = LinearRegression().fit(X, y)
    values = estimators.metrics(model, X, y)
    assert values["r2"] == pytest.approx(m.r2_score(y, model.predict(X)))
    assert values["rmse"] == pytest.approx(m.mean_squared_error(y, model.predict(X)) ** 0.5)
    assert estimators.task_of(model, y) == "regression"
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y > y.median())
    assert estimators.feature_importance(forest, list(X.columns)) == pytest.approx(
        dict(zip(X.columns, forest.feature_importances_, strict=True))
    )
    assert estimators.hyperparameters(forest)["n_estimators"] == 5


def test_the_client_key_is_stable_and_tells_inputs_apart():
    a = estimators.client_key("m", b"rows", {"C": 1.0}, "repo")
    assert a == estimators.client_key("m", b"rows", {"C": 1.0}, "repo")
    assert a != estimators.client_key("m", b"rows", {"C": 2.0}, "repo")
    assert a.startswith("sha256:") and len(a) == 71


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("https://git.example.org/x@3f2c1e9a7b", ("https://git.example.org/x", "3f2c1e9a7b")),
        ("3f2c1e9a7b", ("", "3f2c1e9a7b")),
        ("https://git.example.org/x", ("https://git.example.org/x", "")),
        ({"repository": "r", "commit": "abcdef1"}, ("r", "abcdef1")),
        (None, ("", "")),
    ],
)
def test_code_references(ref, expected):
    assert parse_code_ref(ref) == expected
