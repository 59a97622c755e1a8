"""Readiness API: the checklist template, a version's readiness, and answering.

Versions are looked up through `restrict(user, "view")` (404 for one the user cannot see);
answering needs "change" on the model, which the service checks (403).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.readiness import selectors, services
from governance.readiness.api import serializers as s
from registry.actors import acting_user
from registry.api.parsers import JSONParser
from registry.choices import Action
from registry.models import ModelVersion

ANSWER_PAYLOAD = PolymorphicProxySerializer(
    component_name="ReadinessAnswerPayload",
    serializers=[s.ReadinessAnswerInputSerializer, s.ReadinessAnswerInputSerializer(many=True)],
    resource_type_field_name=None,
    many=False,
)
ANSWER_RESULT = PolymorphicProxySerializer(
    component_name="ReadinessAnswerResult",
    serializers=[s.ChecklistAnswerSerializer, s.ChecklistAnswerSerializer(many=True)],
    resource_type_field_name=None,
    many=False,
)


def _visible_version(request: Request, pk: int) -> ModelVersion:
    versions = ModelVersion.objects.restrict(request.user, Action.VIEW).select_related("model")
    return get_object_or_404(versions, pk=pk)


class ReadinessTemplateView(APIView):
    """The active checklist template with its sections and items."""

    @extend_schema(
        operation_id="readiness_template_active", responses=s.ChecklistTemplateSerializer
    )
    def get(self, request: Request) -> Response:
        template = selectors.template_get()
        if template is None:
            raise Http404("no checklist template is active")
        return Response(s.ChecklistTemplateSerializer(template).data)


class ReadinessTemplateVersionView(APIView):
    """One checklist template version (older versions keep the answers given to them)."""

    @extend_schema(
        operation_id="readiness_template_version", responses=s.ChecklistTemplateSerializer
    )
    def get(self, request: Request, number: int) -> Response:
        template = selectors.template_get(version_number=number)
        if template is None:
            raise Http404(f"no checklist template version {number}")
        return Response(s.ChecklistTemplateSerializer(template).data)


class VersionReadinessView(APIView):
    """A version's answers, scores per section and overall, and open required items."""

    @extend_schema(operation_id="version_readiness", responses=s.VersionReadinessSerializer)
    def get(self, request: Request, pk: int) -> Response:
        state = selectors.readiness(_visible_version(request, pk))
        return Response(s.VersionReadinessSerializer(state).data)


class VersionReadinessAnswersView(APIView):
    """Answer one item (a JSON object) or several (a JSON list, all or none).
    Re-answering an item replaces its answer. Errors name the field, and for a list the row:
    `answers[2].note`."""

    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="version_readiness_answer",
        request=ANSWER_PAYLOAD,
        responses=ANSWER_RESULT,
    )
    def post(self, request: Request, pk: int) -> Response:
        version = _visible_version(request, pk)
        if isinstance(request.data, list):
            rows = _valid_rows(request.data)
            answers = services.answers_record(
                version=version, actor=acting_user(request), answers=rows
            )
            return Response(s.ChecklistAnswerSerializer(answers, many=True).data)
        data = _valid(s.ReadinessAnswerInputSerializer(data=request.data))
        answer = services.answer_record(version=version, actor=acting_user(request), **data)
        return Response(s.ChecklistAnswerSerializer(answer).data)

    @extend_schema(
        operation_id="version_readiness_answer_replace",
        request=ANSWER_PAYLOAD,
        responses=ANSWER_RESULT,
    )
    def put(self, request: Request, pk: int) -> Response:
        return self.post(request, pk)


def _valid(serializer: serializers.Serializer) -> dict[str, Any]:
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _valid_rows(data: list[Any]) -> list[services.AnswerInput]:
    if len(data) > s.MAX_ROWS:
        raise serializers.ValidationError({"answers": f"at most {s.MAX_ROWS} answers at once"})
    serializer = s.ReadinessAnswerInputSerializer(data=data, many=True)
    if not serializer.is_valid():
        raise serializers.ValidationError(s.row_errors(serializer.errors))
    return [services.AnswerInput(**row) for row in serializer.validated_data]
