"""Deployments: a version serving in an environment. Rollbacks are new rows."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from registry.choices import DeploymentStatus, Environment
from registry.querysets import RestrictedQuerySet


class Deployment(models.Model):
    """A version serving at an endpoint. A rollback is a new deployment that points at an
    earlier version and names the deployment it replaced; the old row is never rewritten
    beyond its status."""

    version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.PROTECT, related_name="deployments"
    )
    environment = models.CharField(max_length=20, choices=Environment.choices, db_index=True)
    endpoint = models.CharField(max_length=300)
    status = models.CharField(
        max_length=20,
        choices=DeploymentStatus.choices,
        default=DeploymentStatus.ACTIVE,
        db_index=True,
    )
    decision_threshold = models.DecimalField(
        max_digits=6,
        decimal_places=5,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
    )
    traffic_share = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal(100),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text="Percent of the endpoint's traffic (canary and A/B splits).",
    )
    description = models.TextField(blank=True)
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    is_rollback = models.BooleanField(default=False)
    deployed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    deployed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    permission_path = "version__model"

    class Meta:
        ordering = ["-deployed_at", "-id"]
        indexes = [models.Index(fields=["environment", "endpoint", "status"])]

    def __str__(self) -> str:
        return f"{self.version} @ {self.environment} ({self.endpoint})"
