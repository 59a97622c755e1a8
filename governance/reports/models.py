"""Exported reports: the signed PDF Steward issued, kept under MEDIA_ROOT, never edited."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from governance.reports.choices import ReportKind
from registry.querysets import RestrictedQuerySet


def report_upload_to(instance: ReportExport, filename: str) -> str:
    return f"reports/{instance.version.model.slug}/{filename}"


class ReportExport(models.Model):
    """One signed report as issued. `sha256` is the digest of the signed file, the same one the
    `reports.exported` audit entry records; the file is never rewritten (registry artifacts
    freeze on approval, so reports live here rather than among them)."""

    kind = models.CharField(max_length=40, choices=ReportKind.choices)
    version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.PROTECT, related_name="report_exports"
    )
    deployment = models.ForeignKey(
        "registry.Deployment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="report_exports",
    )
    # The approval request a signed test log is attached to (test logs only).
    approval_request = models.ForeignKey(
        "approvals.ApprovalRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="test_logs",
    )
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    file = models.FileField(upload_to=report_upload_to, max_length=400)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveBigIntegerField()
    manifest = models.JSONField(default=dict)
    chain_head_seq = models.PositiveBigIntegerField(default=0)
    chain_head_hash = models.CharField(max_length=64, blank=True)
    signer = models.CharField(max_length=300, blank=True)
    timestamped = models.BooleanField(default=False)
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    generated_by_name = models.CharField(max_length=150)
    generated_at = models.DateTimeField(db_index=True)

    objects = RestrictedQuerySet.as_manager()
    permission_path = "version__model"

    class Meta:
        ordering = ["-generated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["approval_request"],
                condition=models.Q(approval_request__isnull=False),
                name="reports_one_test_log_per_request",
            )
        ]

    def __str__(self) -> str:
        subject = self.deployment if self.deployment_id else self.version
        return f"{self.get_kind_display()} of {subject} ({self.generated_at:%Y-%m-%d %H:%M})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("an issued report is never edited")
        super().save(*args, **kwargs)

    def audit_fields(self) -> dict[str, Any]:
        """What every `reports.exported` audit entry records of the issued file."""
        return {
            "sha256": self.sha256,
            "size": self.size,
            "kind": self.kind,
            "version": self.version_id,
            "chain_head_seq": self.chain_head_seq,
            "chain_head_hash": self.chain_head_hash,
        }


class ReportSchedule(models.Model):
    """A deployment report issued every month for the month before, e-mailed to `recipients`
    (comma-separated addresses). `last_period_end` is the end of the last period issued, so
    a missed run catches up once rather than twice."""

    deployment = models.ForeignKey(
        "registry.Deployment", on_delete=models.CASCADE, related_name="report_schedules"
    )
    recipients = models.TextField()
    active = models.BooleanField(default=True)
    last_period_end = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    permission_path = "deployment__version__model"

    class Meta:
        ordering = ["deployment_id", "id"]

    def __str__(self) -> str:
        return f"monthly report of deployment {self.deployment_id} to {self.recipients}"

    @property
    def recipient_list(self) -> list[str]:
        return [a.strip() for a in self.recipients.split(",") if a.strip()]
