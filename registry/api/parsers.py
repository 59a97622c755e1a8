"""The API's JSON parser: DRF's, reading through `registry.safe_json` (depth, size of objects,
64-bit integers, no NaN), so a hostile body is a 400 naming the problem, never a 500."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from registry import safe_json


class JSONParser(parsers.JSONParser):
    """Set as the API's default (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]); views that name
    their parsers name this one."""

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read()
        try:
            text = raw if encoding.lower().replace("_", "-") == "utf-8" else raw.decode(encoding)
            # Lone surrogates and integers past 64 bits reach the serializers, which refuse them
            # naming the field (registry.limits, bounded id fields).
            return safe_json.loads(text, strict_values=False)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - the body is not {encoding} text") from exc
        except safe_json.JSONInputError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
