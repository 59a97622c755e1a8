"""Errors raised by the client: one class per kind of refusal, each carrying the server's
field messages (`{"task": ["\"x\" is not a valid choice."]}`) as `fields`."""

from __future__ import annotations

from typing import Any

import httpx


class StewardError(Exception):
    """A request Steward refused or could not answer. `status` is None when no answer came."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        fields: dict[str, Any] | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.fields: dict[str, Any] = fields or {}
        self.body = body


class BadRequest(StewardError):
    """400: the input was refused; `fields` names each field and why."""


class Unauthorized(StewardError):
    """401: no token, or a token that is wrong, revoked or expired."""


class Forbidden(StewardError):
    """403: visible, but this user may not do that."""


class NotFound(StewardError):
    """404: absent, or not visible to this user."""


class Conflict(StewardError):
    """409: the object's state forbids the change (a frozen artifact, an unapproved version)."""


class PayloadTooLarge(StewardError):
    """413: the batch or file is past the server's cap."""


class ServerError(StewardError):
    """5xx: the server failed; retrying later may succeed."""


class Unreachable(StewardError):
    """No answer at all: connection refused, reset or timed out."""


class ChecksumMismatch(StewardError):
    """The server stored a file whose sha256 is not the one the client streamed."""


BY_STATUS: dict[int, type[StewardError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
}


def error_for(response: httpx.Response) -> StewardError:
    """The error a non-2xx response stands for, with the server's messages."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text[:2000]
    fields = body if isinstance(body, dict) else {}
    detail = fields.get("detail") if isinstance(fields.get("detail"), str) else None
    message = detail or _summary(fields) or f"HTTP {response.status_code}"
    message = f"{response.request.method} {response.request.url.path}: {message}"
    cls = BY_STATUS.get(response.status_code)
    if cls is None:
        cls = ServerError if response.status_code >= 500 else StewardError
    return cls(message, status=response.status_code, fields=fields, body=body)


def _summary(fields: dict[str, Any]) -> str:
    parts = []
    for name, messages in list(fields.items())[:5]:
        text = "; ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
        parts.append(f"{name}: {text}")
    return ", ".join(parts)


def is_retryable(error: StewardError) -> bool:
    """Worth sending again later: no answer, a server failure, or throttling (429)."""
    return isinstance(error, Unreachable | ServerError) or error.status in (408, 429)
