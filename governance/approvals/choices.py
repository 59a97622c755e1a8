from django.db import models


class RequestKind(models.TextChoices):
    VERSION = "version", "Version approval"
    PRODUCTION = "production", "Production deployment"


class RequestState(models.TextChoices):
    # SageMaker's model registry calls this PendingManualApproval; people read words.
    PENDING = "pending", "Pending manual approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired"


class Verdict(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
