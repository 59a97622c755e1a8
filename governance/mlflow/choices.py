"""Enumerations of the MLflow bridge."""

from __future__ import annotations

from django.db import models


class AliasEventKind(models.TextChoices):
    # Steward decided the protected alias names this version (a production approval).
    APPROVED = "approved", "Approved in Steward"
    # Steward wrote the approved alias to MLflow.
    SET = "set", "Set in MLflow by Steward"
    SET_FAILED = "set_failed", "Could not be set in MLflow"
    # The sync found the alias somewhere no approval put it.
    UNAPPROVED = "unapproved", "Moved in MLflow without approval"
    REVERTED = "reverted", "Moved back by Steward"
