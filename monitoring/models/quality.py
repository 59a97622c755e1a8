"""Model quality: daily performance against ground truth, per-deployment monitoring settings
and the current good / at-risk / failing status of each deployment.

All three are derived or configuration rows keyed by deployment (and day): builders update
them in place, so repeating the monitoring job stores nothing new.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from governance.outbound.addresses import validate_outbound_url
from governance.outbound.models import OutboundDelivery


class DailyPerformance(models.Model):
    """Metrics of one UTC day of one deployment's predictions that have ground truth. The day
    is the prediction's; `metrics` holds the engines' figures for the model's task (absent
    figures are null, e.g. ROC AUC of a day with one class)."""

    deployment = models.ForeignKey(
        "registry.Deployment", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField()
    task = models.CharField(max_length=20)
    predictions = models.PositiveIntegerField()
    labelled = models.PositiveIntegerField()
    metrics = models.JSONField(default=dict)
    # Per-group selection rate and accuracy for the sensitive attribute ({} when none is set);
    # its two headline figures are also in `metrics`, so alert rules can use them.
    fairness = models.JSONField(default=dict, blank=True)
    # What the figures were computed with (binary models; null / "" otherwise), and the sha256
    # of the joined rows they were computed from, so a figure can be recomputed and checked.
    decision_threshold = models.FloatField(null=True, blank=True)
    positive_label = models.CharField(max_length=200, blank=True)
    input_digest = models.CharField(max_length=64, blank=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["deployment_id", "-day"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "day"], name="daily_performance_key")
        ]

    def __str__(self) -> str:
        return f"performance {self.day} of deployment {self.deployment_id}"


class MonitoringSettings(models.Model):
    """Status thresholds of one deployment (keys of the engines' `Thresholds`; missing keys take
    the defaults) and the label that counts as positive for binary metrics."""

    deployment = models.OneToOneField(
        "registry.Deployment", on_delete=models.CASCADE, related_name="monitoring_settings"
    )
    thresholds = models.JSONField(default=dict, blank=True)
    # {feature name, "numerical" or "categorical": method name, or {"method", "threshold",
    # options}}: a feature's own entry wins over its kind's; absent, the engines choose.
    drift_methods = models.JSONField(default=dict, blank=True)
    positive_label = models.CharField(max_length=200, default="1")
    # An input feature whose groups are compared for fairness (binary models), or "".
    sensitive_attribute = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"monitoring settings of deployment {self.deployment_id}"


class DeploymentStatus(models.Model):
    """The current verdict per axis of one deployment: {axis: {"level", "reason"}} for
    accuracy, drift, service health and data quality, replaced on each computation."""

    deployment = models.OneToOneField(
        "registry.Deployment", on_delete=models.CASCADE, related_name="monitoring_status"
    )
    accuracy_level = models.CharField(max_length=20)
    accuracy_reason = models.TextField()
    drift_level = models.CharField(max_length=20)
    drift_reason = models.TextField()
    service_health_level = models.CharField(max_length=20)
    service_health_reason = models.TextField()
    # Missing values, out-of-range values, unseen categories and type errors of the inputs.
    data_quality_level = models.CharField(max_length=20, default="unknown")
    data_quality_reason = models.TextField(blank=True)
    computed_at = models.DateTimeField()

    AXES = ("accuracy", "drift", "service_health", "data_quality")

    def __str__(self) -> str:
        return f"status of deployment {self.deployment_id}"


class AlertSource(models.TextChoices):
    METRIC = "metric", "Daily metric"
    # A metric estimated without labels (CBPE / DLE: accuracy, precision, recall, f1, roc_auc,
    # mae, rmse), the mean of the last `window_days` days with estimates.
    ESTIMATED = "estimated", "Estimated metric"
    STATUS = "status", "Status axis"
    # A canary's headline metric minus its baseline's (the production deployment it shares
    # an endpoint with); fires a rollback suggestion.
    CANARY = "canary", "Canary vs baseline"
    # A data-quality share (`name` is "missing_share", "out_of_range_share", "unseen_share" or
    # "type_error_share", optionally ":<feature>"; else the worst feature's).
    QUALITY = "quality", "Data quality"
    # Built in, raised by another app's service (`alert_raise`), never evaluated from a
    # figure: e.g. governance's MLflow bridge ("mlflow_alias_unapproved"). Not user-made.
    EXTERNAL = "external", "Raised by Steward"


class Comparator(models.TextChoices):
    LT = "lt", "<"
    LE = "le", "≤"
    GT = "gt", ">"
    GE = "ge", "≥"


class Severity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class AlertState(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


class AlertRule(models.Model):
    """A condition on one deployment, or on every deployment of one model: a daily metric
    (`name` is the metric, e.g. "roc_auc"), a status axis (`name` is the axis; the value
    compared is the level's rank: unknown -1, good 0, at risk 1, failing 2), or a canary's
    metric minus its baseline's (`name` is the metric; only canaries have a value)."""

    model = models.ForeignKey(
        "registry.RegisteredModel",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    deployment = models.ForeignKey(
        "registry.Deployment", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    source = models.CharField(max_length=10, choices=AlertSource.choices)
    name = models.CharField(max_length=80)
    comparator = models.CharField(max_length=2, choices=Comparator.choices)
    threshold = models.FloatField()
    # Metric and canary rules look at the mean of the last `window_days` days with ground
    # truth (weighted by labelled predictions); status rules at the current level.
    window_days = models.PositiveSmallIntegerField(default=1)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.WARNING)
    notify_in_app = models.BooleanField(default=True)
    notify_email = models.BooleanField(default=False)
    webhook_url = models.URLField(blank=True, validators=[validate_outbound_url])
    webhook_secret = models.CharField(max_length=200, blank=True)
    retraining = models.BooleanField(
        default=False, help_text="Also ask the webhook for a retraining run when the alert opens."
    )
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(model__isnull=True, deployment__isnull=False)
                | models.Q(model__isnull=False, deployment__isnull=True),
                name="alert_rule_one_scope",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.name} {self.comparator} {self.threshold}"


class Alert(models.Model):
    """One firing of a rule on one deployment. At most one unresolved alert per dedup key
    (rule and deployment), enforced by the database, so repeated evaluations open it once."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    deployment = models.ForeignKey(
        "registry.Deployment", on_delete=models.CASCADE, related_name="+"
    )
    state = models.CharField(
        max_length=20, choices=AlertState.choices, default=AlertState.OPEN, db_index=True
    )
    value = models.FloatField(null=True)
    message = models.TextField()
    dedup_key = models.CharField(max_length=100)
    # What Steward suggests doing about it ("rollback" for a canary doing worse), or "".
    suggestion = models.CharField(max_length=40, blank=True)
    opened_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dedup_key"],
                condition=~models.Q(state="resolved"),
                name="alert_one_unresolved_per_key",
            )
        ]

    def __str__(self) -> str:
        return f"alert {self.pk} ({self.state}) on deployment {self.deployment_id}"


class AlertDelivery(OutboundDelivery):
    """One webhook POST of an alert ("alert" or "retraining"), or a test of a rule's webhook
    ("test": no alert, the rule itself): what is sent, where, and how each attempt went.
    `governance.outbound` claims, posts, records and retries it."""

    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    rule = models.ForeignKey(
        AlertRule, null=True, blank=True, on_delete=models.CASCADE, related_name="tests"
    )
    kind = models.CharField(max_length=20)  # "alert", "retraining" or "test"
    url = models.URLField(validators=[validate_outbound_url])

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(alert__isnull=False) | models.Q(rule__isnull=False),
                name="alert_delivery_of_alert_or_rule",
            )
        ]

    def __str__(self) -> str:
        of = f"alert {self.alert_id}" if self.alert_id else f"rule {self.rule_id}"
        return f"{self.kind} delivery of {of}: {self.state}"
