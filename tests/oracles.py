"""A guard against existence oracles: an endpoint must answer a hidden object's id or name
exactly as it answers one that does not exist.

`Probe` names one request with a `{}` where the probed value goes (in the path, the query or
the JSON body). `assert_no_oracle` sends it twice, once with the id of an object the caller
cannot see and once with an id nobody has, and requires the same status and the same body
once the two probed values, ids, slugs and timestamps are blanked out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

VOLATILE_KEYS = {"id", "slug", "created_at", "updated_at", "deployed_at", "requested_at"}
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)?")


@dataclass(frozen=True)
class Probe:
    """One request; every "{}" in `path` and in the string values of `data` gets the probed
    value (a value that is exactly "{}" gets it with its own type, so ids stay numbers)."""

    method: str
    path: str
    data: dict[str, Any] = field(default_factory=dict)

    def fill(self, value: Any) -> tuple[str, dict[str, Any]]:
        data = {
            key: value
            if item == "{}"
            else item.replace("{}", str(value))
            if isinstance(item, str)
            else item
            for key, item in self.data.items()
        }
        return self.path.replace("{}", str(value)), data

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} {self.data or ''}"


def _scrub(value: Any, probed: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return {k: "<v>" if k in VOLATILE_KEYS else _scrub(v, probed) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(item, probed) for item in value]
    if isinstance(value, str):
        for text in sorted(probed, key=len, reverse=True):
            value = value.replace(text, "<probe>")
        return TIMESTAMP.sub("<time>", value)
    return value


def answer(client: Any, probe: Probe, value: Any, probed: tuple[str, ...]) -> tuple[int, Any]:
    """Status and scrubbed body of `probe` sent with `value`."""
    path, data = probe.fill(value)
    if probe.method == "get":
        response = client.get(path, data)
    else:
        response = getattr(client, probe.method)(path, data, format="json")
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        body = raw.decode(errors="replace")
    return response.status_code, _scrub(body, probed)


def assert_no_oracle(client: Any, probe: Probe, *, hidden: Any, missing: Any) -> None:
    """`probe` answers `hidden` (exists, not visible to the client) as it answers `missing`."""
    probed = (str(hidden), str(missing))
    seen = answer(client, probe, hidden, probed)
    unseen = answer(client, probe, missing, probed)
    assert seen == unseen, f"{probe}: hidden {seen} != missing {unseen}"
