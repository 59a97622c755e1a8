"""What the bridge stores: connections to MLflow tracking servers, which MLflow model and
version each Steward model and version mirrors, and the protected alias's history."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from governance.mlflow.choices import AliasEventKind

DEFAULT_ALIAS = "champion"


class MlflowConnection(models.Model):
    """One MLflow tracking server. The credentials are kept here, encrypted, and nowhere else:
    never in an audit entry (see `connections.connection_snapshot`) nor in an API response
    (write-only)."""

    name = models.CharField(max_length=120, unique=True)
    tracking_uri = models.CharField(max_length=500, unique=True)
    # Encrypted at rest: Fernet tokens under STEWARD_SECRETS_KEY (governance/mlflow/secrets.py);
    # `connections.credentials()` decrypts them for a call to MLflow, nothing else does.
    username = models.TextField(blank=True)
    password = models.TextField(blank=True)
    token = models.TextField(blank=True)
    # MLflow registered model names to mirror; empty: every model of the server.
    model_names = models.JSONField(default=list, blank=True)
    protected_alias = models.CharField(max_length=100, default=DEFAULT_ALIAS)
    revert_unapproved = models.BooleanField(default=False)
    default_team = models.CharField(max_length=120, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MirroredModel(models.Model):
    """An MLflow registered model and the Steward model that mirrors it."""

    connection = models.ForeignKey(
        MlflowConnection, on_delete=models.CASCADE, related_name="mirrored_models"
    )
    mlflow_name = models.CharField(max_length=250)
    model = models.OneToOneField(
        "registry.RegisteredModel", on_delete=models.CASCADE, related_name="mlflow_mirror"
    )
    # The version the protected alias named at the last sync ("" when it named none), so an
    # unapproved move is reported once, not at every sync.
    alias_seen = models.CharField(max_length=20, blank=True)
    deleted_upstream = models.BooleanField(default=False)

    class Meta:
        ordering = ["connection_id", "mlflow_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "mlflow_name"], name="mlflow_model_per_connection"
            )
        ]

    def __str__(self) -> str:
        return f"{self.connection} · {self.mlflow_name}"


class MirroredVersion(models.Model):
    """An MLflow model version and the Steward version that mirrors it. Versions deleted in
    MLflow are marked, never deleted here."""

    mirrored_model = models.ForeignKey(
        MirroredModel, on_delete=models.CASCADE, related_name="versions"
    )
    mlflow_version = models.CharField(max_length=20)
    version = models.OneToOneField(
        "registry.ModelVersion", on_delete=models.CASCADE, related_name="mlflow_mirror"
    )
    run_id = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=1000, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    # The run's logged input datasets (metadata only: MLflow does not keep their rows).
    datasets = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=40, blank=True)
    last_updated_ms = models.BigIntegerField(default=0)
    deleted_upstream = models.BooleanField(default=False)
    deleted_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["mirrored_model_id", "-version_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["mirrored_model", "mlflow_version"], name="mlflow_version_per_model"
            )
        ]

    def __str__(self) -> str:
        return f"{self.mirrored_model.mlflow_name} v{self.mlflow_version}"


class AliasEvent(models.Model):
    """One step in the protected alias's history; rows are only ever added."""

    mirrored_model = models.ForeignKey(
        MirroredModel, on_delete=models.CASCADE, related_name="alias_events"
    )
    alias = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=AliasEventKind.choices)
    # The MLflow version the alias named ("" for none) and its mirror, when there is one.
    mlflow_version = models.CharField(max_length=20, blank=True)
    version = models.ForeignKey(
        "registry.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deployment = models.ForeignKey(
        "registry.Deployment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.alias} {self.kind} v{self.mlflow_version or '-'}"
