"""Log predictions from serving code: an ASGI middleware for FastAPI / Starlette and a
decorator for plain functions. Both time the call, catch its errors, ask a user function
what the features and the prediction were, and hand one row to a `PredictionLogger` (which
only enqueues). Neither needs Starlette at import time: the middleware speaks plain ASGI."""

from __future__ import annotations

import functools
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, ParamSpec, Protocol, TypeVar

log = logging.getLogger("steward_client.serving")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
P = ParamSpec("P")
R = TypeVar("R")
REQUEST_ID_HEADER = "x-request-id"


class Logs(Protocol):
    def log(
        self,
        request_id: str,
        features: Mapping[str, Any],
        prediction: Any = None,
        score: float | None = None,
        latency_ms: float | None = None,
        **kwargs: Any,
    ) -> None: ...


@dataclass
class Logged:
    """What an extractor returns: the features, and the prediction when there was one."""

    features: Mapping[str, Any]
    prediction: Any = None
    score: float | None = None
    request_id: str | None = None


@dataclass
class Exchange:
    """One HTTP request and (unless the app raised) its response, bodies included."""

    method: str
    path: str
    request_headers: dict[str, str]
    request_body: bytes
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""

    def request_json(self) -> Any:
        return json.loads(self.request_body or b"null")

    def response_json(self) -> Any:
        return json.loads(self.response_body or b"null")


Extractor = Callable[[Exchange], Logged | None]


class StewardMiddleware:
    """ASGI middleware: `app.add_middleware(StewardMiddleware, logger=..., extract=...)`.

    `extract(exchange)` returns a `Logged` for requests that are predictions and None for
    the rest. The request id is the client's `X-Request-ID` or a new one, echoed back in the
    response's `X-Request-ID` so ground truth can name it later. Bodies past `max_body`
    bytes are not logged."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        logger: Logs,
        extract: Extractor,
        paths: tuple[str, ...] = ("/",),
        max_body: int = 1024 * 1024,
    ) -> None:
        self.app = app
        self.logger = logger
        self.extract = extract
        self.paths = paths
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.paths):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = headers.get(REQUEST_ID_HEADER) or uuid.uuid4().hex
        exchange = Exchange(scope["method"], scope["path"], headers, b"")
        request_chunks: list[bytes] = []
        response_chunks: list[bytes] = []
        sizes = [0, 0]

        async def receive_and_keep() -> Message:
            message = await receive()
            if message["type"] == "http.request" and sizes[0] <= self.max_body:
                chunk = message.get("body", b"")
                sizes[0] += len(chunk)
                request_chunks.append(chunk)
            return message

        async def send_and_keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
                exchange.response_headers = {
                    k.decode("latin-1").lower(): v.decode("latin-1")
                    for k, v in message.get("headers", [])
                }
                message = dict(message)
                message["headers"] = [
                    *[
                        (k, v)
                        for k, v in message.get("headers", [])
                        if k.lower() != b"x-request-id"
                    ],
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            elif message["type"] == "http.response.body" and sizes[1] <= self.max_body:
                chunk = message.get("body", b"")
                sizes[1] += len(chunk)
                response_chunks.append(chunk)
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive_and_keep, send_and_keep)
        except Exception as exc:
            exchange.request_body = b"".join(request_chunks)
            self._record(exchange, request_id, started, error=exc)
            raise
        if sizes[0] > self.max_body or sizes[1] > self.max_body:
            return
        exchange.request_body = b"".join(request_chunks)
        exchange.response_body = b"".join(response_chunks)
        self._record(exchange, request_id, started)

    def _record(
        self, exchange: Exchange, request_id: str, started: float, error: Exception | None = None
    ) -> None:
        latency = (time.perf_counter() - started) * 1000
        try:
            logged = self.extract(exchange)
        except Exception:  # a broken extractor must not break serving
            log.exception("steward extractor failed on %s %s", exchange.method, exchange.path)
            return
        if logged is None:
            return
        failed = error is not None or (exchange.status or 500) >= 500
        message = repr(error)[:1000] if error is not None else ""
        if failed and not message:
            message = f"HTTP {exchange.status}"
        self.logger.log(
            logged.request_id or request_id,
            logged.features,
            None if failed else logged.prediction,
            None if failed else logged.score,
            latency,
            status="error" if failed else "ok",
            error=message or None,
        )


def log_predictions(
    logger: Logs, extract: Callable[[tuple[Any, ...], dict[str, Any], Any], Logged | None]
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a plain prediction function. `extract(args, kwargs, result)` gives the row
    (`result` is None when the function raised; the error is logged and raised again)."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            started = time.perf_counter()
            try:
                result = function(*args, **kwargs)
            except Exception as exc:
                _log_call(logger, extract, args, kwargs, None, started, exc)
                raise
            _log_call(logger, extract, args, kwargs, result, started, None)
            return result

        return wrapper

    return decorate


def _log_call(
    logger: Logs,
    extract: Callable[[tuple[Any, ...], dict[str, Any], Any], Logged | None],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    result: Any,
    started: float,
    error: Exception | None,
) -> None:
    latency = (time.perf_counter() - started) * 1000
    try:
        logged = extract(args, kwargs, result)
    except Exception:
        log.exception("steward extractor failed")
        return
    if logged is None:
        return
    logger.log(
        logged.request_id or uuid.uuid4().hex,
        logged.features,
        None if error else logged.prediction,
        None if error else logged.score,
        latency,
        status="error" if error else "ok",
        error=repr(error)[:1000] if error else None,
    )
