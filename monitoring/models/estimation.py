"""Performance estimated without labels (CBPE for classifiers, DLE for regressors).

`HourlyEstimate` holds one hour's additive counts (expected confusion counts, sums of expected
errors): a day's or a window's estimate is computed from their sum, like the other hourly
summaries. `DailyEstimate` is one day's estimate with its bands and, once labels have arrived,
the realised figures and how far the estimate was off. Both are derived rows, rebuilt in place
by the monitoring job.
"""

from __future__ import annotations

from django.db import models


class EstimationMethod(models.TextChoices):
    CBPE = "cbpe", "Confidence-based performance estimation"
    DLE = "dle", "Direct loss estimation"


class HourlyEstimate(models.Model):
    """The additive estimation counts of one UTC hour of one deployment's predictions."""

    deployment = models.ForeignKey(
        "registry.Deployment", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    hour = models.DateTimeField()
    method = models.CharField(max_length=10, choices=EstimationMethod.choices)
    counts = models.JSONField(default=dict)
    rows = models.PositiveIntegerField()
    # Which reference (dataset sha256, calibration / loss model) the counts were made with.
    reference_digest = models.CharField(max_length=64)
    built_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["deployment_id", "hour"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "hour"], name="hourly_estimate_key")
        ]

    def __str__(self) -> str:
        return f"estimate counts @ {self.hour:%Y-%m-%d %H}:00 of deployment {self.deployment_id}"


class DailyEstimate(models.Model):
    """One UTC day's estimated metrics ({metric: {"value", "lower", "upper"}}), the realised
    metrics of its labelled predictions when there are any, and the estimate's error
    (estimate minus realised) per metric: the honest record of how good the estimates were."""

    deployment = models.ForeignKey(
        "registry.Deployment", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField()
    method = models.CharField(max_length=10, choices=EstimationMethod.choices)
    task = models.CharField(max_length=20)
    predictions = models.PositiveIntegerField()
    estimated = models.JSONField(default=dict)
    labelled = models.PositiveIntegerField(default=0)
    realised = models.JSONField(default=dict, blank=True)
    error = models.JSONField(default=dict, blank=True)
    # What the estimate rests on: the reference dataset and, for CBPE, whether calibration
    # was applied and the calibration errors before and after.
    reference = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["deployment_id", "-day"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "day"], name="daily_estimate_key")
        ]

    def __str__(self) -> str:
        return f"estimated performance {self.day} of deployment {self.deployment_id}"
