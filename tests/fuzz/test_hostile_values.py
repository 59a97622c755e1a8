"""Hostile values (`-k hostile`): take one generated request per example and replace one of
its fields (a path or query parameter, a top-level body property, or the whole body) with a
hostile value: integers past 64 bits, a 5,000-digit number, NaN / Infinity as text, lone
UTF-16 surrogates, NUL bytes, very long and odd Unicode strings. Every field of every
operation gets them, as every role; any 5xx fails it.

Select it with `pytest -m fuzz`; it runs in `make test`'s PostgreSQL phase.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from portal.security.tokens import token_create
from tests import matrix_support as ms
from tests.fuzz.support import ROLES, operations

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

# A 5,000-digit number cannot pass through Python's json (its int limit is 4,300 digits): the
# body carries this marker and the number is spliced into the encoded text.
HUGE = "__steward_5000_digits__"
HOSTILE_NUMBERS = [2**63, 2**64, -(2**63) - 1, 10**30, -(10**40), HUGE, 1e308, -0.0]
HOSTILE_TEXT = [
    "\ud800",
    "a\udfffb",
    "\x00",
    "a\x00b",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e999",
    "9" * 5000,
    str(2**63),
    str(2**64),
    "-" + str(2**63 + 1),
    "x" * 100_000,
    "\u202e\u200b\ufeff",
    "\U0001d54f" * 2000,
    "e\u0301" * 500,
    "../../etc/passwd",
    "' OR 1=1 --",
    " ",
    "",
]
HOSTILE = st.one_of(
    st.sampled_from(HOSTILE_NUMBERS),
    st.sampled_from(HOSTILE_TEXT),
    st.sampled_from([[], {}, None, True, [HUGE], {"\ud800": 1}, {"k": "\x00"}]),
    st.lists(st.sampled_from(HOSTILE_TEXT[:4]), min_size=1, max_size=3),
)
HOSTILE_EXAMPLES = 10  # at least, per operation and role: ~85 operations x 3 roles


def _ref(raw: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = raw["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def declared_fields(raw: dict[str, Any], operation: Any) -> list[tuple[str, str]]:
    """(location, name) of every parameter and top-level body property the schema declares,
    plus ("body", "") for the body as a whole."""
    spec = raw["paths"][operation.path][operation.method.lower()]
    found = [(p["in"], p["name"]) for p in spec.get("parameters", []) if p["in"] != "header"]
    content = spec.get("requestBody", {}).get("content", {})
    for media in content.values():
        body = _ref(raw, media.get("schema", {}))
        found += [("body", name) for name in body.get("properties", {})]
        found.append(("body", ""))
        break
    return sorted(set(found)) or [("query", "unknown")]


def _url_text(value: Any) -> str:
    text = "9" * 5000 if value == HUGE else str(value)
    # A lone surrogate reaches the server as the invalid UTF-8 bytes it would be.
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def _json_text(value: Any) -> str:
    return json.dumps(value).replace(json.dumps(HUGE), "9" * 5000)


def send_hostile(
    client: Client, operation: Any, case: Any, field: tuple[str, str], value: Any, token: str
) -> Any:
    where, name = field
    path_values = {k: str(v) for k, v in (case.path_parameters or {}).items()}
    query = {k: v for k, v in (case.query or {}).items()}
    body = case.body if isinstance(case.body, dict) else {}
    whole_body: Any = body
    if where == "path":
        path_values[name] = value
    elif where == "query":
        query[name] = value
    elif name:
        body = {**body, name: value}
        whole_body = body
    else:
        whole_body = value
    path = operation.path
    for key, item in path_values.items():
        path = path.replace("{" + key + "}", _url_text(item))
    pairs = []
    for key, item in query.items():
        for one in item if isinstance(item, list) else [item]:
            pairs.append(f"{quote(key)}={_url_text(one)}")
    method = operation.method.upper()
    extra = {"HTTP_AUTHORIZATION": f"Token {token}", "QUERY_STRING": "&".join(pairs)}
    if method in ("GET", "DELETE", "HEAD"):
        return client.generic(method, path, **extra)
    return client.generic(
        method, path, data=_json_text(whole_body), content_type="application/json", **extra
    )


def fuzz_hostile(operation: Any, raw: dict[str, Any], token: str, salt: int) -> str:
    """HOSTILE_EXAMPLES requests to one operation, each with one field hostile; the first 5xx
    (or exception) comes back as text ("" when none)."""
    fields = declared_fields(raw, operation)
    client = Client(raise_request_exception=False)
    baseline = operation.as_strategy(GenerationMode.POSITIVE)

    @seed(salt)
    @settings(
        max_examples=max(HOSTILE_EXAMPLES, len(fields) + 2),
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=baseline, field=st.sampled_from(fields), value=HOSTILE)
    def run(case: Any, field: tuple[str, str], value: Any) -> None:
        with transaction.atomic():
            response = send_hostile(client, operation, case, field, value, token)
            transaction.set_rollback(True)
        assert response.status_code < 500, (
            f"{field[0]} {field[1] or '(body)'} = {str(value)[:80]!r}: "
            f"{response.status_code} {response.content[:300]!r}"
        )

    try:
        run()
    except (Exception, BaseExceptionGroup) as exc:  # one operation's failure is reported
        return f"{operation.method.upper()} {operation.path}: {exc}"
    return ""


@pytest.mark.parametrize("role", list(ROLES))
def test_hostile_values_in_every_field_answer_no_server_error(role, schema):
    world = ms.build_world()
    _, secret = token_create(user=world.users[ROLES[role]], name="hostile fuzz")
    failures = []
    for index, operation in enumerate(operations(schema)):
        problem = fuzz_hostile(operation, schema.raw_schema, secret, index)
        if problem:
            failures.append(problem)
    assert not failures, f"{len(failures)} operations failed as {role}:\n\n" + "\n\n".join(failures)
