from django.db import models


class ReportKind(models.TextChoices):
    VERSION = "version", "Model version report"
    DEPLOYMENT = "deployment", "Deployment report"
    # EU AI Act Annex IV technical documentation of a version (governance/reports/techdoc.py).
    TECHNICAL_DOCUMENTATION = "technical-documentation", "Technical documentation (Annex IV)"
    # The validation report signed when a version's approval completes, naming its reviewers.
    TEST_LOG = "test-log", "Signed test log"
