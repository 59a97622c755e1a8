"""Prediction events and ground truth: append-only rows sent in batches by serving apps.

Both tables are keyed for idempotency on (deployment, request_id): a batch posted twice is
stored once. Ground truth joins predictions on the same pair and may arrive before or after
the prediction it labels, so neither table has a foreign key to the other.

On PostgreSQL both tables are partitioned by month of `timestamp` (migration
0016_retention_partitions, docs/operations.md "Raw-event retention"): the primary key there is
(id, timestamp) and the unique constraint named below holds (deployment, request_id,
timestamp), since a partitioned table's keys must include the partition key. Ingestion
(`ingestion/storage.py`) looks the pair up across partitions before writing, so a resend is
still stored once. The models keep Django's view of the plain table (SQLite keeps it as is).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class EventStatus(models.TextChoices):
    OK = "ok", "OK"
    ERROR = "error", "Error"


class PredictionEvent(models.Model):
    """One prediction served by a deployment. Rows are only ever inserted (bulk, in batches);
    the composite indexes both lead with the deployment, so the foreign key needs none."""

    deployment = models.ForeignKey(
        "registry.Deployment", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    request_id = models.CharField(max_length=200)
    timestamp = models.DateTimeField()
    features = models.JSONField(default=dict)
    # NULL: no label was sent (regression, or an error); distinct from an empty label.
    prediction_label = models.TextField(null=True, blank=True)  # noqa: DJ001
    prediction_score = models.FloatField(null=True, blank=True)
    # Every class's probability {class: p} (multiclass, optional): macro one-vs-rest ROC AUC.
    prediction_scores = models.JSONField(null=True, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=EventStatus.choices, default=EventStatus.OK)
    error = models.TextField(blank=True, default="")
    cache_hit = models.BooleanField(null=True, blank=True)
    cpu = models.FloatField(null=True, blank=True)
    memory = models.FloatField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [models.Index(fields=["deployment", "timestamp"], name="prediction_dep_time")]
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "request_id"], name="prediction_dep_request_unique"
            )
        ]

    def __str__(self) -> str:
        return f"prediction {self.request_id} of deployment {self.deployment_id}"


class GroundTruth(models.Model):
    """The observed outcome of one request: a label (classification) or a value (regression).
    Joins PredictionEvent on (deployment, request_id)."""

    deployment = models.ForeignKey(
        "registry.Deployment", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    request_id = models.CharField(max_length=200)
    label = models.TextField(null=True, blank=True)  # noqa: DJ001 (NULL: a value, no label)
    value = models.FloatField(null=True, blank=True)
    timestamp = models.DateTimeField(default=timezone.now)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [models.Index(fields=["deployment", "timestamp"], name="groundtruth_dep_time")]
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "request_id"], name="groundtruth_dep_request_unique"
            )
        ]

    def __str__(self) -> str:
        return f"ground truth {self.request_id} of deployment {self.deployment_id}"


class DeploymentActivity(models.Model):
    """Running totals of one deployment's stored predictions, kept up to date by ingestion in
    the batch's transaction, so lists of deployments read one row each, never the events."""

    deployment = models.OneToOneField(
        "registry.Deployment",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="monitoring_activity",
    )
    predictions = models.BigIntegerField(default=0)
    first_prediction_at = models.DateTimeField(null=True, blank=True)
    last_prediction_at = models.DateTimeField(null=True, blank=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"activity of deployment {self.deployment_id}"


class RawTable(models.TextChoices):
    PREDICTIONS = "predictions", "Prediction events"
    GROUND_TRUTH = "ground_truth", "Ground truth"


class RetentionHorizon(models.Model):
    """How far back a raw-event table has been cut by retention: every row dated before
    `dropped_before` is gone (its hours' summaries stay), and ingestion refuses rows dated
    before it, which could only land in an hour whose summaries are final."""

    table = models.CharField(max_length=20, choices=RawTable.choices, unique=True)
    dropped_before = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.table} kept from {self.dropped_before:%Y-%m-%d}"
