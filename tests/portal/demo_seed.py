"""One demo seed shared by the tests of a module: the seed is the slow part of these tests, and
training is deterministic (see test_demo_training), so each plan is fitted once per process."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from portal.demo import training

VERSION_COUNTS = {
    "Breast cancer diagnosis": 3,
    "Diabetes progression": 2,
    "Wine cultivar": 2,
    # v3: retrained by Steward when the production accuracy decayed (portal/demo/retraining.py)
    "Heart attack risk": 3,
}

_real_train = training.train
_TRAINED: dict[tuple[str, str, float], training.TrainedModel] = {}


def cached_train(
    problem: Any, split: Any, *, algorithm: str, training_share: float = 1.0
) -> training.TrainedModel:
    """`training.train`, fitted once per plan and process."""
    key = (problem.key, algorithm, training_share)
    if key not in _TRAINED:
        _TRAINED[key] = _real_train(
            problem, split, algorithm=algorithm, training_share=training_share
        )
    return _TRAINED[key]


@contextmanager
def module_seed(django_db_blocker: Any, root: Path) -> Iterator[str]:
    """Seed the demo once inside a transaction that is rolled back at the end; yields what the
    command printed. Files go under `root`. Each test of the module still runs in its own
    savepoint (pytest-django's `db`), so what one test writes, the next does not see."""
    files = override_settings(
        MEDIA_ROOT=root / "media",
        STEWARD_AUDIT_CHECKPOINT_DIR=root / "audit-checkpoints",
        STEWARD_AUDIT_KEY=root / "keys" / "audit-ed25519.pem",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    )
    with (
        pytest.MonkeyPatch.context() as patch,
        files,
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        patch.setattr(training, "train", cached_train)
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)
