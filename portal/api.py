"""API plumbing shared by every app's viewsets: error bodies that name the field, and
answers a client can act on when the database or the disk is unavailable."""

from __future__ import annotations

import errno
import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from rest_framework import exceptions, renderers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from portal.security.limits import form_too_large_detail
from registry.errors import ConflictError

logger = logging.getLogger(__name__)

# Seconds a client should wait before retrying when the database is unreachable.
RETRY_AFTER_S = 5
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


def _django_validation_detail(exc: DjangoValidationError) -> Any:
    if hasattr(exc, "error_dict"):
        return {
            field: [str(m) for e in errors for m in e.messages]
            for field, errors in exc.error_dict.items()
        }
    return {"non_field_errors": exc.messages}


def _unavailable(exc: Exception) -> Response:
    """The database went away (restart, failover, a killed connection): the request's
    transaction was rolled back, so the client may send the same request again."""
    logger.warning("database unavailable, answering 503: %s", exc)
    set_rollback()
    return Response(
        {"detail": "the database is unavailable; nothing was stored, retry later"},
        status=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def _storage_full(exc: OSError) -> Response:
    logger.error("file storage is full, answering 507: %s", exc)
    set_rollback()
    return Response(
        {"detail": "the file storage is full; nothing was stored"},
        status=status.HTTP_507_INSUFFICIENT_STORAGE,
    )


class _AsciiJSONRenderer(renderers.JSONRenderer):
    ensure_ascii = True


class JSONRenderer(renderers.JSONRenderer):
    """DRF's renderer, except that a string UTF-8 cannot encode (a lone surrogate an error
    message quotes back from the request) is escaped as \\uXXXX instead of failing (a 500)."""

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            return _AsciiJSONRenderer().render(data, accepted_media_type, renderer_context)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus Django's ValidationError (400), PermissionDenied (403), the
    services' ConflictError (409), a lost database (503 with Retry-After) and a full disk
    (507)."""
    if isinstance(exc, OperationalError | InterfaceError):
        return _unavailable(exc)
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
        return _storage_full(exc)
    if isinstance(exc, RequestDataTooBig):  # form fields over DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response({"detail": form_too_large_detail()}, status=413)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_validation_detail(exc))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, ConflictError):
        return Response({"detail": exc.message, "code": exc.code}, status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)
