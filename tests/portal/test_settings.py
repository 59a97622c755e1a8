"""Settings: typed environment readers, secure defaults with DEBUG off, production static."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.env import env_bool, env_int, env_list

ROOT = Path(__file__).resolve().parents[2]


def test_env_readers_parse_and_name_the_bad_variable(monkeypatch):
    monkeypatch.setenv("X_FLAG", "yes")
    monkeypatch.setenv("X_NUM", "12")
    monkeypatch.setenv("X_LIST", "a.example, b.example,")
    assert env_bool("X_FLAG", False) is True
    assert env_int("X_NUM", 0) == 12
    assert env_list("X_LIST", []) == ["a.example", "b.example"]
    monkeypatch.setenv("X_NUM", "twelve")
    with pytest.raises(ImproperlyConfigured, match="X_NUM"):
        env_int("X_NUM", 0)
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env_bool("X_FLAG", False)


def _manage(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SECURE_", "SESSION_", "CSRF_", "STEWARD_"))
    }
    base |= {"STEWARD_STORAGE_DIR": str(tmp_path), "DEBUG": "0"} | env
    base.pop("DATABASE_URL", None)
    base.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests' conftest
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        # collectstatic compresses every file: minutes on a loaded 2-core machine.
        timeout=900,
    )


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        tmp_path=tmp_path,
        SECRET_KEY="k" * 10 + "-production-secret-of-sufficient-length-and-variety-42",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_off_without_a_secret_key_refuses_to_start(tmp_path):
    result = _manage("check", tmp_path=tmp_path, SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_collectstatic_builds_the_production_manifest_with_vendored_assets(tmp_path):
    result = _manage(
        "collectstatic",
        "--noinput",
        tmp_path=tmp_path,
        SECRET_KEY="collectstatic-check-secret-key-0123456789-abcdefghij",
    )
    assert result.returncode == 0, result.stderr
    manifest = (tmp_path / "static" / "staticfiles.json").read_text()
    assert "vendor/chartjs/chart.umd.min.js" in manifest
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in manifest


DEMO_PROBE = """
import json, os, stat
import django
django.setup()
from django.conf import settings
from django.test import Client
from django.urls import path
import portal.urls

def boom(request):
    raise RuntimeError("internal detail 4711")

portal.urls.urlpatterns[:0] = [path("boom/", boom), path("api/v1/boom/", boom)]
client = Client(raise_request_exception=False, HTTP_HOST="127.0.0.1")
pages = {url: client.get(url) for url in ("/boom/", "/api/v1/boom/", "/static/steward/steward.css")}
key = settings.STORAGE_DIR / "keys" / "demo-secret-key"
print(json.dumps({
    "debug": settings.DEBUG,
    "key_is_stored": key.read_text().strip() == settings.SECRET_KEY,
    "key_mode": oct(stat.S_IMODE(key.stat().st_mode)),
    "https_only": [settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE,
                   settings.CSRF_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS],
    "status": {url: r.status_code for url, r in pages.items()},
    "leaks": [url for url, r in pages.items()
              if not r.streaming and (b"4711" in r.content or b"Traceback" in r.content)],
}))
"""


def test_the_demo_runs_with_debug_off_over_http_and_keeps_tracebacks_off_the_wire(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SECURE_", "SESSION_", "CSRF_", "STEWARD_", "DEBUG", "SECRET_KEY"))
    }
    env |= {"STEWARD_STORAGE_DIR": str(tmp_path), "STEWARD_DEMO": "1"}
    env |= {"DJANGO_SETTINGS_MODULE": "portal.settings"}
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    run = subprocess.run(
        [sys.executable, "-c", DEMO_PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    probe = json.loads(run.stdout.strip().splitlines()[-1])
    assert probe["debug"] is False and probe["key_is_stored"] and probe["key_mode"] == "0o600"
    assert probe["https_only"] == [False, False, False, 0]
    assert probe["status"] == {
        "/boom/": 500,
        "/api/v1/boom/": 500,
        "/static/steward/steward.css": 200,
    }
    assert probe["leaks"] == []
    again = subprocess.run(
        [sys.executable, "-c", DEMO_PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert json.loads(again.stdout.strip().splitlines()[-1])["key_is_stored"]
