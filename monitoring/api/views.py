"""Bulk ingestion endpoints per deployment. Thin: read the body, call the service, answer.

A deployment the user cannot view is a 404 (restrict before anything else); one they can view
but not deploy is a 403 from the service. The body is read raw: the service parses JSON
arrays, NDJSON and CSV itself into one pandas frame.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.settings import api_settings

from monitoring.alerts import rules as alert_rules
from monitoring.alerts import selectors as alert_selectors
from monitoring.alerts import services as alert_services
from monitoring.api import serializers as s
from monitoring.ingestion import parsing, selectors, services
from monitoring.models import Alert, AlertRule, GroundTruth, PredictionEvent
from monitoring.performance import selectors as performance_selectors
from monitoring.performance import services as performance_services
from monitoring.rollups import posted as posted_summaries
from monitoring.rollups import selectors as rollup_selectors
from monitoring.rollups import services as rollup_services
from registry.actors import Viewer, acting_user
from registry.choices import Action
from registry.models import Deployment, ModelVersion, RegisteredModel

ON_ERROR = OpenApiParameter(
    "on_error", str, enum=list(services.ON_ERROR_CHOICES), description="reject (default) or skip"
)
BODY = {
    "application/json": {"type": "array", "items": {"type": "object"}},
    "application/x-ndjson": {"type": "string"},
    "text/csv": {"type": "string"},
}


def _too_large(message: str) -> Response:
    return Response({"detail": message}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)


class _BatchView(generics.GenericAPIView):
    """GET a deployment's stored rows of one kind, newest first; POST a batch of them."""

    rows: type[Model] = PredictionEvent
    stored: Callable[..., QuerySet[Any]] = staticmethod(selectors.prediction_list)
    ingest = staticmethod(services.predictions_ingest)

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no pk
            return self.rows._default_manager.none()
        return self.stored(user=self.request.user, deployment=self.deployment())

    def get(self, request: Request, pk: int) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def deployment(self) -> Deployment:
        visible = Deployment.objects.restrict(self.request.user, Action.VIEW)
        return get_object_or_404(visible.select_related("version"), pk=self.kwargs["pk"])

    def _body(self, request: Request) -> bytes | None:
        """The raw body, or None when it is over STEWARD_MAX_UPLOAD_MB. Read from the stream:
        request.body would stop at DATA_UPLOAD_MAX_MEMORY_SIZE, and DRF's parsers know
        neither NDJSON nor CSV."""
        if int(request.META.get("CONTENT_LENGTH") or 0) > settings.STEWARD_MAX_UPLOAD_BYTES:
            return None
        stream = request.stream
        return stream.read() if stream is not None else b""

    def post(self, request: Request, pk: int) -> Response:
        deployment = self.deployment()
        query = s.IngestQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        body = self._body(request)
        if body is None:
            return _too_large(f"the body exceeds {settings.STEWARD_MAX_UPLOAD_MB} MB")
        try:
            result = self.ingest(
                deployment=deployment,
                body=body,
                content_type=request.content_type,
                on_error=query.validated_data["on_error"],
                actor=acting_user(request),
            )
        except services.BatchTooLarge as exc:
            return _too_large(str(exc))
        except parsing.UnsupportedFormat as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE)
        except parsing.ParseError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        except services.BatchRejected as exc:
            return Response(_rejected_body(exc), status=status.HTTP_400_BAD_REQUEST)
        code = status.HTTP_207_MULTI_STATUS if result.report.rejected_rows else status.HTTP_200_OK
        return Response(result.as_dict(), status=code)


def _rejected_body(exc: services.BatchRejected) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": exc.message}
    if exc.report is not None:
        body |= services.outcome(exc.report, accepted=0, duplicates=0)
    return body


def _batch_schema(rows: type[Serializer]) -> Callable[[type[_BatchView]], type[_BatchView]]:
    """The OpenAPI description of a batch view whose stored rows `rows` serializes."""
    return extend_schema_view(
        get=extend_schema(responses={200: rows(many=True)}),
        post=extend_schema(
            request=BODY,
            parameters=[ON_ERROR],
            responses={200: s.IngestOutcome, 207: s.IngestOutcome, 400: s.IngestRejection},
        ),
    )


@_batch_schema(s.PredictionEventSerializer)
class PredictionBatchView(_BatchView):
    """POST a batch of prediction events; GET the stored events, newest first."""

    serializer_class = s.PredictionEventSerializer
    rows = PredictionEvent
    stored = staticmethod(selectors.prediction_list)


@_batch_schema(s.GroundTruthSerializer)
class GroundTruthBatchView(_BatchView):
    """POST a batch of observed outcomes (request_id, label or value, timestamp)."""

    serializer_class = s.GroundTruthSerializer
    rows = GroundTruth
    stored = staticmethod(selectors.ground_truth_list)
    ingest = staticmethod(services.ground_truth_ingest)


class _RollupView(generics.GenericAPIView):
    """Read views of one deployment's rollups: 404 unless the user may view it."""

    queryset = Deployment.objects.none()  # for the schema's path parameter; reads restrict
    pagination_class = None  # one row per feature, or one per day: small, bounded answers
    filter_backends: list[type] = []

    def deployment(self) -> Deployment:
        visible = rollup_selectors.deployment_visible(user=self.request.user, pk=self.kwargs["pk"])
        return get_object_or_404(visible)

    def query(self, serializer_class: type) -> dict[str, Any]:
        query = serializer_class(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data


class DeploymentDriftView(_RollupView):
    """GET the latest drift result per feature for windows inside [start, end]."""

    serializer_class = s.DriftResultSerializer

    @extend_schema(parameters=[s.DriftQuery], responses={200: s.DriftResultSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        deployment = self.deployment()
        bounds = self.query(s.DriftQuery)
        rows = rollup_selectors.drift_latest(
            deployment=deployment, start=bounds.get("start"), end=bounds.get("end")
        )
        return Response(s.DriftResultSerializer(rows, many=True).data)


class DeploymentHealthView(_RollupView):
    """GET service health by UTC day over the last `days` days, from the hourly rows."""

    serializer_class = s.HealthDay

    @extend_schema(parameters=[s.HealthQuery], responses={200: s.HealthDay(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        deployment = self.deployment()
        days = self.query(s.HealthQuery)["days"]
        rows = rollup_selectors.health_daily(deployment=deployment, days=days)
        return Response(s.HealthDay(rows, many=True).data)


# --- model quality ----------------------------------------------------------------------------


class DeploymentPerformanceView(_RollupView):
    """GET metrics against ground truth per UTC day over the last `days` days."""

    serializer_class = s.DailyPerformanceSerializer

    @extend_schema(
        parameters=[s.PerformanceQuery], responses={200: s.DailyPerformanceSerializer(many=True)}
    )
    def get(self, request: Request, pk: int) -> Response:
        deployment = self.deployment()
        days = self.query(s.PerformanceQuery)["days"]
        rows = performance_selectors.performance_list(deployment=deployment, days=days)
        return Response(s.DailyPerformanceSerializer(rows, many=True).data)


class DeploymentEstimatedPerformanceView(_RollupView):
    """GET the label-free estimates (CBPE for classifiers, DLE for regressors) per UTC day,
    newest first, paginated; filters: metric, since, until. Readable by whoever may view the
    deployment, like its realised performance."""

    serializer_class = s.DailyEstimateSerializer
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS  # type: ignore[assignment]

    @extend_schema(
        parameters=[s.EstimateQuery], responses={200: s.DailyEstimateSerializer(many=True)}
    )
    def get(self, request: Request, pk: int) -> Response:
        deployment = self.deployment()
        query = self.query(s.EstimateQuery)
        rows = performance_selectors.estimate_list(
            deployment=deployment,
            metric=query.get("metric", ""),
            since=query.get("since"),
            until=query.get("until"),
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class DeploymentStatusView(_RollupView):
    """GET the current accuracy / drift / service-health verdicts with their reasons (every
    axis "unknown" until the monitoring job has computed them once)."""

    serializer_class = s.DeploymentStatusSerializer

    @extend_schema(responses={200: s.DeploymentStatusSerializer})
    def get(self, request: Request, pk: int) -> Response:
        deployment = self.deployment()
        row = performance_selectors.status_get(deployment=deployment)
        if row is None:
            return Response(performance_selectors.status_not_computed(deployment=deployment))
        return Response(s.DeploymentStatusSerializer(row).data)


class MonitoringSettingsView(_RollupView):
    """GET the deployment's thresholds; PATCH them (needs "change" on the model)."""

    serializer_class = s.MonitoringSettingsSerializer

    @extend_schema(responses={200: s.MonitoringSettingsSerializer})
    def get(self, request: Request, pk: int) -> Response:
        row = performance_services.settings_get(self.deployment())
        return Response(s.MonitoringSettingsSerializer(row).data)

    @extend_schema(
        request=s.MonitoringSettingsInput, responses={200: s.MonitoringSettingsSerializer}
    )
    def patch(self, request: Request, pk: int) -> Response:
        deployment = self.deployment()
        data = s.MonitoringSettingsInput(data=request.data, context={"deployment": deployment})
        data.is_valid(raise_exception=True)
        row = performance_services.monitoring_settings_update(
            deployment=deployment, actor=acting_user(request), **data.validated_data
        )
        return Response(s.MonitoringSettingsSerializer(row).data)


class MonitoringRebuildView(_RollupView):
    """POST {"since": day}: mark every hour of the deployment's events from that UTC day
    stale and queue a monitoring run that rebuilds them (owners: "change"; audited). 202 with
    the run's id, whose progress is the job's."""

    serializer_class = s.RebuildAccepted

    @extend_schema(request=s.RebuildInput, responses={202: s.RebuildAccepted})
    def post(self, request: Request, pk: int) -> Response:
        deployment = self.deployment()
        data = s.RebuildInput(data=request.data)
        data.is_valid(raise_exception=True)
        job, marked = rollup_services.monitoring_rebuild(
            deployment=deployment, since=data.validated_data["since"], actor=acting_user(request)
        )
        body = {"job": job.pk, "hours_marked_stale": marked}
        return Response(s.RebuildAccepted(body).data, status=status.HTTP_202_ACCEPTED)


class VersionReferenceView(generics.GenericAPIView):
    """GET what a version's drift is compared with; POST {"dataset": id} to choose one of its
    model's datasets instead (owners: "change"; audited; the profile is rebuilt at once)."""

    serializer_class = s.ReferenceSerializer
    queryset = ModelVersion.objects.none()  # for the schema's path parameter; reads restrict
    pagination_class = None
    filter_backends: list[type] = []

    def version(self) -> ModelVersion:
        visible = rollup_selectors.version_visible(user=self.request.user, pk=self.kwargs["pk"])
        return get_object_or_404(visible.select_related("model"))

    @extend_schema(responses={200: s.ReferenceSerializer})
    def get(self, request: Request, pk: int) -> Response:
        version = self.version()
        return Response(
            s.ReferenceSerializer(rollup_selectors.reference_describe(version=version)).data
        )

    @extend_schema(request=s.ReferenceInput, responses={200: s.ReferenceSerializer})
    def post(self, request: Request, pk: int) -> Response:
        version = self.version()
        data = s.ReferenceInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            rollup_services.reference_choose(
                version=version, dataset=data.validated_data["dataset"], actor=acting_user(request)
            )
        except DjangoValidationError as exc:
            return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return Response(
            s.ReferenceSerializer(rollup_selectors.reference_describe(version=version)).data
        )


class VersionLayoutsView(generics.GenericAPIView):
    """GET the layouts (bin edges, vocabularies, format, digest) summaries of this version's
    deployments are built on; 409 while the version has no reference profile."""

    serializer_class = s.LayoutsSerializer
    queryset = ModelVersion.objects.none()  # for the schema's path parameter; reads restrict
    pagination_class = None
    filter_backends: list[type] = []

    def get(self, request: Request, pk: int) -> Response:
        visible = rollup_selectors.version_visible(user=request.user, pk=pk)
        version = get_object_or_404(visible)
        try:
            layouts = posted_summaries.layouts_describe(version=version)
        except posted_summaries.NoLayouts as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(layouts)


class DeploymentSummariesView(generics.GenericAPIView):
    """POST hourly summaries built on the deployed version's layouts instead of raw events
    (docs/monitoring.md, "Sending summaries instead of events")."""

    serializer_class = s.SummariesAccepted
    queryset = Deployment.objects.none()  # for the schema's path parameter; reads restrict
    pagination_class = None
    filter_backends: list[type] = []

    @extend_schema(
        request={"application/json": {"type": "object"}}, responses={200: s.SummariesAccepted}
    )
    def post(self, request: Request, pk: int) -> Response:
        visible = Deployment.objects.restrict(request.user, Action.VIEW)
        deployment = get_object_or_404(visible.select_related("version"), pk=pk)
        if int(request.META.get("CONTENT_LENGTH") or 0) > settings.STEWARD_MAX_UPLOAD_BYTES:
            return _too_large(f"the body exceeds {settings.STEWARD_MAX_UPLOAD_MB} MB")
        stream = request.stream
        raw = stream.read() if stream is not None else b""
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            return Response({"detail": f"invalid JSON: {exc}"}, status=status.HTTP_400_BAD_REQUEST)
        try:
            result = posted_summaries.summaries_post(
                deployment=deployment, body=body, actor=acting_user(request)
            )
        except (posted_summaries.LayoutMismatch, posted_summaries.NoLayouts) as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        except posted_summaries.SummariesRejected as exc:
            errors = [{"field": path, "message": message} for path, message in exc.problems]
            return Response(
                {"detail": str(exc), "errors": errors}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response(s.SummariesAccepted(result).data)


class PortfolioView(generics.GenericAPIView):
    """GET, per status axis, how many deployments the caller may view are at each level."""

    serializer_class = s.PortfolioSerializer
    pagination_class = None
    filter_backends: list[type] = []

    @extend_schema(responses={200: s.PortfolioSerializer})
    def get(self, request: Request) -> Response:
        return Response(performance_selectors.portfolio_counts(user=request.user))


# --- alerts -----------------------------------------------------------------------------------


class AlertRuleListView(generics.GenericAPIView):
    """GET the rules on models or deployments the caller may view; POST a new rule (needs
    "change" on its model: 404 when the target is not visible, 403 when it is)."""

    serializer_class = s.AlertRuleSerializer
    filter_backends: list[type] = []

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return AlertRule.objects.none()
        return alert_selectors.alert_rule_list(user=self.request.user)

    @extend_schema(responses={200: s.AlertRuleSerializer(many=True)})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=s.AlertRuleInput, responses={201: s.AlertRuleSerializer})
    def post(self, request: Request) -> Response:
        data = s.AlertRuleInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields.update(self._scope(request.user, fields))
        rule = alert_services.alert_rule_create(actor=acting_user(request), **fields)
        return Response(s.AlertRuleSerializer(rule).data, status=status.HTTP_201_CREATED)

    @staticmethod
    def _scope(user: Viewer, fields: dict[str, Any]) -> dict[str, Any]:
        """The rule's target among those the user may view (404 otherwise); the service
        decides whether they may change it."""
        if "deployment" in fields:
            deployments = Deployment.objects.restrict(user, Action.VIEW)
            return {"deployment": get_object_or_404(deployments, pk=fields.pop("deployment"))}
        models = RegisteredModel.objects.restrict(user, Action.VIEW)
        return {"model": get_object_or_404(models, pk=fields.pop("model"))}


class AlertRuleDetailView(generics.GenericAPIView):
    """GET one rule (needs "view" on its model), PATCH its condition, severity, channels or
    `active`, DELETE it when it never fired (both need "change"): 404 when not visible, 403
    when visible without "change"."""

    serializer_class = s.AlertRuleSerializer
    queryset = AlertRule.objects.none()  # for the schema's path parameter; reads restrict

    def rule(self) -> AlertRule:
        """The rule, if the user may view it (404 otherwise); writes check "change" in the
        services."""
        user, pk = self.request.user, self.kwargs["pk"]
        return get_object_or_404(alert_selectors.alert_rule_list(user=user), pk=pk)

    @extend_schema(responses={200: s.AlertRuleSerializer})
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.AlertRuleSerializer(self.rule()).data)

    @extend_schema(request=s.AlertRuleUpdate, responses={200: s.AlertRuleSerializer})
    def patch(self, request: Request, pk: int) -> Response:
        rule = self.rule()
        data = s.AlertRuleUpdate(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            rule = alert_rules.alert_rule_update(
                rule=rule, actor=acting_user(request), **data.validated_data
            )
        except DjangoValidationError as exc:
            return Response({"detail": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
        return Response(s.AlertRuleSerializer(rule).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        rule = self.rule()
        try:
            alert_rules.alert_rule_delete(rule=rule, actor=acting_user(request))
        except alert_rules.RuleInUse as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AlertListView(generics.GenericAPIView):
    """GET alerts on deployments the caller may view, newest first; ?state= and
    ?deployment= filter."""

    serializer_class = s.AlertSerializer
    filter_backends: list[type] = []

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Alert.objects.none()
        query = s.AlertQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return alert_selectors.alert_list(
            user=self.request.user,
            state=query.validated_data.get("state"),
            deployment=query.validated_data.get("deployment"),
        )

    @extend_schema(parameters=[s.AlertQuery], responses={200: s.AlertSerializer(many=True)})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class _AlertActionView(generics.GenericAPIView):
    """POST a state change of one alert: 404 unless visible, 403 without "change"."""

    serializer_class = s.AlertSerializer
    queryset = Alert.objects.none()  # for the schema's path parameter
    service: Any = None

    @extend_schema(request=None, responses={200: s.AlertSerializer})
    def post(self, request: Request, pk: int) -> Response:
        alert = get_object_or_404(alert_selectors.alert_list(user=request.user), pk=pk)
        try:
            alert = type(self).service(alert=alert, actor=acting_user(request))
        except alert_services.InvalidTransition as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(s.AlertSerializer(alert).data)


class AlertAcknowledgeView(_AlertActionView):
    service = staticmethod(alert_services.alert_acknowledge)


class AlertResolveView(_AlertActionView):
    service = staticmethod(alert_services.alert_resolve)
