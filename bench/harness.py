"""Shared set-up of the benchmarks that drive Steward in-process on PostgreSQL: create the
database when missing, then configure, set up and migrate Django for the test client."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def ensure_database(url: str) -> None:
    """CREATE DATABASE for the URL's database unless it exists (via the postgres database)."""
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str, storage: str) -> None:
    """Point Django at `url` with its files under var/<storage>, set it up for the in-process
    test client (plain HTTP, non-secure cookies, the "testserver" host, no static manifest)
    and migrate."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
    os.environ.setdefault("STEWARD_STORAGE_DIR", str(ROOT / "var" / storage))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
    os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
    os.environ.setdefault("STEWARD_STATIC_MANIFEST", "0")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0)


def side_python(venv: Path, requirements: Path, module: str, label: str) -> Path | None:
    """The interpreter of a side venv holding a library Steward is compared with (it may need
    versions that clash with ours: Evidently and NannyML want pandas < 3), made on first use;
    None, with the reason printed, when it cannot be installed."""
    import subprocess

    python = venv / "bin" / "python"
    probe = [str(python), "-c", f"import {module}"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print(f"creating {venv.relative_to(ROOT)} for {label} ...", flush=True)
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(requirements)],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{label} could not be installed: {' '.join(step[:4])} failed:")
            print(done.stderr.strip()[-2000:])
            return None
    return python
