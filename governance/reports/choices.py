from django.db import models


class ReportKind(models.TextChoices):
    VERSION = "version", "Model version report"
    DEPLOYMENT = "deployment", "Deployment report"
