"""`/api/v1/models/{slug}/access/`: list (manage access needed), grant (POST) and revoke
(DELETE) per-model rights; the service checks and audits."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.access import services as access
from registry.actors import acting_user
from registry.choices import Action
from registry.models import RegisteredModel


class AccessInput(serializers.Serializer):
    user = serializers.CharField(required=False, max_length=150)
    group = serializers.CharField(required=False, max_length=150)
    actions = serializers.ListField(
        child=serializers.ChoiceField(choices=Action.choices), min_length=1, max_length=20
    )

    def validate_actions(self, value: list[str]) -> list[str]:
        # Offer only what the requesting user may grant (the service enforces it too).
        grantable = access.grantable_actions(self.context["actor"])
        refused = sorted(set(value) - set(grantable))
        if refused:
            raise serializers.ValidationError(
                f"you may grant and revoke only {', '.join(grantable)} "
                f"(approval rights are given by admins); not: {', '.join(refused)}"
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("user")) == bool(attrs.get("group")):
            raise serializers.ValidationError({"user": "name either a user or a group"})
        kind = "user" if attrs.get("user") else "group"
        found = access.principal_find(kind=kind, name=attrs[kind])
        if found is None:
            raise serializers.ValidationError({kind: f"no {kind} {attrs[kind]!r}"})
        attrs["principal"] = found
        return attrs


def _visible_model(request: Request, slug: str) -> RegisteredModel:
    return get_object_or_404(RegisteredModel.objects.restrict(request.user, Action.VIEW), slug=slug)


class ModelAccessView(APIView):
    """Per-model grants: list (manage_access needed), grant (POST), revoke (DELETE)."""

    @extend_schema(responses=dict)
    def get(self, request: Request, slug: str) -> Response:
        model = _visible_model(request, slug)
        if (
            not RegisteredModel.objects.restrict(request.user, Action.MANAGE_ACCESS)
            .filter(pk=model.pk)
            .exists()
        ):
            raise PermissionDenied(f"you may not manage access to {model}")
        return Response({"owner": model.owner.username, "grants": access.access_list(model=model)})

    @extend_schema(request=AccessInput, responses=dict)
    def post(self, request: Request, slug: str) -> Response:
        return self._change(request, slug, access.access_grant)

    @extend_schema(request=AccessInput, responses=dict)
    def delete(self, request: Request, slug: str) -> Response:
        return self._change(request, slug, access.access_revoke)

    def _change(self, request: Request, slug: str, service: Any) -> Response:
        model = _visible_model(request, slug)
        data = AccessInput(data=request.data, context={"actor": request.user})
        data.is_valid(raise_exception=True)
        held = service(
            model=model,
            principal=data.validated_data["principal"],
            actions=data.validated_data["actions"],
            actor=acting_user(request),
        )
        return Response({"actions": held})
