"""Reports API: start an export (a background job), follow it, list and download what was
issued, verify a file."""

from __future__ import annotations

from typing import Any

import django_filters
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.reports import jobs, scheduling, services
from governance.reports.choices import ReportKind
from governance.reports.models import ReportExport, ReportSchedule
from monitoring.jobs.queue import job_create
from monitoring.models import JobRun
from monitoring.selectors import job_run_list
from registry import limits
from registry.actors import Actor, Viewer, acting_user
from registry.api.base import RestrictedViewSet
from registry.api.fields import ObjectIdField, ObjectIdFilter


class ExportSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="version.model.slug")
    version_number = serializers.IntegerField(source="version.number")
    download = serializers.SerializerMethodField()

    class Meta:
        model = ReportExport
        fields = [
            "id",
            "kind",
            "model",
            "version",
            "version_number",
            "deployment",
            "approval_request",
            "period_start",
            "period_end",
            "sha256",
            "size",
            "chain_head_seq",
            "chain_head_hash",
            "signer",
            "timestamped",
            "generated_by_name",
            "generated_at",
            "download",
        ]

    def get_download(self, obj: ReportExport) -> str:
        from django.urls import reverse

        return reverse("api:report-export-download", kwargs={"pk": obj.pk})


class ExportRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[ReportKind.VERSION, ReportKind.DEPLOYMENT, ReportKind.TECHNICAL_DOCUMENTATION],
        required=False,
        help_text="technical-documentation: the version's EU AI Act Annex IV documentation",
    )
    version = ObjectIdField(required=False)
    deployment = ObjectIdField(required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("version" in attrs) == ("deployment" in attrs):
            raise serializers.ValidationError("give either version or deployment")
        if "version" in attrs and ("since" in attrs or "until" in attrs):
            raise serializers.ValidationError("a period applies to deployment reports only")
        if attrs.get("kind") == ReportKind.TECHNICAL_DOCUMENTATION and "version" not in attrs:
            raise serializers.ValidationError(
                {"kind": "technical documentation is exported for a version"}
            )
        return attrs


class JobSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobRun
        fields = ["id", "kind", "state", "progress", "result", "error", "created_at", "finished_at"]


def start_export(*, user: Actor, data: dict[str, Any]) -> JobRun:
    """Check the user may view the subject (404 otherwise), then queue the export job."""
    subject = services.subject_for(
        actor=user,
        version_id=data.get("version"),
        deployment_id=data.get("deployment"),
        since=data.get("since"),
        until=data.get("until"),
    )
    params = jobs.params_for(
        version_id=None if subject.deployment else subject.version.pk,
        deployment_id=subject.deployment.pk if subject.deployment else None,
        since=subject.since,
        until=subject.until,
        kind=(
            ReportKind.TECHNICAL_DOCUMENTATION
            if data.get("kind") == ReportKind.TECHNICAL_DOCUMENTATION
            else ""
        ),
    )
    return job_create(kind=jobs.KIND, params=params, actor=user)


def report_jobs(user: Viewer) -> Any:
    """The export jobs among the runs the job list shows `user` (one rule for every list of
    runs: `monitoring.selectors.job_run_list`)."""
    return job_run_list(user=user, kind=jobs.KIND)


class ExportFilter(django_filters.FilterSet):
    # Numbers, not choices: a choice filter answers 400 for an id nobody has and an empty
    # page for one the user cannot see, telling the two apart.
    version = ObjectIdFilter(field_name="version_id")
    deployment = ObjectIdFilter(field_name="deployment_id")
    approval_request = ObjectIdFilter(field_name="approval_request_id")

    class Meta:
        model = ReportExport
        fields = ["kind", "version", "deployment", "approval_request", "sha256"]


class ReportExportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RestrictedViewSet):
    """Signed reports issued so far (those of models the user may view), newest first."""

    queryset = ReportExport.objects.select_related("version__model")
    serializer_class = ExportSerializer
    filterset_class = ExportFilter

    @extend_schema(request=ExportRequestSerializer, responses={202: JobSerializer})
    def create(self, request: Request) -> Response:
        """Queue an export: `{"version": id}` or `{"deployment": id, "since", "until"}`."""
        data = self.valid_input(ExportRequestSerializer, request)
        job = start_export(user=acting_user(request), data=data)
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str) -> FileResponse:
        export = self.get_object()
        response = FileResponse(
            export.file.open("rb"),
            as_attachment=True,
            filename=export.file.name.rsplit("/", 1)[-1],
            content_type="application/pdf",
        )
        response["X-Checksum-SHA256"] = export.sha256
        return response


class TechnicalDocumentationView(APIView):
    """The technical documentation (EU AI Act Annex IV) of a version the user may view, as
    JSON (governance/reports/schemas/technical-documentation.schema.json); 404 otherwise.
    Unsigned: the signed form is an export of kind technical-documentation."""

    @extend_schema(responses={200: dict})
    def get(self, request: Request, pk: int) -> Response:
        return Response(services.techdoc_json(actor=acting_user(request), version_id=pk))


class ReportJobView(APIView):
    """Progress of an export job the user requested (404 for anyone else's)."""

    @extend_schema(responses=JobSerializer)
    def get(self, request: Request, pk: int) -> Response:
        job = get_object_or_404(report_jobs(request.user), pk=pk)
        return Response(JobSerializer(job).data)


class VerifyUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


def verification_data(result: services.Verification) -> dict[str, Any]:
    v = result.verdict
    return {
        "ok": result.ok,
        "sha256": v.sha256,
        "signed": v.signed,
        "intact": v.intact,
        "trusted": v.trusted,
        "entire_file": v.entire_file,
        "unmodified": v.unmodified,
        "bottom_line": v.bottom_line,
        "signer": v.signer,
        "signer_organisation": v.signer_organisation,
        "signed_at": v.signed_at,
        "timestamped_at": v.timestamped_at,
        "issued": result.issued is not None,
        "issued_audit_seq": result.issued.seq if result.issued else None,
        "issued_at": result.issued.created_at if result.issued else None,
        "problems": v.problems,
    }


class VerificationSerializer(serializers.Serializer):
    """What `verify_report` says of an uploaded PDF (the shape of `verification_data`)."""

    ok = serializers.BooleanField()
    sha256 = serializers.CharField()
    signed = serializers.BooleanField()
    intact = serializers.BooleanField()
    trusted = serializers.BooleanField()
    entire_file = serializers.BooleanField()
    unmodified = serializers.BooleanField()
    bottom_line = serializers.BooleanField()
    signer = serializers.CharField(allow_null=True)
    signer_organisation = serializers.CharField(allow_null=True)
    signed_at = serializers.DateTimeField(allow_null=True)
    timestamped_at = serializers.DateTimeField(allow_null=True)
    issued = serializers.BooleanField()
    issued_audit_seq = serializers.IntegerField(allow_null=True)
    issued_at = serializers.DateTimeField(allow_null=True)
    problems = serializers.ListField(child=serializers.CharField())


class ReportVerifyView(APIView):
    """Upload a PDF: is its signature valid and trusted, does it cover the whole file, and did
    Steward issue exactly these bytes?"""

    parser_classes = [MultiPartParser, FormParser]

    serializer_class = VerificationSerializer

    @extend_schema(
        request={"multipart/form-data": VerifyUploadSerializer},
        responses={200: VerificationSerializer},
    )
    def post(self, request: Request) -> Response:
        serializer = VerifyUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.report_verify(serializer.validated_data["file"].read())
        return Response(verification_data(result))


class ScheduleSerializer(serializers.ModelSerializer):
    recipients = serializers.ListField(child=serializers.EmailField(), source="recipient_list")

    class Meta:
        model = ReportSchedule
        fields = ["id", "deployment", "recipients", "active", "last_period_end", "created_at"]


class ScheduleInputSerializer(serializers.Serializer):
    # A plain id: the service answers 404 alike for a missing and an invisible deployment.
    deployment = ObjectIdField()
    recipients = serializers.ListField(
        child=serializers.EmailField(max_length=254), min_length=1, max_length=limits.RECIPIENTS
    )


class ReportScheduleView(APIView):
    """Monthly deployment reports e-mailed to a list of addresses: the schedules of models
    the user may view, and a new one (needs the change right on the model)."""

    @extend_schema(responses=ScheduleSerializer(many=True))
    def get(self, request: Request) -> Response:
        rows = ReportSchedule.objects.restrict(request.user, "view")
        return Response(ScheduleSerializer(rows, many=True).data)

    @extend_schema(request=ScheduleInputSerializer, responses={201: ScheduleSerializer})
    def post(self, request: Request) -> Response:
        serializer = ScheduleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        schedule = scheduling.schedule_create(
            deployment_id=serializer.validated_data["deployment"],
            recipients=serializer.validated_data["recipients"],
            actor=acting_user(request),
        )
        return Response(ScheduleSerializer(schedule).data, status=status.HTTP_201_CREATED)


class ReportScheduleDetailView(APIView):
    """One schedule: GET (view right), DELETE (change right); 404 when not visible."""

    @extend_schema(responses=ScheduleSerializer)
    def get(self, request: Request, pk: int) -> Response:
        rows = ReportSchedule.objects.restrict(request.user, "view")
        return Response(ScheduleSerializer(get_object_or_404(rows, pk=pk)).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        scheduling.schedule_delete(schedule_id=pk, actor=acting_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class _ScheduleSwitchView(APIView):
    active = True

    @extend_schema(request=None, responses=ScheduleSerializer)
    def post(self, request: Request, pk: int) -> Response:
        schedule = scheduling.schedule_set_active(
            schedule_id=pk, active=type(self).active, actor=acting_user(request)
        )
        return Response(ScheduleSerializer(schedule).data)


class ReportSchedulePauseView(_ScheduleSwitchView):
    """POST: stop issuing the schedule's reports until resumed (change right)."""

    active = False


class ReportScheduleResumeView(_ScheduleSwitchView):
    """POST: issue the schedule's reports again (change right)."""

    active = True
