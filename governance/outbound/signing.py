"""HMAC-SHA256 signatures of webhook bodies. Pure: bytes in, header value out.

The header carries ``sha256=<hex digest of the raw body>``; receivers recompute it with the
shared secret and compare in constant time (`verify`).
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Steward-Signature"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver runs: constant-time comparison of the expected and given signature."""
    return hmac.compare_digest(sign(secret, body), header)
