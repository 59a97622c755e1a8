"""Storing uploads so that a failure leaves no file behind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models.fields.files import FieldFile

from registry.profiling import sha256_of

T = TypeVar("T")


def check_upload_size(upload: UploadedFile[Any], *, field: str = "file") -> None:
    limit = settings.STEWARD_MAX_UPLOAD_BYTES
    if upload.size is None or upload.size == 0:
        raise ValidationError({field: "the uploaded file is empty"})
    if upload.size > limit:
        raise ValidationError(
            {
                field: f"the file is {upload.size:,} bytes; the limit is {limit:,} bytes "
                f"(STEWARD_MAX_UPLOAD_MB={settings.STEWARD_MAX_UPLOAD_MB})"
            }
        )


def digest_upload(upload: UploadedFile[Any]) -> tuple[str, int]:
    upload.seek(0)
    digest = sha256_of(upload.chunks())
    upload.seek(0)
    return digest


@contextmanager
def removed_on_failure(field_file: Callable[[], FieldFile]) -> Iterator[None]:
    """Delete the stored file if anything inside the block raises."""
    try:
        yield
    except BaseException:
        stored = field_file()
        if stored and stored.name:
            stored.storage.delete(stored.name)
        raise
