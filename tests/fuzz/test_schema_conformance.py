"""API fuzzing: schemathesis generates requests from the drf-spectacular schema and sends them
in-process (WSGI) as an admin, a reviewer and an outsider, over the permission matrix's world
(two models, each with datasets, versions, artifacts, deployments, approvals, alerts).

Every response must be no server error, carry a status the schema documents for the operation,
and have a body that conforms to the schema of that status. Each role sends at least
REQUESTS_PER_ROLE requests (counted by an `after_call` hook, so the test cannot pass on a
generator that produced nothing). Every request runs in a savepoint rolled back afterwards, so
a DELETE or an upload in one example leaves the world intact for the next.

Select it with `pytest -m fuzz`; it runs in `make test`'s PostgreSQL phase.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pytest
from django.db import transaction
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
from tests.fuzz.support import ROLES, operations

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

REQUESTS_PER_ROLE = 5_000
MIN_EXAMPLES = 20  # every operation is fuzzed, whatever the earlier ones used
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


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
