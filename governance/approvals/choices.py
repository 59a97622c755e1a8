from django.db import models


class RequestKind(models.TextChoices):
    VERSION = "version", "Version approval"
    PRODUCTION = "production", "Production deployment"


class RequestState(models.TextChoices):
    # The labels follow the vocabulary users know from SageMaker's model registry.
    PENDING = "pending", "PendingManualApproval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired"


class Verdict(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
