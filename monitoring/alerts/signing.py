"""HMAC-SHA256 signatures of webhook bodies. Pure: bytes in, text out.

Monitoring may not import governance (see docs/architecture.md), so this is its own small
copy of the scheme: the header carries "sha256=<hex digest of the raw body>".
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Steward-Signature"


def sign(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, body: bytes, signature: str) -> bool:
    """Constant-time comparison of `signature` with the body's own."""
    return hmac.compare_digest(sign(secret, body), signature)
