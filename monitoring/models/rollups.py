"""Rollups of prediction events: what monitoring reads instead of raw rows.

A `ReferenceProfile` fixes, once per model version, the layout (bin edges, category vocabulary)
of each feature and the reference data's summary on it. Hourly rows summarise each hour's
events on those layouts; a window's drift merges them, so its cost does not grow with the
traffic. Every row is derived data: it can be deleted and rebuilt from the events, and the
builders are idempotent (one row per key, updated in place).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ReferenceProfile(models.Model):
    """Per-feature layouts and reference summaries of one model version, built once from a
    training (or reference) dataset of its model. `digest` names the layouts: hourly rows
    built on other layouts are not merged with this profile's."""

    version = models.OneToOneField(
        "registry.ModelVersion", on_delete=models.CASCADE, related_name="reference_profile"
    )
    dataset = models.ForeignKey(
        "registry.Dataset", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    dataset_sha256 = models.CharField(max_length=64)
    feature_types = models.JSONField(default=dict)  # {feature: declared type}
    layouts = models.JSONField(default=dict)  # {feature: layout dict}
    summaries = models.JSONField(default=dict)  # {feature: summary dict}
    # A seeded sample of reference rows ({feature: value} records) for multivariate drift.
    sample = models.JSONField(default=list, blank=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"reference profile of version {self.version_id}"


class ReferenceChoice(models.Model):
    """The dataset an owner chose as a version's reference, overriding its lineage (the
    dataset it was trained on). Kept apart from the profile, which is derived data."""

    version = models.OneToOneField(
        "registry.ModelVersion", on_delete=models.CASCADE, related_name="reference_choice"
    )
    dataset = models.ForeignKey("registry.Dataset", on_delete=models.PROTECT, related_name="+")
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    chosen_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"reference of version {self.version_id}: dataset {self.dataset_id}"


class StaleHour(models.Model):
    """A (deployment, UTC hour) whose rollups no longer match its rows: ingestion marks it in
    the batch's transaction, the monitoring job rebuilds it and removes the mark. `marked_at`
    moves on every new mark, so a job removes only the marks it has seen."""

    deployment = models.ForeignKey(
        "registry.Deployment", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    hour = models.DateTimeField()
    marked_at = models.DateTimeField()

    class Meta:
        ordering = ["deployment_id", "hour"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "hour"], name="stale_hour_key")
        ]

    def __str__(self) -> str:
        return f"stale {self.hour:%Y-%m-%d %H}:00 of deployment {self.deployment_id}"


class HourlySummary(models.Model):
    """The mergeable summary of one feature's values in one hour of one deployment's events."""

    deployment = models.ForeignKey(
        "registry.Deployment", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    feature = models.CharField(max_length=200)
    hour = models.DateTimeField()
    summary = models.JSONField()
    row_count = models.PositiveIntegerField()
    digest = models.CharField(max_length=64)
    profile_digest = models.CharField(max_length=64)
    built_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["deployment_id", "feature", "hour"]
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "feature", "hour"], name="hourly_summary_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.feature} @ {self.hour:%Y-%m-%d %H}:00 of deployment {self.deployment_id}"


class HourlyHealth(models.Model):
    """Service health of one hour of one deployment. Counts are exact and add up across hours;
    latency quantiles are the hour's own (a day's are estimated from its hours)."""

    deployment = models.ForeignKey(
        "registry.Deployment", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    hour = models.DateTimeField()
    count = models.PositiveIntegerField()
    errors = models.PositiveIntegerField()
    latency_count = models.PositiveIntegerField(default=0)
    latency_mean_ms = models.FloatField(null=True, blank=True)
    latency_p50_ms = models.FloatField(null=True, blank=True)
    latency_p95_ms = models.FloatField(null=True, blank=True)
    latency_p99_ms = models.FloatField(null=True, blank=True)
    cache_hits = models.PositiveIntegerField(default=0)
    cache_reported = models.PositiveIntegerField(default=0)
    cpu_mean = models.FloatField(null=True, blank=True)
    memory_mean = models.FloatField(null=True, blank=True)
    profile_digest = models.CharField(max_length=64, blank=True)
    built_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["deployment_id", "hour"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "hour"], name="hourly_health_key")
        ]

    def __str__(self) -> str:
        return f"health @ {self.hour:%Y-%m-%d %H}:00 of deployment {self.deployment_id}"


class DriftKind(models.TextChoices):
    FEATURE = "feature", "Feature"
    PREDICTION = "prediction", "Prediction"
    MULTIVARIATE = "multivariate", "Multivariate"


class DriftResult(models.Model):
    """One feature's drift verdict for one window, with everything needed to recompute it:
    method, parameters, engine version and the digests of both summaries compared."""

    deployment = models.ForeignKey(
        "registry.Deployment", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    feature = models.CharField(max_length=200)
    # "prediction" rows compare the predictions with the reference targets; "multivariate"
    # rows (feature named after the method) compare whole rows.
    kind = models.CharField(max_length=20, choices=DriftKind.choices, default=DriftKind.FEATURE)
    method = models.CharField(max_length=40)
    # NULL only when the statistic is not a finite number (kept as text in parameters).
    statistic = models.FloatField(null=True)
    p_value = models.FloatField(null=True, blank=True)
    threshold = models.FloatField()
    drifted = models.BooleanField()
    parameters = models.JSONField(default=dict)
    engine_version = models.CharField(max_length=40)
    reference_digest = models.CharField(max_length=64)
    current_digest = models.CharField(max_length=64)
    # The profile compared with and the dataset it was built from: a later change of the
    # version's reference does not rewrite what this row was computed against.
    profile_digest = models.CharField(max_length=64, blank=True)
    reference_dataset = models.ForeignKey(
        "registry.Dataset", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reference_sha256 = models.CharField(max_length=64, blank=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["deployment_id", "-window_end", "feature"]
        indexes = [
            models.Index(fields=["deployment", "window_end"], name="drift_dep_window_end"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "window_start", "window_end", "feature"],
                name="drift_result_key",
            )
        ]

    def __str__(self) -> str:
        return f"drift of {self.feature} ({self.method}) for deployment {self.deployment_id}"


class PostedSummary(models.Model):
    """Summaries of one hour of one deployment posted by one source instead of its events
    (`POST /api/v1/deployments/{id}/summaries/`). Kept apart from the hourly rows, which are
    derived: a rebuild of the hour merges the summary of its raw events with every source's
    posted summary, so it neither loses nor doubles them. A source re-posting an hour
    replaces its own row."""

    deployment = models.ForeignKey(
        "registry.Deployment", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    hour = models.DateTimeField()
    source = models.CharField(max_length=200)
    count = models.PositiveIntegerField()
    # Every feature's summary of the hour, the prediction's too, without their layouts (the
    # profile's, by layout_digest), as one binary value (monitoring/rollups/posted_blobs.py;
    # rows stored before it are zlib-compressed JSON, still read by `features_of`): kept
    # whole, never queried into. lz4 on PostgreSQL (migration 0019).
    features = models.BinaryField()
    health = models.JSONField(default=dict)  # steward_client.health contribution
    # steward_client.performance counts, kept as sent; daily performance merges them
    performance = models.JSONField(null=True, blank=True)
    layout_digest = models.CharField(max_length=64)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    posted_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["deployment_id", "hour", "source"]
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "hour", "source"], name="posted_summary_key"
            )
        ]

    def __str__(self) -> str:
        return (
            f"summaries of {self.hour:%Y-%m-%d %H}:00 from {self.source} "
            f"for deployment {self.deployment_id}"
        )
