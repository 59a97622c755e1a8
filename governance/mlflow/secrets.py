"""Credentials encrypted at rest with Fernet (the `cryptography` package): AES-128-CBC with an
HMAC-SHA256, so a changed or foreign ciphertext is refused, never decrypted into garbage.

The keys are STEWARD_SECRETS_KEY (comma-separated, newest first; by default one key made
under STORAGE_DIR/keys/, see portal/settings.py). MultiFernet encrypts with the first and
decrypts with any, so a key is rotated by putting a new one first, re-encrypting the stored
values (`rotate`, `manage.py rotate_secrets`) and then dropping the old one.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted with the configured keys (the key changed, or was
    lost); the message says what to do, and never contains the ciphertext."""


def _keys() -> MultiFernet:
    raw = [k.strip() for k in str(settings.STEWARD_SECRETS_KEY).split(",") if k.strip()]
    if not raw:
        raise ImproperlyConfigured("STEWARD_SECRETS_KEY holds no key")
    try:
        return MultiFernet([Fernet(key.encode()) for key in raw])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "STEWARD_SECRETS_KEY must be Fernet keys (32 url-safe base64-encoded bytes), "
            "comma-separated, newest first"
        ) from exc


def encrypt(plaintext: str) -> str:
    """The Fernet token of `plaintext` under the newest key ("" stays "")."""
    if not plaintext:
        return ""
    return _keys().encrypt(plaintext.encode()).decode()


def decrypt(token: str, *, what: str) -> str:
    """The plaintext of a stored token ("" stays ""); SecretUnreadable naming `what` when no
    configured key opens it."""
    if not token:
        return ""
    try:
        return _keys().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            f"{what} cannot be decrypted with STEWARD_SECRETS_KEY: the key it was encrypted "
            "with is not among the configured keys (was the key changed or the key file "
            "lost?). Put the old key after the new one in STEWARD_SECRETS_KEY, or enter the "
            "credentials again."
        ) from None


def rotate(token: str) -> str:
    """`token` re-encrypted under the newest key (SecretUnreadable when no key opens it)."""
    if not token:
        return ""
    try:
        return _keys().rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("a stored secret is not readable with any configured key") from None


def is_token(value: str) -> bool:
    """Whether `value` looks like a Fernet token (the data migration skips those)."""
    return value.startswith("gAAAAA") and len(value) >= 100
