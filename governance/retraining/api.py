"""Retraining API: a model's policy (`/models/{slug}/retraining/policy/`), its runs and a
manual request (`/models/{slug}/retraining/runs/`), a run (`/retraining/runs/{id}/`), and the
team's trainer's callback (`/retraining/runs/{id}/result/`): token-authenticated like every
API call, and the body signed with the policy's secret (X-Steward-Signature)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import User
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.outbound.signing import HEADER, verify
from governance.retraining import policies, services
from governance.retraining.models import RetrainingPolicy, RetrainingRun
from registry import limits
from registry.actors import acting_user
from registry.api.base import RestrictedViewSet
from registry.api.fields import ObjectIdField
from registry.choices import Action
from registry.models import ModelVersion, RegisteredModel


class RetrainingPolicySerializer(serializers.ModelSerializer):
    model: serializers.SlugRelatedField[RegisteredModel] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    trainer_secret = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=200
    )
    trainer_secret_set = serializers.SerializerMethodField()
    updated_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = RetrainingPolicy
        fields = [
            "model",
            *policies.EDITABLE,
            "trainer_secret_set",
            "updated_by",
            "updated_at",
        ]
        read_only_fields = ["model", "updated_by", "updated_at"]
        # The model's clean() checks the combination; the service calls it and names the field.
        extra_kwargs: ClassVar[dict[str, Any]] = {"trainer_url": {"validators": []}}

    def get_trainer_secret_set(self, obj: RetrainingPolicy) -> bool:
        return bool(obj.trainer_secret)


class RunSerializer(serializers.ModelSerializer):
    model: serializers.SlugRelatedField[RegisteredModel] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    requested_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    base_version_number = serializers.IntegerField(source="base_version.number", default=None)
    result_version_number = serializers.IntegerField(source="result_version.number", default=None)

    class Meta:
        model = RetrainingRun
        fields = [
            "id",
            "model",
            "trigger",
            "reason",
            "more_triggers",
            "state",
            "state_label",
            "trainer",
            "requested_by",
            "requested_at",
            "deferred_until",
            "started_at",
            "finished_at",
            "base_version",
            "base_version_number",
            "result_version",
            "result_version_number",
            "training_dataset",
            "window_start",
            "window_end",
            "comparison",
            "approval_request",
            "suggestion",
            "error",
            "job",
        ]
        read_only_fields = fields


class RetrainingRequestInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ResultInput(serializers.Serializer):
    version = ObjectIdField()
    comparison = serializers.DictField(validators=[limits.JsonCap()])


def _visible_model(request: Request, slug: str) -> RegisteredModel:
    return get_object_or_404(RegisteredModel.objects.restrict(request.user, Action.VIEW), slug=slug)


class PolicyView(APIView):
    """The model's retraining policy: read it (view right), set it (change right)."""

    @extend_schema(responses=RetrainingPolicySerializer)
    def get(self, request: Request, slug: str) -> Response:
        model = _visible_model(request, slug)
        policy = policies.policy_get(model=model) or RetrainingPolicy(model=model)
        return Response(
            RetrainingPolicySerializer(policy).data | {"configured": policy.pk is not None}
        )

    @extend_schema(request=RetrainingPolicySerializer, responses=RetrainingPolicySerializer)
    def put(self, request: Request, slug: str) -> Response:
        model = _visible_model(request, slug)
        data = RetrainingPolicySerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        policy = policies.policy_update(
            model=model, actor=acting_user(request), **data.validated_data
        )
        return Response(RetrainingPolicySerializer(policy).data | {"configured": True})


class ModelRunsView(APIView):
    """The model's retraining runs, newest first (GET), or a manual request (POST)."""

    @extend_schema(responses=RunSerializer(many=True))
    def get(self, request: Request, slug: str) -> Response:
        model = _visible_model(request, slug)
        paginator = PageNumberPagination()
        runs = RetrainingRun.objects.filter(model=model).select_related(
            "model", "requested_by", "base_version", "result_version"
        )
        page = paginator.paginate_queryset(runs, request, view=self)
        return paginator.get_paginated_response(RunSerializer(page, many=True).data)

    @extend_schema(request=RetrainingRequestInput, responses={201: RunSerializer})
    def post(self, request: Request, slug: str) -> Response:
        model = _visible_model(request, slug)
        data = RetrainingRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        run = services.run_request(
            model=model, actor=acting_user(request), reason=data.validated_data.get("reason", "")
        )
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)


class RetrainingRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RestrictedViewSet):
    """Retraining runs of the models the user may view, newest first."""

    queryset = RetrainingRun.objects.select_related(
        "model", "requested_by", "base_version", "result_version"
    )
    serializer_class = RunSerializer
    filterset_fields = ["state", "trigger"]

    @extend_schema(request=ResultInput, responses=RunSerializer)
    @action(detail=True, methods=["post"])
    def result(self, request: Request, pk: str) -> Response:
        """The team's trainer registers its result: `{"version": id, "comparison":
        {"holdout": {...}, "previous": {metric: value}, "candidate": {metric: value}}}`,
        the body signed with the policy's secret in X-Steward-Signature."""
        run = self.get_object()
        body = request.body  # the raw bytes, read before the parser consumes them
        policy = RetrainingPolicy.objects.filter(model_id=run.model_id).first()
        secret = policy.trainer_secret if policy is not None else ""
        if not secret or not verify(secret, body, request.headers.get(HEADER, "")):
            raise PermissionDenied("the body is not signed with this model's trainer secret")
        data = self.valid_input(ResultInput, request)
        version = get_object_or_404(
            ModelVersion.objects.restrict(request.user, Action.VIEW), pk=data["version"]
        )
        run = services.run_result_register(
            run=run, actor=acting_user(request), version=version, comparison=data["comparison"]
        )
        return self.respond(RunSerializer, run)

    @extend_schema(request=None, responses=RunSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        run = services.run_cancel(run=self.get_object(), actor=acting_user(request))
        return self.respond(RunSerializer, run)
