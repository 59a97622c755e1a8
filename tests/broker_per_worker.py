"""A pytest plugin (`-p tests.broker_per_worker`, in pyproject's addopts): under pytest-xdist
on a Redis broker, each worker gets its own Redis database, so that tests with a real Celery
worker can run beside each other without taking each other's jobs (worker gw0 uses the
configured database + 1, gw1 + 2, …). The embedded filesystem broker is already one per
xdist worker (it lives in the worker's STEWARD_STORAGE_DIR).

It runs when pytest imports it, before pytest-django loads the settings, which read
CELERY_BROKER_URL from the environment."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit, urlunsplit

# Redis has 16 databases by default (0-15).
REDIS_DATABASES = 16


def worker_broker_url(url: str, worker: str) -> str:
    """The broker of pytest-xdist worker `worker` ("gw0", "gw1", …) on Redis URL `url`."""
    parts = urlsplit(url)
    match = re.fullmatch(r"gw(\d+)", worker)
    if parts.scheme not in ("redis", "rediss") or match is None:
        return url
    base = int(parts.path.strip("/") or 0)
    database = base + 1 + int(match.group(1))
    if database >= REDIS_DATABASES:
        raise RuntimeError(f"no Redis database left for xdist worker {worker} over {url}")
    return urlunsplit(parts._replace(path=f"/{database}"))


_worker = os.environ.get("PYTEST_XDIST_WORKER")
_url = os.environ.get("CELERY_BROKER_URL", "")
if _worker and _url:
    os.environ["CELERY_BROKER_URL"] = worker_broker_url(_url, _worker)


def pytest_sessionstart(session: object) -> None:
    """Empty this worker's own broker database: a message a killed worker left in an earlier
    run must not meet this run's jobs. Only the per-worker databases, which nothing else
    uses, are emptied; a Redis that cannot be reached is left to the tests that need it."""
    if not (_worker and _url) or worker_broker_url(_url, _worker) == _url:
        return
    import redis

    try:
        redis.Redis.from_url(worker_broker_url(_url, _worker), socket_timeout=5).flushdb()
    except redis.RedisError:
        return
