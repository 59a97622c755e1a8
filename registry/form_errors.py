"""One way to show a service's refusal on a web form, for every app's pages.

Services raise `ValidationError` (with field names, or without), `ConflictError` or
`PermissionDenied`; a page shows each message beside the field it names, and everything else
above the form. It lives in the registry, the app every other app may import.
"""

from __future__ import annotations

from collections.abc import Mapping

from django import forms
from django.core.exceptions import ValidationError


def error_text(exc: Exception) -> str:
    """A refusal as one line (for a message or a non-field error)."""
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(m for msgs in exc.message_dict.values() for m in msgs)
        return "; ".join(exc.messages)
    return getattr(exc, "message", None) or str(exc) or "you may not do this"


def show_service_error(
    form: forms.Form,
    exc: Exception,
    *,
    rename: Mapping[str, str] | None = None,
    unnamed_field: str | None = None,
) -> None:
    """Put a service's refusal on `form`: each message beside the (visible) field it names,
    the service's field names mapped by `rename`; messages naming no field go beside
    `unnamed_field` if given, else above the form, as do conflicts and refusals."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for key, messages in exc.message_dict.items():
            name = (rename or {}).get(key, key)
            visible = name in form.fields and not form[name].is_hidden
            for message in messages:
                form.add_error(name if visible else None, message)
    elif isinstance(exc, ValidationError):
        for message in exc.messages:
            form.add_error(unnamed_field, message)
    else:
        form.add_error(None, error_text(exc))
