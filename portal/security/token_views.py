"""POST /api/v1/auth/token/ issues (or returns) your token; DELETE revokes it."""

from __future__ import annotations

from typing import Any

from axes.helpers import get_cool_off
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.security.lockout import LOCKED_OUT_STATUS, lockout_message
from portal.security.tokens import expires_at, token_issue, token_revoke, token_ttl

TOKEN_BODY = inline_serializer(
    "IssuedToken", {"token": serializers.CharField(), "expires_at": serializers.DateTimeField()}
)


class TokenView(APIView):
    """Exchange a user name and password for an API token; revoke the token you hold."""

    serializer_class = AuthTokenSerializer
    throttle_classes = ()

    def get_permissions(self) -> list[Any]:
        return [IsAuthenticated()] if self.request.method == "DELETE" else [AllowAny()]

    @extend_schema(
        request=AuthTokenSerializer,
        responses={
            200: TOKEN_BODY,
            400: OpenApiResponse(description="wrong credentials"),
            429: OpenApiResponse(description="locked out after repeated failures"),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        if not serializer.is_valid():
            # django-axes flags the DRF request when the pair is (or just became) locked out.
            if getattr(request, "axes_locked_out", False):
                return Response(
                    {"detail": lockout_message(get_cool_off(request)), "code": "locked_out"},
                    status=LOCKED_OUT_STATUS,
                )
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        token = token_issue(user=serializer.validated_data["user"])
        return Response({"token": token.key, "expires_at": expires_at(token.created, token_ttl())})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        token_revoke(actor=request.user, user=request.user, reason="revoked by its holder")
        return Response(status=status.HTTP_204_NO_CONTENT)
