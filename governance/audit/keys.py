"""The Ed25519 key that signs audit checkpoints: created on first use, read from a PEM file.

No Django import; callers pass the path (settings.STEWARD_AUDIT_KEY in the app).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class AuditKeyError(Exception):
    """A key file exists but does not hold an Ed25519 key."""


def key_id(public_key: Ed25519PublicKey) -> str:
    """Short fingerprint naming the key in every checkpoint: sha256 of the raw key, 16 hex."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def _private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def read_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditKeyError(f"{path} does not hold an Ed25519 private key")
    return key


def read_public_key(path: Path) -> Ed25519PublicKey:
    """A public key PEM, or the public half of a private key PEM."""
    data = path.read_bytes()
    if b"PRIVATE KEY" in data:
        return read_private_key(path).public_key()
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise AuditKeyError(f"{path} does not hold an Ed25519 public key")
    return key


def load_or_create_private_key(path: Path) -> Ed25519PrivateKey:
    """Read the key at `path`, creating it (mode 0600, folder 0700) if there is none.

    Two processes starting at once must end with one key: the new key is written to a
    private temporary file and hard-linked into place, which fails if the path exists.
    """
    if path.exists():
        return read_private_key(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(_private_pem(key))
        os.link(tmp, path)
    except FileExistsError:
        return read_private_key(path)
    finally:
        tmp.unlink(missing_ok=True)
    return key


def public_keys_by_id(keys: Iterable[Ed25519PublicKey]) -> dict[str, Ed25519PublicKey]:
    return {key_id(key): key for key in keys}
