"""Each Steward process computes on one native thread unless its environment says otherwise
(portal/settings.py): OpenMP threads waiting for each other on cores that the web and worker
processes already share run many times slower than one thread."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Django's settings first, as every Steward process loads them, then a gradient boosting fit
# (scikit-learn's OpenMP runtime is loaded by it) and the thread pools it ran on.
PROBE = """
import json, django
django.setup()
import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_info
x = np.random.default_rng(0).normal(size=(200, 3))
HistGradientBoostingClassifier(max_iter=5).fit(x, x[:, 0] > 0)
print(json.dumps({p["user_api"]: p["num_threads"] for p in threadpool_info()}))
"""


def _pools(**env: str) -> dict[str, int]:
    base = {
        k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    }
    base |= {"DJANGO_SETTINGS_MODULE": "portal.settings"} | env
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    pools: dict[str, int] = json.loads(result.stdout.strip().splitlines()[-1])
    return pools


@pytest.fixture(autouse=True)
def _several_cores() -> None:
    if (os.cpu_count() or 1) < 2:
        pytest.skip("with one core, one thread is every library's default anyway")


def test_a_steward_process_runs_openmp_and_blas_on_one_thread_by_default():
    pools = _pools()
    assert pools["openmp"] == 1
    assert pools.get("blas", 1) == 1


def test_the_environment_can_give_more_threads():
    assert _pools(OMP_NUM_THREADS="2")["openmp"] == 2
