"""Datasets: versioned tables (training, validation, reference) profiled on upload."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from registry.choices import DatasetKind
from registry.querysets import RestrictedQuerySet


def dataset_upload_to(instance: Dataset, filename: str) -> str:
    return f"datasets/{instance.model.slug}/{instance.name}/v{instance.number}/{filename}"


class Dataset(models.Model):
    """A table read with pandas on upload into schema, row count, sha256 and a column profile.
    Belongs to a registered model, whose permissions it inherits."""

    model = models.ForeignKey(
        "registry.RegisteredModel", on_delete=models.CASCADE, related_name="datasets"
    )
    name = models.SlugField(max_length=120)
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=DatasetKind.choices)
    description = models.TextField(blank=True)
    # Empty for a metadata-only (external) dataset, which has no file in Steward.
    file = models.FileField(upload_to=dataset_upload_to, max_length=400, blank=True)
    file_format = models.CharField(max_length=10, blank=True)  # csv | parquet
    sha256 = models.CharField(max_length=64, db_index=True, blank=True)
    size = models.PositiveBigIntegerField()
    row_count = models.PositiveBigIntegerField()
    # [{"name": ..., "type": ...}] and {column: {type, missing_share, min, max, ...}}
    schema = models.JSONField(default=list)
    profile = models.JSONField(default=dict)
    # Metadata only: a dataset another system logged (e.g. MLflow's `log_input`) whose rows
    # Steward never received. No file, no sha256 of Steward's; the digest its source system
    # gave it, where it lives, and the schema and profile that system recorded.
    external = models.BooleanField(default=False)
    external_system = models.CharField(max_length=40, blank=True)  # "mlflow"
    external_digest = models.CharField(max_length=128, blank=True)
    source_type = models.CharField(max_length=40, blank=True)  # MLflow's: "local", "s3", ...
    source_uri = models.CharField(max_length=2000, blank=True)
    external_metadata = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    permission_path = "model"

    class Meta:
        ordering = ["model_id", "name", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "name", "number"], name="dataset_number_per_name"
            ),
            # A dataset has its file, or is marked metadata-only.
            models.CheckConstraint(
                condition=models.Q(external=True) | ~models.Q(file=""),
                name="dataset_file_or_external",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"
