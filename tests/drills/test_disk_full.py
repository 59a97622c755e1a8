"""Failure drill: the disk fills while an artifact is being written.

Every file descriptor opened for writing under the media folder gets a writer that stores
the first bytes for real and then fails with ENOSPC, as a full disk does halfway through a
file. The upload must end in a clean API error, with no artifact row, no audit entry and no
file (whole or partial) left in the media folder; once space is back the same upload works.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.audit.models import AuditEvent
from registry.models import Artifact
from tests import factories

PAYLOAD = bytes(range(256)) * 1024  # 256 KiB: several upload chunks
ROOM = 100 * 1024  # the disk fills after this many bytes


class FillingWriter:
    """A file object that writes until the disk is 'full', then raises ENOSPC."""

    def __init__(self, real, room: int) -> None:
        self.real, self.room = real, room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            self.real.write(data[: self.room])
            self.real.flush()
            self.room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.real.write(data)

    def __getattr__(self, name: str):
        return getattr(self.real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.real.close()


@pytest.fixture
def disk_fills(monkeypatch):
    real_fdopen = os.fdopen
    media = Path(settings.MEDIA_ROOT).resolve()

    def fdopen(fd: int, mode: str = "r", *args, **kwargs):
        handle = real_fdopen(fd, mode, *args, **kwargs)
        target = Path(os.readlink(f"/proc/self/fd/{fd}"))
        if "w" in mode and target.is_relative_to(media):
            return FillingWriter(handle, ROOM)
        return handle

    monkeypatch.setattr(os, "fdopen", fdopen)
    return monkeypatch


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def upload(client, version):
    return client.post(
        f"/api/v1/versions/{version.pk}/artifacts/",
        {"kind": "model", "file": SimpleUploadedFile("model.joblib", PAYLOAD)},
        format="multipart",
    )


def test_an_upload_that_fills_the_disk_is_a_clean_error_leaving_no_row_and_no_file(
    api_as, owner, model_a, disk_fills
):
    version = factories.model_version(model=model_a)
    media = Path(settings.MEDIA_ROOT)
    client = api_as(owner)

    response = upload(client, version)
    assert response.status_code == 507, response.content
    assert "storage is full" in response.json()["detail"]
    assert not Artifact.objects.filter(version=version).exists()
    assert not AuditEvent.objects.filter(action="registry.artifact.added").exists()
    assert files_under(media) == []

    disk_fills.undo()  # space was freed
    retried = upload(client, version)
    assert retried.status_code == 201, retried.content
    [stored] = files_under(media)
    assert stored.read_bytes() == PAYLOAD
