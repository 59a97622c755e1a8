"""Enumerations of the registry."""

from django.db import models


class Task(models.TextChoices):
    BINARY = "binary", "Binary classification"
    MULTICLASS = "multiclass", "Multiclass classification"
    REGRESSION = "regression", "Regression"


class RiskTier(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class ValidationStatus(models.TextChoices):
    """Where a model stands with its (re)validation, as the model-risk inventory shows it."""

    NOT_VALIDATED = "not_validated", "Not validated"
    VALIDATED = "validated", "Validated"
    REVALIDATION_DUE = "revalidation_due", "Revalidation due"
    REVALIDATION_OVERDUE = "revalidation_overdue", "Revalidation overdue"


class RegulatoryClass(models.TextChoices):
    """The model's classification under the EU AI Act (Art. 5, 6 and Annex III, Art. 50)."""

    NOT_ASSESSED = "not_assessed", "Not assessed"
    MINIMAL = "minimal", "Minimal risk (not high-risk)"
    LIMITED = "limited", "Limited risk (transparency duties)"
    HIGH = "high", "High-risk (EU AI Act Annex III or Art. 6(1))"
    PROHIBITED = "prohibited", "Prohibited practice (Art. 5)"


class Stage(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING_REVIEW = "pending_review", "Pending review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    ARCHIVED = "archived", "Archived"


class ArtifactKind(models.TextChoices):
    MODEL = "model", "Model binary"
    DATASET = "dataset", "Dataset"
    NOTEBOOK = "notebook", "Notebook"
    REPORT = "report", "Report"
    IMAGE = "image", "Container image"
    REQUIREMENTS = "requirements", "Requirements"
    METRICS = "metrics", "Metrics"
    OTHER = "other", "Other"


class DigestSource(models.TextChoices):
    """Where an artifact's sha256 comes from, and so how far it can be trusted."""

    COMPUTED = "computed", "Computed by Steward on upload"
    PINNED = "pinned", "Pinned in a content-addressed URI"
    DECLARED = "declared", "Declared by the client, not verified"
    NONE = "none", "No digest"


class DatasetKind(models.TextChoices):
    TRAINING = "training", "Training"
    VALIDATION = "validation", "Validation"
    REFERENCE = "reference", "Reference"


class FeatureType(models.TextChoices):
    NUMERIC = "numeric", "Numeric"
    INTEGER = "integer", "Integer"
    CATEGORICAL = "categorical", "Categorical"
    BOOLEAN = "boolean", "Boolean"
    TEXT = "text", "Text"
    DATETIME = "datetime", "Date and time"


class Environment(models.TextChoices):
    DEV = "dev", "Development"
    STAGING = "staging", "Staging"
    PRODUCTION = "production", "Production"


class DeploymentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    RETIRED = "retired", "Retired"


class Action(models.TextChoices):
    """What a user may do with a registered model (and everything that belongs to it)."""

    VIEW = "view", "View"
    CHANGE = "change", "Change"
    DELETE = "delete", "Delete"
    APPROVE = "approve", "Approve"
    DEPLOY = "deploy", "Deploy"
    MANAGE_ACCESS = "manage_access", "Manage access"
