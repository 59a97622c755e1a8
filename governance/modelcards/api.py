"""Model card API: read a version's card (latest revision or pre-filled draft, each section
with its source) and its revisions; save a new revision with PUT or POST.

Versions are looked up through `restrict(user, "view")` (404 for one the user cannot see);
saving needs "change" on the model, which the service checks (403); a frozen card is 409."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.modelcards import sections, selectors, services
from governance.modelcards.models import ModelCardRevision
from registry import limits
from registry.actors import acting_user
from registry.api.parsers import JSONParser
from registry.choices import Action
from registry.models import ModelVersion


class CardInput(serializers.Serializer):
    text = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=sections.MAX_TEXT),
        help_text=f"Sections to change, by key: {', '.join(sections.TEXT_KEYS)}.",
        # each character is at most 6 bytes of JSON (an escaped control character), plus keys
        validators=[
            limits.JsonCap(
                items=len(sections.TEXT_KEYS),
                json_bytes=len(sections.TEXT_KEYS) * (sections.MAX_TEXT * 6 + 100),
            )
        ],
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    sensitive_attribute = serializers.CharField(
        required=False, allow_blank=True, max_length=200, default=None, allow_null=True
    )


class RevisionSerializer(serializers.ModelSerializer):
    edited_by = serializers.CharField(source="edited_by.username")

    class Meta:
        model = ModelCardRevision
        fields = ["number", "digest", "note", "edited_by", "created_at"]


def _visible_version(request: Request, pk: int) -> ModelVersion:
    versions = ModelVersion.objects.restrict(request.user, Action.VIEW).select_related("model")
    return get_object_or_404(versions, pk=pk)


def _body(version: ModelVersion) -> dict[str, Any]:
    return selectors.model_card_for(version) | {
        "revisions": RevisionSerializer(selectors.card_revisions(version), many=True).data
    }


class ModelCardView(APIView):
    """A version's model card. PUT (or POST) `{"text": {section: text}, "note": ""}` saves
    a new revision: sections not given keep their text."""

    parser_classes = [JSONParser]

    @extend_schema(operation_id="version_model_card", responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        return Response(_body(_visible_version(request, pk)))

    @extend_schema(
        operation_id="version_model_card_save", request=CardInput, responses=OpenApiTypes.OBJECT
    )
    def put(self, request: Request, pk: int) -> Response:
        version = _visible_version(request, pk)
        payload = CardInput(data=request.data)
        payload.is_valid(raise_exception=True)
        services.card_save(
            version=version,
            actor=acting_user(request),
            text=payload.validated_data["text"],
            note=payload.validated_data["note"],
            sensitive_attribute=payload.validated_data["sensitive_attribute"],
        )
        return Response(_body(version))

    @extend_schema(
        operation_id="version_model_card_create",
        request=CardInput,
        responses=OpenApiTypes.OBJECT,
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.put(request, pk)
