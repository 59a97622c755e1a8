"""The demo's secret key: made once, kept under the storage folder, readable by its owner only.
No Django import (settings.py calls this before Django is configured)."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path


def demo_secret_key(storage_dir: Path) -> str:
    """The key in STORAGE_DIR/keys/demo-secret-key, created (mode 0600) when missing."""
    path = storage_dir / "keys" / "demo-secret-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, draft = tempfile.mkstemp(dir=path.parent)  # mode 0600
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(50))
        try:
            os.link(draft, path)  # atomic; the web server and the worker may race here
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
    return path.read_text().strip()
