"""API answers are never stored by a browser or a proxy: they carry tokens, audit entries and
model data for one user. `Cache-Control: no-store` on every /api/ response, errors included."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from portal.security.limits import API_PREFIX


class NoStoreAPIMiddleware:
    """Outermost but for SecurityMiddleware, so the 413s and 500s below it are marked too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(API_PREFIX):
            add_never_cache_headers(response)
        return response
