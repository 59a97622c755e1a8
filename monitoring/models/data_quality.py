"""Data quality of production inputs per hour: counts that add up to any window's figures."""

from __future__ import annotations

from django.db import models


class HourlyQuality(models.Model):
    """One hour of one deployment's events checked feature by feature: `features` maps each
    input-schema feature to its counts (rows, missing, type errors, values, out of range,
    unseen, a few unseen examples with counts; see engines/quality_counts.py). Derived data,
    rebuilt in place when the hour gains events or its reference changes."""

    deployment = models.ForeignKey(
        "registry.Deployment", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    hour = models.DateTimeField()
    count = models.PositiveIntegerField()  # events in the hour when it was built
    features = models.JSONField(default=dict)
    # sha256 of the ranges and vocabularies the hour was checked against.
    reference_digest = models.CharField(max_length=64)
    built_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["deployment_id", "hour"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "hour"], name="hourly_quality_key")
        ]

    def __str__(self) -> str:
        return f"quality @ {self.hour:%Y-%m-%d %H}:00 of deployment {self.deployment_id}"
