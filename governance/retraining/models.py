"""A model's retraining policy, the runs it starts, and the deliveries to the team's trainer."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from governance.outbound.addresses import validate_outbound_url
from governance.outbound.models import OutboundDelivery
from governance.retraining.choices import RunState, Trainer, Trigger
from registry.querysets import RestrictedQuerySet


class MetricSource(models.TextChoices):
    REALISED = "realised", "Realised (from ground truth)"
    ESTIMATED = "estimated", "Estimated (before labels)"
    EITHER = "either", "Either"


class RetrainingPolicy(models.Model):
    """When a model is retrained: at least every `every_days`, never sooner than `min_days`
    after the last run started, and whenever a trigger fires (drift failing, a metric under
    its threshold, a manual request). Owners edit it; every change is audited."""

    model = models.OneToOneField(
        "registry.RegisteredModel", on_delete=models.CASCADE, related_name="retraining_policy"
    )
    enabled = models.BooleanField(default=True)
    every_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Retrain at least every N days (empty: no schedule)."
    )
    min_days = models.PositiveIntegerField(
        default=0, help_text="Not sooner than M days after the last retraining started."
    )
    on_drift = models.BooleanField(default=False, help_text="Retrain when drift is failing.")
    metric_name = models.CharField(max_length=60, blank=True)
    metric_threshold = models.FloatField(null=True, blank=True)
    metric_source = models.CharField(
        max_length=20, choices=MetricSource.choices, default=MetricSource.REALISED
    )
    metric_window_days = models.PositiveIntegerField(default=7)
    trainer = models.CharField(max_length=20, choices=Trainer.choices, default=Trainer.STEWARD)
    trainer_url = models.URLField(max_length=500, blank=True, validators=[validate_outbound_url])
    trainer_secret = models.CharField(max_length=200, blank=True)
    window_days = models.PositiveIntegerField(
        default=30, help_text="Labelled production rows of the last N days join the training data."
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    permission_path = "model"

    class Meta:
        verbose_name_plural = "retraining policies"

    def __str__(self) -> str:
        return f"retraining policy of {self.model_id}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.every_days is not None and self.every_days < 1:
            errors["every_days"] = "at least 1 day (or empty for no schedule)"
        if self.every_days is not None and self.min_days > self.every_days:
            errors["min_days"] = "cannot exceed 'retrain at least every N days'"
        if bool(self.metric_name) != (self.metric_threshold is not None):
            errors["metric_threshold"] = "a metric trigger needs both a metric and a threshold"
        if self.window_days < 1:
            errors["window_days"] = "at least 1 day"
        if self.metric_window_days < 1:
            errors["metric_window_days"] = "at least 1 day"
        if self.trainer == Trainer.WEBHOOK:
            if not self.trainer_url:
                errors["trainer_url"] = "the team's trainer needs a URL"
            if len(self.trainer_secret) < 16:
                errors["trainer_secret"] = "a signing secret of at least 16 characters"  # noqa: S105
        if errors:
            raise ValidationError(errors)


class RetrainingRun(models.Model):
    """One retraining: why it started, where it is, and what it produced. A trigger that comes
    inside the policy's "not sooner than" bound makes a deferred run (never dropped); it
    starts when `deferred_until` passes."""

    model = models.ForeignKey(
        "registry.RegisteredModel", on_delete=models.CASCADE, related_name="retraining_runs"
    )
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    reason = models.TextField(blank=True)
    # Triggers that came while this run was open: [{"trigger", "reason", "at"}], oldest first.
    more_triggers = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=20, choices=RunState.choices, default=RunState.QUEUED)
    trainer = models.CharField(max_length=20, choices=Trainer.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    deferred_until = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    base_version = models.ForeignKey(
        "registry.ModelVersion", null=True, on_delete=models.PROTECT, related_name="+"
    )
    result_version = models.ForeignKey(
        "registry.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    training_dataset = models.ForeignKey(
        "registry.Dataset", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    # {"holdout": {...}, "metrics": [{"name", "previous", "candidate"}], "rows": {...}}
    comparison = models.JSONField(default=dict, blank=True)
    approval_request = models.ForeignKey(
        "approvals.ApprovalRequest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # On approval: the canary deployment Steward suggests (never makes).
    suggestion = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    job = models.ForeignKey(
        "monitoring.JobRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()
    permission_path = "model"

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["model", "state"], name="retraining_run_model_state")]

    def __str__(self) -> str:
        return f"retraining run {self.pk} of model {self.model_id} ({self.state})"


class TrainerDelivery(OutboundDelivery):
    """The signed call of the team's trainer for one run; `governance.outbound` claims, posts,
    records and retries it."""

    run = models.ForeignKey(RetrainingRun, on_delete=models.CASCADE, related_name="deliveries")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"trainer call of run {self.run_id} ({self.state})"
