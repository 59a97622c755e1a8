"""Binds a request id and the client address for the audit entries a request writes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from governance.audit.context import AuditContext, bound

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        ctx = AuditContext(request_id=request_id, remote_addr=request.META.get("REMOTE_ADDR", ""))
        with bound(ctx):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
