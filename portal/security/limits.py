"""Request size caps: a body that is too large answers 413, never a 400 or a 500.

Two limits apply. STEWARD_MAX_REQUEST_BYTES refuses any body by its Content-Length before a
view reads it. Django's DATA_UPLOAD_MAX_MEMORY_SIZE refuses form fields (not files) that are
too large while the body is parsed, raising RequestDataTooBig; the API's exception handler and
`bad_request` below turn that into the same 413.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults

API_PREFIX = "/api/"


def declared_length(meta: dict) -> int:
    """The request's Content-Length, or 0 when absent or unreadable."""
    try:
        return max(int(meta.get("CONTENT_LENGTH") or 0), 0)
    except (TypeError, ValueError):
        return 0


def size_message(limit_bytes: int) -> str:
    megabytes = limit_bytes / (1024 * 1024)
    return (
        f"The request body is larger than this server accepts ({megabytes:,.1f} MB; "
        "STEWARD_MAX_UPLOAD_MB sets it)."
    )


def too_large(request: HttpRequest, message: str) -> HttpResponse:
    """413 as JSON for the API, as a page for people."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": message}, status=413)
    return HttpResponse(render_to_string("413.html", {"message": message}), status=413)


class RequestSizeLimitMiddleware:
    """Refuse a body whose declared length is over STEWARD_MAX_REQUEST_BYTES."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.STEWARD_MAX_REQUEST_BYTES
        if declared_length(request.META) > limit:
            return too_large(request, size_message(limit))
        return self.get_response(request)


def form_too_large_detail() -> str:
    megabytes = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
    return (
        f"The form fields of this request are larger than {megabytes:,.1f} MB; send large "
        "data as a file upload."
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: a form body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413, the rest Django's."""
    if isinstance(exception, RequestDataTooBig):
        return too_large(request, form_too_large_detail())
    return defaults.bad_request(request, exception or Exception("bad request"))
