"""Enumerations of retraining."""

from django.db import models


class Trainer(models.TextChoices):
    # The team's own pipeline, called by a signed webhook; it answers through the callback.
    WEBHOOK = "webhook", "The team's trainer (signed webhook)"
    # Steward refits the same scikit-learn estimator on the original data plus labelled rows.
    STEWARD = "steward", "Steward refits the scikit-learn estimator"


class Trigger(models.TextChoices):
    SCHEDULE = "schedule", "Due (at least every N days)"
    DRIFT = "drift", "Drift status failing"
    REALISED_METRIC = "realised_metric", "Realised metric under its threshold"
    ESTIMATED_METRIC = "estimated_metric", "Estimated metric under its threshold"
    MANUAL = "manual", "Manual request"


class RunState(models.TextChoices):
    DEFERRED = "deferred", "Deferred (not sooner than the policy allows)"
    QUEUED = "queued", "Queued"
    TRAINING = "training", "Training"
    AWAITING_APPROVAL = "awaiting_approval", "New version awaiting approval"
    APPROVED = "approved", "Approved (canary suggested)"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# A run in one of these states blocks another from starting: one retraining at a time.
OPEN_STATES = (
    RunState.DEFERRED,
    RunState.QUEUED,
    RunState.TRAINING,
    RunState.AWAITING_APPROVAL,
)
