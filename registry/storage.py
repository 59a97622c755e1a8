"""File storage that never leaves a half-written file under a stored name.

Django's FileSystemStorage streams an upload straight into its final path; if the disk fills
(ENOSPC) or an I/O error strikes halfway, the partial file stays there, and since the save
never returned a name, nothing knows to delete it. Here the bytes go to a temporary file in
the destination folder first, are flushed to disk, and only then renamed into place (a rename
within one folder is atomic). On any failure the temporary file is removed and the error
propagates.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Any

from django.core.files.storage import FileSystemStorage

PARTIAL_PREFIX = ".partial-"


class _Staged:
    """What FileSystemStorage._save moves rather than copies: a file already on disk."""

    def __init__(self, path: str) -> None:
        self.path = path

    def temporary_file_path(self) -> str:
        return self.path


class AtomicFileSystemStorage(FileSystemStorage):
    """FileSystemStorage whose files appear whole or not at all."""

    def _save(self, name: str, content: Any) -> str:
        directory = os.path.dirname(self.path(name))
        os.makedirs(directory, exist_ok=True)
        fd, staged = tempfile.mkstemp(dir=directory, prefix=PARTIAL_PREFIX)
        try:
            with os.fdopen(fd, "wb") as out:
                if hasattr(content, "seek"):
                    content.seek(0)
                for chunk in content.chunks():
                    out.write(chunk.encode() if isinstance(chunk, str) else chunk)
                out.flush()
                os.fsync(out.fileno())
            # The parent moves the staged file into place under a free name (os.rename).
            # Django documents _save as the method to override; the stubs leave it out.
            saved: str = super()._save(name, _Staged(staged))  # type: ignore[misc]
            return saved
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(staged)
            raise
