"""The OpenAPI schema's error answers: every operation documents the error statuses the API's
plumbing gives it (authentication, permissions, validation, missing objects, conflicts, body
size and media type), with the bodies portal.api.exception_handler writes.

Views declare their success answers (and any error with a body of its own, such as the
ingestion endpoints' 400 with per-row errors); an error status a view declares wins.
"""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.permissions import AllowAny

ERROR = "Error"
VALIDATION_ERROR = "ValidationError"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "What went wrong, in `detail`; a conflict also names its `code`.",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail"],
}
VALIDATION_ERROR_SCHEMA: dict[str, Any] = {
    "description": (
        "The fields that were refused, each with its messages (`non_field_errors` for the "
        "request as a whole); a list body is answered item by item; or a `detail`."
    ),
    "oneOf": [{"type": "object"}, {"type": "array"}],
}

DESCRIPTIONS = {
    "400": "The request was refused: a field, a filter or a parameter is not valid.",
    "401": "No credentials, or credentials that are not valid (any more).",
    "403": "Signed in, but without the right this operation needs.",
    "404": "No such object, or one the requester may not see (or a page past the last).",
    "409": "The object's state does not allow this change.",
    "413": "The request body is larger than the server accepts.",
    "415": "The request body's media type is not one the operation reads.",
}


class StewardAutoSchema(AutoSchema):
    """drf-spectacular's schema plus the error answers every operation can give."""

    def _get_response_bodies(
        self, direction: Literal["request", "response"] = "response"
    ) -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self.error_statuses():
            if code not in responses:
                responses[code] = self._error_response(code)
        return responses

    def error_statuses(self) -> list[str]:
        """The error statuses the API's plumbing can answer this operation with."""
        codes = []
        has_body = self.method in ("POST", "PUT", "PATCH")
        if self._needs_authentication():
            codes += ["401", "403"]
        if has_body or self._has_query_parameters():
            codes.append("400")
        # A path's object, an object a body or a filter names (one the requester may not see
        # answers as one that does not exist), or a page past the last.
        if has_body or self._has_path_parameters() or self._has_query_parameters():
            codes.append("404")
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes.append("409")
        if has_body:
            codes += ["413", "415"]
        return codes

    def _needs_authentication(self) -> bool:
        permissions = getattr(self.view, "permission_classes", ())
        return not permissions or any(p is not AllowAny for p in permissions)

    def _has_path_parameters(self) -> bool:
        return "{" in self.path

    def _has_query_parameters(self) -> bool:
        if self._is_list_view() and self.method == "GET":
            return True
        return any(p.get("in") == "query" for p in self._get_parameters())

    def _error_response(self, code: str) -> dict[str, Any]:
        name, schema = (
            (VALIDATION_ERROR, VALIDATION_ERROR_SCHEMA) if code == "400" else (ERROR, ERROR_SCHEMA)
        )
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema
        )
        self.registry.register_on_missing(component)
        # An error is rendered like any answer, by the renderer the request negotiated: JSON,
        # or the text of another format (the audit export's CSV).
        content = {
            media_type: {"schema": component.ref if "json" in media_type else {"type": "string"}}
            for media_type in self.map_renderers("media_type")
        }
        return {"description": DESCRIPTIONS[code], "content": content}
