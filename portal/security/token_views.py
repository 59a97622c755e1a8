"""API tokens over the API.

`POST /api/v1/auth/token/` exchanges a user name and password for a new token; `DELETE` on it
revokes the token the request came with (with a session: all of the caller's tokens).
`/api/v1/auth/tokens/` lists the caller's tokens and creates a named one; `DELETE
/api/v1/auth/tokens/{id}/` revokes one. Secrets are in the creation answer only.
"""

from __future__ import annotations

from typing import Any

from axes.helpers import get_cool_off
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.models import ApiToken
from portal.security.lockout import LOCKED_OUT_STATUS, lockout_message
from portal.security.tokens import token_create, token_issue, token_revoke, token_revoke_one
from registry.actors import acting_user


class TokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at"]


class IssuedTokenSerializer(TokenSerializer):
    token = serializers.CharField(help_text="The secret: shown in this answer only.")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]


class PasswordTokenInput(AuthTokenSerializer):
    username = serializers.CharField(label="Username", write_only=True, max_length=150)
    password = serializers.CharField(
        label="Password",
        style={"input_type": "password"},
        trim_whitespace=False,
        write_only=True,
        max_length=4096,
    )
    name = serializers.CharField(max_length=100, required=False, default="api")


class TokenCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


def _issued(token: ApiToken, secret: str) -> dict[str, Any]:
    return TokenSerializer(token).data | {"token": secret}


class TokenView(APIView):
    """Exchange a user name and password for a new API token; revoke the token you hold."""

    serializer_class = PasswordTokenInput
    throttle_classes = ()

    def get_permissions(self) -> list[Any]:
        return [IsAuthenticated()] if self.request.method == "DELETE" else [AllowAny()]

    @extend_schema(
        request=PasswordTokenInput,
        responses={
            200: IssuedTokenSerializer,
            400: OpenApiResponse(description="wrong credentials"),
            429: OpenApiResponse(description="locked out after repeated failures"),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = PasswordTokenInput(data=request.data, context={"request": request})
        if not serializer.is_valid():
            # django-axes flags the DRF request when the pair is (or just became) locked out.
            if getattr(request, "axes_locked_out", False):
                return Response(
                    {"detail": lockout_message(get_cool_off(request)), "code": "locked_out"},
                    status=LOCKED_OUT_STATUS,
                )
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        data = serializer.validated_data
        token, secret = token_issue(user=data["user"], name=data["name"])
        return Response(_issued(token, secret))

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        if isinstance(request.auth, ApiToken):
            token_revoke_one(
                actor=acting_user(request), token=request.auth, reason="revoked by its holder"
            )
        else:
            holder = acting_user(request)
            token_revoke(actor=holder, user=holder, reason="revoked by their holder")
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenListView(APIView):
    """Your API tokens (never their secrets); create a named one."""

    serializer_class = TokenCreateInput

    @extend_schema(responses=TokenSerializer(many=True))
    def get(self, request: Request) -> Response:
        tokens = ApiToken.objects.filter(user=acting_user(request))
        return Response(TokenSerializer(tokens, many=True).data)

    @extend_schema(request=TokenCreateInput, responses={201: IssuedTokenSerializer})
    def post(self, request: Request) -> Response:
        serializer = TokenCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, secret = token_create(user=acting_user(request), **serializer.validated_data)
        return Response(_issued(token, secret), status=status.HTTP_201_CREATED)


class TokenDetailView(APIView):
    """Revoke one of your tokens; your other clients keep theirs."""

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        token = get_object_or_404(ApiToken.objects.filter(user=acting_user(request)), pk=pk)
        token_revoke_one(actor=acting_user(request), token=token, reason="revoked by its holder")
        return Response(status=status.HTTP_204_NO_CONTENT)
