"""Keys made once and kept under the storage folder, readable by their owner only: the demo's
secret key, and the fallback key that encrypts stored credentials at rest. No Django import
(settings.py calls this before Django is configured)."""

from __future__ import annotations

import base64
import os
import secrets
import tempfile
from pathlib import Path


def _key_file(path: Path, make: str) -> str:
    """The key in `path`, created with `make` (mode 0600) when missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, draft = tempfile.mkstemp(dir=path.parent)  # mode 0600
        with os.fdopen(fd, "w") as out:
            out.write(make)
        try:
            os.link(draft, path)  # atomic; the web server and the worker may race here
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
    return path.read_text().strip()


def demo_secret_key(storage_dir: Path) -> str:
    """The key in STORAGE_DIR/keys/demo-secret-key, created (mode 0600) when missing."""
    return _key_file(storage_dir / "keys" / "demo-secret-key", secrets.token_urlsafe(50))


def secrets_key(storage_dir: Path) -> str:
    """The Fernet key in STORAGE_DIR/keys/secrets-fernet-key (32 random bytes, url-safe
    base64), created (mode 0600) when missing: the fallback of STEWARD_SECRETS_KEY."""
    fresh = base64.urlsafe_b64encode(os.urandom(32)).decode()
    return _key_file(storage_dir / "keys" / "secrets-fernet-key", fresh)
