"""Hostile JSON bodies: deep nesting, huge objects, numbers and strings the parsers disagree on.
Every route that reads a body answers 4xx naming the problem, never a 500 (issue #19, 3)."""

from __future__ import annotations

import re

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from registry import safe_json
from tests import factories

pytestmark = pytest.mark.django_db

DEEP = b"[" * 20_000 + b"]" * 20_000
WRITES = {"post", "put", "patch", "delete"}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (DEEP, "nested deeper than 64 levels"),
        (b"[" * 65 + b"]" * 65, "nested deeper than 64 levels"),
        (b"{" + b",".join(b'"k%d":1' % i for i in range(10_001)) + b"}", "more than 10,000"),
        (b"[18446744073709551616]", "does not fit in 64 bits"),
        (b"[-9223372036854775809]", "does not fit in 64 bits"),
        (b'{"n": 1' + b"0" * 5000 + b"}", "too large"),
        (b"[NaN]", "NaN and Infinity"),
        (b"[-Infinity]", "NaN and Infinity"),
        (b"[1e400]", "too large for a 64-bit float"),
        (b'["\\ud800"]', "lone UTF-16 surrogate"),
        (b'["\xed\xa0\x80"]', "not UTF-8"),
        (b"\xff", "not UTF-8"),
        (b"[1,", "not valid JSON"),
    ],
)
def test_safe_json_refuses_and_names_the_problem(body, says):
    with pytest.raises(safe_json.JSONInputError, match=re.escape(says)):
        safe_json.loads(body)


def test_safe_json_keeps_what_json_allows_within_the_limits():
    assert safe_json.loads(b"[" * 64 + b"]" * 64) is not None
    edge = b'{"u": 18446744073709551615, "i": -9223372036854775808, "s": "12345678901234567890"}'
    assert safe_json.loads(edge) == {
        "u": 2**64 - 1,
        "i": -(2**63),
        "s": "12345678901234567890",
    }
    assert safe_json.loads('"caf\u00e9 \U0001f600"') == "caf\u00e9 \U0001f600"


def _schema_writes() -> list[tuple[str, str]]:
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    return [(m, p) for p, ops in paths.items() for m in ops if m in WRITES]


@pytest.fixture
def world(owner, model_a):
    version = factories.model_version(model=model_a)
    deployment = factories.deployment(version=version)
    artifact = factories.services.artifact_upload(
        version=version, actor=owner, upload=factories.binary_upload(), kind="model"
    )
    ids = {"versions": version.pk, "deployments": deployment.pk, "artifacts": artifact.pk}
    return {"slug": model_a.slug, "ids": ids}


def _concrete(path: str, world: dict) -> str:
    path = path.replace("{slug}", world["slug"])
    section = path.split("/")[3]
    return re.sub(r"\{[^}]+\}", str(world["ids"].get(section, 1)), path)


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_a_20000_deep_body_is_a_4xx_on_every_write_route(world, owner, signed_in):
    writes = _schema_writes()
    assert len(writes) > 30, "the schema walk found too few routes"
    client = APIClient()
    client.raise_request_exception = False
    if signed_in:
        client.force_authenticate(user=owner)
    answers = {}
    for method, path in writes:
        url = _concrete(path, world)
        response = getattr(client, method)(url, data=DEEP, content_type="application/json")
        answers[f"{method.upper()} {url}"] = response.status_code
    assert {k: v for k, v in answers.items() if v >= 500} == {}
    if signed_in:
        refused = [k for k, v in answers.items() if v == 400]
        assert len(refused) > 15, answers  # the parser was reached, not only 403/404s


def test_the_token_endpoint_names_the_depth_problem_to_anyone(api):
    response = api.post("/api/v1/auth/token/", data=DEEP, content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper than 64 levels" in response.json()["detail"]


def test_the_api_parser_answers_400_for_what_orjson_and_json_disagree_on(api_as, owner):
    # NaN is refused by the parser; a lone surrogate and an integer past 64 bits reach the
    # serializer, which names the field holding them.
    client = api_as(owner)
    nan = client.post(
        "/api/v1/models/", data=b'{"name": "n", "tags": [NaN]}', content_type="application/json"
    )
    assert nan.status_code == 400 and "NaN and Infinity" in nan.json()["detail"]
    lone = client.post(
        "/api/v1/models/", data=b'{"name": "\\udc00"}', content_type="application/json"
    )
    assert lone.status_code == 400 and "name" in lone.json(), lone.content
    huge = client.post(
        "/api/v1/approvals/",
        data=b'{"version": 18446744073709551616, "kind": "staging"}',
        content_type="application/json",
    )
    assert huge.status_code == 400 and "version" in huge.json(), huge.content


@pytest.mark.parametrize("content_type", ["application/json", "application/x-ndjson"])
@pytest.mark.parametrize(
    ("body", "says"),
    [
        (DEEP, "nested deeper"),
        (b'[{"request_id": "r", "score": NaN}]', "NaN"),
        (b'[{"request_id": "\\ud800"}]', "surrogate"),
    ],
)
def test_ingestion_answers_400_naming_the_problem(api_as, owner, world, content_type, body, says):
    url = f"/api/v1/deployments/{world['ids']['deployments']}/predictions/"
    if content_type == "application/x-ndjson" and body.startswith(b"[{"):
        body = body[1:-1]  # the one object on its line
    response = api_as(owner).post(url, data=body, content_type=content_type)
    assert response.status_code == 400, response.content[:300]
    assert says in response.json()["detail"]


def test_a_json_string_in_a_form_field_is_read_with_the_same_limits(api_as, owner, model_a):
    response = api_as(owner).post(
        "/api/v1/datasets/",
        {
            "model": model_a.slug,
            "name": "train",
            "kind": "training",
            "file": factories.csv_upload(),
            "schema": DEEP.decode(),
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert "nested deeper than 64 levels" in str(response.json()["schema"])
