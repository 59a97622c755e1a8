"""Model versions: numbered per model, with schema, metrics and a code reference."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from registry.choices import Stage
from registry.querysets import RestrictedQuerySet


class ModelVersion(models.Model):
    """One trained version of a model. `number` is allocated 1, 2, 3… per model without races
    (see `registry.services.version_register`)."""

    model = models.ForeignKey(
        "registry.RegisteredModel", on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    stage = models.CharField(
        max_length=20, choices=Stage.choices, default=Stage.DRAFT, db_index=True
    )
    description = models.TextField(blank=True)
    # [{"name": "age", "type": "numeric", "categories": [...]?}, ...]
    input_schema = models.JSONField(default=list, blank=True)
    hyperparameters = models.JSONField(default=dict, blank=True)
    training_metrics = models.JSONField(default=dict, blank=True)
    feature_importance = models.JSONField(default=dict, blank=True)
    code_repository = models.CharField(max_length=300, blank=True)
    code_commit = models.CharField(max_length=64, blank=True)
    framework = models.CharField(max_length=80, blank=True)
    # A key the registering client chose (a pipeline run, a hash of its inputs): registering
    # again with the same key returns this version instead of a new one.
    client_key = models.CharField(max_length=200, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    permission_path = "model"
    # Set by registry.selectors.model_versions for the pages (not columns).
    key_metrics: list[tuple[str, Any]]

    class Meta:
        ordering = ["model_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["model", "number"], name="version_number_per_model"),
            models.UniqueConstraint(
                fields=["model", "client_key"],
                condition=~models.Q(client_key=""),
                name="version_client_key_per_model",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model.name} v{self.number}"

    @property
    def is_frozen(self) -> bool:
        """Approved (and later archived) versions keep their artifacts as they were."""
        return self.stage in (Stage.APPROVED, Stage.ARCHIVED)

    @property
    def feature_names(self) -> list[str]:
        return [feature["name"] for feature in self.input_schema]
