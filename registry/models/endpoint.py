"""Endpoints: who may serve behind an (environment, endpoint) pair."""

from __future__ import annotations

from django.db import models

from registry.choices import Environment
from registry.querysets import RestrictedQuerySet


class Endpoint(models.Model):
    """An endpoint belongs to the model that first served it; only that model's versions may
    be deployed behind it, so its traffic shares are all the owner's to see. Administrators
    move it to another model with `registry.services.endpoint_move` (audited)."""

    environment = models.CharField(max_length=20, choices=Environment.choices)
    name = models.CharField(max_length=300)
    model = models.ForeignKey(
        "registry.RegisteredModel", on_delete=models.PROTECT, related_name="endpoints"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    permission_path = "model"

    class Meta:
        ordering = ["environment", "name"]
        constraints = [
            models.UniqueConstraint(fields=["environment", "name"], name="endpoint_per_environment")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.environment})"
