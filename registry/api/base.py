"""The base of every API viewset: querysets pass through `restrict(user, "view")` first.

An object the user may not see is therefore a 404 before any handler runs; a write the user
may not do is refused by the service with PermissionDenied, which answers 403.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from registry.choices import Action
from registry.querysets import RestrictedQuerySet


class RestrictedViewSet(viewsets.GenericViewSet):
    """Subclasses set `queryset` to a RestrictedQuerySet of a registry model."""

    def get_queryset(self) -> QuerySet[Any]:
        rows = cast("RestrictedQuerySet[Any]", super().get_queryset())
        return rows.restrict(self.request.user, Action.VIEW)

    def respond(self, serializer_class: type, instance: Any, *, status: int = 200) -> Response:
        return Response(
            serializer_class(instance, context=self.get_serializer_context()).data, status=status
        )

    def valid_input(self, serializer_class: type, request: Request) -> dict[str, Any]:
        serializer = serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
