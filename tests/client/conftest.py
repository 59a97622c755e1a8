"""A live Steward (pytest-django's `live_server`) and clients holding real tokens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from steward_client import Steward

from portal.security.tokens import token_issue
from tests import factories
from tests.governance.reports.conftest import signing_identity  # noqa: F401 (a fixture)


def client_for(live_server: Any, user: Any) -> Steward:
    _, secret = token_issue(user=user, name="steward-client tests")
    return Steward(live_server.url, secret)


@pytest.fixture
def steward(live_server, owner) -> Iterator[Steward]:
    """The owner's client against the live server."""
    with client_for(live_server, owner) as client:
        yield client


@pytest.fixture
def demo_data():
    """Four features of scikit-learn's breast-cancer data, split in two; string labels."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    data = load_breast_cancer(as_frame=True)
    X = data.frame[["mean radius", "mean texture", "mean smoothness", "worst concave points"]]
    y = data.target.map({0: "malignant", 1: "benign"})
    return train_test_split(X, y, test_size=0.3, random_state=0)


@pytest.fixture
def estimator(demo_data):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X_train, _, y_train, _ = demo_data
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(X_train, y_train)


@pytest.fixture
def reviewer_client(live_server, reviewer) -> Iterator[Steward]:
    with client_for(live_server, reviewer) as client:
        yield client


def new_reviewer(name: str) -> Any:
    from registry.roles import REVIEWERS

    return factories.UserFactory(username=name, roles=[REVIEWERS])
