"""Errors the registry's services raise besides Django's ValidationError (400)."""

from __future__ import annotations


class ConflictError(Exception):
    """The request is well formed but the object's state forbids it (HTTP 409)."""

    code = "conflict"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidTransition(ConflictError):
    code = "invalid_transition"


class FrozenError(ConflictError):
    code = "frozen"
