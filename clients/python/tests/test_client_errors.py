"""Each refusal becomes its own StewardError subclass carrying the server's field messages."""

from __future__ import annotations

import httpx
import pytest
from steward_client import errors


def response(status: int, body: object) -> httpx.Response:
    request = httpx.Request("POST", "http://steward.test/api/v1/models/")
    return httpx.Response(status, json=body, request=request)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.BadRequest),
        (401, errors.Unauthorized),
        (403, errors.Forbidden),
        (404, errors.NotFound),
        (409, errors.Conflict),
        (413, errors.PayloadTooLarge),
        (500, errors.ServerError),
        (503, errors.ServerError),
    ],
)
def test_each_status_has_its_error_class(status, cls):
    error = errors.error_for(response(status, {"detail": "no"}))
    assert type(error) is cls and error.status == status
    assert isinstance(error, errors.StewardError)
    assert "/api/v1/models/" in str(error) and "no" in str(error)


def test_field_messages_are_kept_and_named_in_the_message():
    body = {"task": ['"clustering" is not a valid choice.']}
    error = errors.error_for(response(400, body))
    assert error.fields == body
    assert 'task: "clustering" is not a valid choice.' in str(error)


def test_a_body_that_is_not_json_still_makes_an_error():
    request = httpx.Request("GET", "http://steward.test/api/v1/x/")
    error = errors.error_for(httpx.Response(502, text="<html>bad gateway</html>", request=request))
    assert isinstance(error, errors.ServerError) and error.fields == {}


def test_what_is_worth_retrying():
    assert errors.is_retryable(errors.Unreachable("refused"))
    assert errors.is_retryable(errors.ServerError("boom", status=503))
    assert errors.is_retryable(errors.StewardError("slow down", status=429))
    assert not errors.is_retryable(errors.BadRequest("bad", status=400))
    assert not errors.is_retryable(errors.Conflict("frozen", status=409))
