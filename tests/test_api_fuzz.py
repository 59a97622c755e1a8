"""API fuzzing: schemathesis generates requests from the drf-spectacular schema and sends them
in-process (WSGI) as an admin, a reviewer and an outsider, over the permission matrix's world
(two models, each with datasets, versions, artifacts, deployments, approvals, alerts).

Every response must be no server error, carry a status the schema documents for the operation,
and have a body that conforms to the schema of that status. Each role sends at least
REQUESTS_PER_ROLE requests (counted by an `after_call` hook, so the test cannot pass on a
generator that produced nothing). Every request runs in a savepoint rolled back afterwards, so
a DELETE or an upload in one example leaves the world intact for the next.

A second test (`-k hostile`) takes one generated request per example and replaces one of its
fields (a path or query parameter, a top-level body property, or the whole body) with a
hostile value: integers past 64 bits, a 5,000-digit number, NaN / Infinity as text, lone
UTF-16 surrogates, NUL bytes, very long and odd Unicode strings. Every field of every
operation gets them, as every role; any 5xx fails it.

Select it with `pytest -m fuzz`; it runs in `make test` with the rest of the suite.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test import Client
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.security.tokens import token_create
from tests import matrix_support as ms

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

REQUESTS_PER_ROLE = 5_000
MIN_EXAMPLES = 20  # every operation is fuzzed, whatever the earlier ones used
# The matrix world's users: a superuser, a member of "reviewers", a user without any right.
ROLES = {"admin": "superuser", "reviewer": "reviewer", "outsider": "outsider"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Operations that are not part of the fuzzed surface, and why.
SKIPPED = {
    # Trades a password for a token: the fuzzer holds a token already, and hashing random
    # passwords adds nothing but time.
    ("POST", "/api/v1/auth/token/"),
    # Revokes the caller's own token: every request after it would be a 401 (h5, security).
    ("DELETE", "/api/v1/auth/token/"),
}


@pytest.fixture(scope="module")
def app() -> Any:
    return get_wsgi_application()


@pytest.fixture(scope="module")
def schema(app, django_db_blocker) -> Any:
    # Loading the schema is a request: Django's request signals look at any connection an
    # earlier test module left open, so database access must be allowed here.
    with django_db_blocker.unblock():
        return schemathesis.openapi.from_wsgi("/api/schema/?format=json", app)


@pytest.fixture
def same_connection() -> Iterator[None]:
    """Django's WSGI handler closes the connection at the end of a request when it is inside a
    transaction; the test's transaction must outlive every request (the test client does the
    same)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def operations(schema: Any) -> list[Any]:
    found = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) not in SKIPPED:
            found.append(operation)
    return found


def fuzz_operation(operation: Any, headers: dict[str, str], examples: int, salt: int) -> str:
    """Send up to `examples` generated requests (valid and invalid ones) to one operation;
    the first failure, shrunk by hypothesis, comes back as text ("" when none)."""
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @seed(salt)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
        print_blob=False,
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        with transaction.atomic():
            response = case.call(headers=headers)
            transaction.set_rollback(True)
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        run()
    except (Exception, BaseExceptionGroup) as exc:  # one operation's failure is reported
        return f"{operation.method.upper()} {operation.path}: {exc}"
    return ""


@pytest.mark.parametrize("role", list(ROLES))
def test_the_api_answers_every_generated_request_within_its_schema(role, schema, same_connection):
    world = ms.build_world()
    user = world.users[ROLES[role]]
    _, secret = token_create(user=user, name="fuzz")
    headers = {"Authorization": f"Token {secret}"}

    sent: Counter = Counter()

    @schema.hook("after_call")
    def count(context: Any, case: Any, response: Any) -> None:
        sent[f"{case.method} {case.path}"] += 1

    ops = operations(schema)
    failures = []
    try:
        for index, operation in enumerate(ops):
            # Share what is left among the operations left: one whose inputs run out early
            # (hypothesis stops when it has tried them all) leaves its share to the next.
            left = REQUESTS_PER_ROLE - sum(sent.values())
            examples = max(math.ceil(left / (len(ops) - index)), MIN_EXAMPLES)
            problem = fuzz_operation(operation, headers, examples, index)
            if problem:
                failures.append(problem)
    finally:
        schema.hooks.unregister(count)

    total = sum(sent.values())
    assert not failures, f"{len(failures)} operations failed as {role}:\n\n" + "\n\n".join(failures)
    assert total >= REQUESTS_PER_ROLE, f"only {total} requests as {role}: {sent.most_common()}"


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
