"""`manage.py seed_demo` on an empty database: all or nothing, and quiet when asked."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from portal.demo import training
from registry import services
from registry.models import Dataset, RegisteredModel
from tests.portal.demo_seed import VERSION_COUNTS, cached_train

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_seed(monkeypatch, settings):
    monkeypatch.setattr(training, "train", cached_train)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_a_failing_model_leaves_no_rows_or_files_and_the_next_quiet_run_completes_silently(
    monkeypatch, settings
):
    def fail(**_kwargs):
        raise RuntimeError("registry unreachable")

    with monkeypatch.context() as patched, pytest.raises(RuntimeError):
        patched.setattr(services, "artifact_link", fail)
        call_command("seed_demo", "--quiet")
    assert RegisteredModel.objects.count() == Dataset.objects.count() == 0
    assert not [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]
    out = io.StringIO()
    call_command("seed_demo", "--quiet", stdout=out)
    assert RegisteredModel.objects.count() == len(VERSION_COUNTS)
    assert out.getvalue() == ""
