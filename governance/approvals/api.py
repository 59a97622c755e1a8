"""Approval workflow API: requests, decisions, the reviewer's inbox, access, watchers,
notifications and webhooks."""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib.auth.models import Group
from django.core.validators import slug_re
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from governance.approvals import policies, selectors, services, watching
from governance.approvals import webhooks as webhooks_service
from governance.approvals.choices import RequestKind, Verdict
from governance.approvals.models import (
    ApprovalDecision,
    ApprovalPolicy,
    ApprovalPolicyVersion,
    ApprovalRequest,
    Notification,
    WebhookEndpoint,
)
from registry import limits
from registry.actors import acting_user
from registry.api.base import RestrictedViewSet
from registry.api.fields import (
    ObjectIdField,
    ObjectIdFilter,
    UtcDateTimeFilter,
    decision_threshold_field,
    traffic_share_field,
)
from registry.choices import Action
from registry.models import Deployment, ModelVersion, RegisteredModel


class DecisionSerializer(serializers.ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.username")
    verdict_label = serializers.CharField(source="get_verdict_display")

    class Meta:
        model = ApprovalDecision
        fields = [
            "id",
            "reviewer",
            "verdict",
            "verdict_label",
            "comment",
            "manifest_digest",
            "reviewer_groups",
            "created_at",
        ]


class RequestSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="version.model.slug")
    version_number = serializers.IntegerField(source="version.number")
    requested_by = serializers.CharField(source="requested_by.username")
    state_label = serializers.CharField(source="get_state_display")
    kind_label = serializers.CharField(source="get_kind_display")
    decisions = DecisionSerializer(many=True, read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = ApprovalRequest
        fields = [
            "id",
            "kind",
            "kind_label",
            "model",
            "version",
            "version_number",
            "state",
            "state_label",
            "policy",
            "policy_version",
            "manifest_digest",
            "digest_scheme",
            "manifest",
            "comment",
            "endpoint",
            "decision_threshold",
            "traffic_share",
            "replaces",
            "deployment",
            "requested_by",
            "requested_at",
            "expires_at",
            "closed_at",
            "decisions",
            "progress",
        ]

    def get_progress(self, obj: ApprovalRequest) -> dict[str, Any]:
        p = selectors.approval_progress(obj)
        return {
            "approvals": p.approvals,
            "needed": p.needed,
            "missing_groups": p.missing_groups,
            "voided": p.voided,
            "complete": p.complete,
        }


class RequestInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RequestKind.choices)
    version = ObjectIdField()
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=limits.TEXT
    )
    endpoint = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    decision_threshold = decision_threshold_field()
    traffic_share = traffic_share_field()
    replaces = ObjectIdField(required=False, allow_null=True, default=None)


class DecisionInput(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=limits.TEXT
    )
    manifest_digest = serializers.RegexField(
        r"^[0-9a-f]{64}$",
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="The manifest digest you reviewed; the decision is refused if it moved on.",
    )


class RequestFilter(django_filters.FilterSet):
    # A number, not a choice: a choice filter would tell "exists elsewhere" from "no such id".
    version = ObjectIdFilter(field_name="version_id")
    model = django_filters.CharFilter(field_name="version__model__slug")

    class Meta:
        model = ApprovalRequest
        fields = ["state", "kind", "version", "model"]


class ApprovalRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RestrictedViewSet):
    """Approval requests. `state` is a code (pending, approved, rejected, withdrawn, expired);
    `state_label` reads it as words ("Pending manual approval"). `manifest` is the release
    manifest the request binds and `manifest_digest` its hash."""

    queryset = ApprovalRequest.objects.select_related(
        "version__model", "requested_by"
    ).prefetch_related("decisions__reviewer")
    serializer_class = RequestSerializer
    filterset_class = RequestFilter
    ordering_fields = ["requested_at", "state"]

    @extend_schema(request=RequestInput, responses={201: RequestSerializer})
    def create(self, request: Request) -> Response:
        data = self.valid_input(RequestInput, request)
        version = get_object_or_404(
            ModelVersion.objects.restrict(request.user, Action.VIEW), pk=data["version"]
        )
        if data["kind"] == RequestKind.VERSION:
            created = services.request_version_approval(
                version=version, actor=acting_user(request), comment=data["comment"]
            )
        else:
            replaces = None
            if data["replaces"]:
                replaces = get_object_or_404(
                    Deployment.objects.restrict(request.user, Action.VIEW), pk=data["replaces"]
                )
            created = services.request_production_deployment(
                version=version,
                actor=acting_user(request),
                endpoint=data["endpoint"],
                decision_threshold=data["decision_threshold"],
                traffic_share=data["traffic_share"],
                replaces=replaces,
                comment=data["comment"],
            )
        return self.respond(RequestSerializer, created, status=status.HTTP_201_CREATED)

    @extend_schema(request=DecisionInput, responses=RequestSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str) -> Response:
        """Approve or reject (a rejection needs a comment). Decisions are final."""
        data = self.valid_input(DecisionInput, request)
        decided = services.decide(request=self.get_object(), actor=acting_user(request), **data)
        return self.respond(RequestSerializer, ApprovalRequest.objects.get(pk=decided.pk))

    @extend_schema(request=None, responses=RequestSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str) -> Response:
        withdrawn = services.withdraw(request=self.get_object(), actor=acting_user(request))
        return self.respond(RequestSerializer, withdrawn)

    @extend_schema(responses=RequestSerializer(many=True))
    @action(detail=False, methods=["get"])
    def inbox(self, request: Request) -> Response:
        """Requests waiting for my decision."""
        page = self.paginate_queryset(selectors.inbox(user=acting_user(request)))
        return self.get_paginated_response(RequestSerializer(page, many=True).data)


class PolicySerializer(serializers.ModelSerializer):
    required_groups: serializers.SlugRelatedField[Group] = serializers.SlugRelatedField(
        slug_field="name", many=True, read_only=True
    )
    risk_tier_label = serializers.CharField(source="get_risk_tier_display", read_only=True)

    class Meta:
        model = ApprovalPolicy
        fields = [
            "risk_tier",
            "risk_tier_label",
            "version",
            "required_groups",
            "min_approvals",
            "separation_of_duties",
            "require_readiness",
            "expiry_days",
            "revalidation_days",
            "updated_at",
        ]


class PolicyVersionSerializer(serializers.ModelSerializer):
    changed_by = serializers.CharField(source="changed_by.username", default=None)

    class Meta:
        model = ApprovalPolicyVersion
        fields = ["risk_tier", "number", "snapshot", "reason", "changed_by", "created_at"]


class PolicyInput(serializers.Serializer):
    # Names as text first (a CharField refuses NUL and lone surrogates, which PostgreSQL
    # cannot compare), then looked up.
    required_groups = serializers.ListField(
        child=serializers.CharField(max_length=150), required=False, max_length=50
    )
    min_approvals = serializers.IntegerField(min_value=1, max_value=20, required=False)
    separation_of_duties = serializers.BooleanField(required=False)
    require_readiness = serializers.BooleanField(required=False)
    expiry_days = serializers.IntegerField(
        min_value=1, max_value=3650, required=False, allow_null=True
    )
    revalidation_days = serializers.IntegerField(
        min_value=1, max_value=3650, required=False, allow_null=True
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    def validate_required_groups(self, names: list[str]) -> list[Group]:
        groups = {group.name: group for group in Group.objects.filter(name__in=names)}
        unknown = sorted(set(names) - set(groups))
        if unknown:
            raise serializers.ValidationError(f"no such group: {', '.join(unknown)}")
        return [groups[name] for name in dict.fromkeys(names)]


class PolicyViewSet(viewsets.ReadOnlyModelViewSet):
    """Approval policies per risk tier. Admins change one with PATCH (audited, versioned);
    an open request keeps the version it was opened under."""

    queryset = ApprovalPolicy.objects.prefetch_related("required_groups")
    serializer_class = PolicySerializer
    lookup_field = "risk_tier"
    lookup_value_regex = r"[a-z]+"  # a NUL would reach PostgreSQL, which refuses it (a 500)
    pagination_class = None

    @extend_schema(request=PolicyInput, responses=PolicySerializer)
    def partial_update(self, request: Request, risk_tier: str) -> Response:
        data = PolicyInput(data=request.data)
        data.is_valid(raise_exception=True)
        policy = policies.policy_update(
            policy=self.get_object(), actor=acting_user(request), **data.validated_data
        )
        return Response(PolicySerializer(ApprovalPolicy.objects.get(pk=policy.pk)).data)

    @extend_schema(responses=PolicyVersionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, risk_tier: str) -> Response:
        """Every version of the tier's policy, newest first."""
        rows = selectors.policy_versions(risk_tier=self.get_object().risk_tier)
        return Response(PolicyVersionSerializer(rows, many=True).data)


def _visible_model(request: Request, slug: str) -> RegisteredModel:
    return get_object_or_404(RegisteredModel.objects.restrict(request.user, Action.VIEW), slug=slug)


class WatchView(APIView):
    """Subscribe to (POST) or leave (DELETE) a model's lifecycle notifications."""

    @extend_schema(request=None, responses=dict)
    def post(self, request: Request, slug: str) -> Response:
        watching.model_watch(model=_visible_model(request, slug), actor=acting_user(request))
        return Response({"watching": True})

    @extend_schema(request=None, responses=dict)
    def delete(self, request: Request, slug: str) -> Response:
        watching.model_unwatch(model=_visible_model(request, slug), actor=acting_user(request))
        return Response({"watching": False})


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "subject", "body", "url", "created_at", "read_at"]


class NotificationFilter(django_filters.FilterSet):
    read_at = UtcDateTimeFilter()

    class Meta:
        model = Notification
        fields = ["read_at"]


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The signed-in user's notifications, newest first."""

    queryset = Notification.objects.none()  # for the schema; get_queryset narrows to the user
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return selectors.notification_list(user=self.request.user)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str) -> Response:
        note = self.get_object()  # a pk that is not a number is a 404 too, not a 500
        note = watching.notification_mark_read(notification=note, actor=acting_user(request))
        return Response(NotificationSerializer(note).data)


class VisibleModelField(serializers.SlugRelatedField):
    """A model slug looked up among the models the requesting user may view, so another
    team's model and a model that does not exist get the same answer."""

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        return RegisteredModel.objects.restrict(getattr(request, "user", None), Action.VIEW)

    def to_internal_value(self, data: Any) -> Any:
        # A slug is letters, digits, "-" and "_": anything else names no model, and text with
        # a NUL byte would be refused by PostgreSQL itself (a 500), so no lookup is made.
        if not isinstance(data, str) or not slug_re.fullmatch(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data)[:100])
        return super().to_internal_value(data)


class WebhookSerializer(serializers.ModelSerializer):
    model = VisibleModelField(slug_field="slug", required=False, allow_null=True)
    secret = serializers.CharField(write_only=True, min_length=16)

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "name", "url", "secret", "events", "model", "active", "created_at"]
        # The model's default (every event) for a request that names none: the service
        # takes the list as a required argument.
        extra_kwargs = {"events": {"default": list}}

    def validate_events(self, value: Any) -> list[str]:
        from governance.approvals.events import EVENTS

        known = set(EVENTS.values())
        if not isinstance(value, list) or any(e not in known for e in value):
            raise serializers.ValidationError(f"a list of events from: {', '.join(sorted(known))}")
        return value


class WebhookViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Webhook endpoints. A model's webhooks need manage_access on it; global ones, admins."""

    queryset = WebhookEndpoint.objects.none()  # for the schema; get_queryset narrows it
    serializer_class = WebhookSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return WebhookEndpoint.objects.none()
        user = self.request.user
        if user.is_superuser:
            return WebhookEndpoint.objects.all()
        mine = RegisteredModel.objects.restrict(user, Action.MANAGE_ACCESS)
        return WebhookEndpoint.objects.filter(model__in=mine)

    def perform_create(self, serializer: BaseSerializer[WebhookEndpoint]) -> None:
        serializer.instance = webhooks_service.webhook_create(
            actor=acting_user(self.request), **serializer.validated_data
        )

    def perform_destroy(self, instance: WebhookEndpoint) -> None:
        webhooks_service.webhook_delete(webhook=instance, actor=acting_user(self.request))
