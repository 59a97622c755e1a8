"""What the two fuzz modules share: the roles, the operations left out, the schema's
operations."""

from __future__ import annotations

from typing import Any

# The matrix world's users: a superuser, a member of "reviewers", a user without any right.
ROLES = {"admin": "superuser", "reviewer": "reviewer", "outsider": "outsider"}
# Operations that are not part of the fuzzed surface, and why.
SKIPPED = {
    # Trades a password for a token: the fuzzer holds a token already, and hashing random
    # passwords adds nothing but time.
    ("POST", "/api/v1/auth/token/"),
    # Revokes the caller's own token: every request after it would be a 401 (h5, security).
    ("DELETE", "/api/v1/auth/token/"),
}


def operations(schema: Any) -> list[Any]:
    found = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) not in SKIPPED:
            found.append(operation)
    return found
