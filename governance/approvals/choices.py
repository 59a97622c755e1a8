from django.db import models


class RequestKind(models.TextChoices):
    VERSION = "version", "Version approval"
    PRODUCTION = "production", "Production deployment"
    REVALIDATION = "revalidation", "Periodic revalidation"


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


# The background job (a JobRun kind) that renders and signs the test log of a request closed
# as approved; governance.reports registers its body (governance/reports/testlog.py).
TEST_LOG_JOB = "approval_test_log"
