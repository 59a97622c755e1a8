"""Model card revisions: each save of a version's card is a new numbered row, never edited."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from registry.querysets import RestrictedQuerySet


class ModelCardRevision(models.Model):
    """One revision of a version's model card: the text sections its owners wrote and the
    data sections Steward computed when it was saved (`content`), with the SHA-256 of its
    canonical JSON (`digest`), which the version's release manifest binds."""

    version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.CASCADE, related_name="card_revisions"
    )
    number = models.PositiveIntegerField()
    content = models.JSONField()
    digest = models.CharField(max_length=64)
    note = models.CharField(max_length=300, blank=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    permission_path = "version__model"

    class Meta:
        app_label = "governance"
        ordering = ["version", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["version", "number"], name="card_revision_once")
        ]

    def __str__(self) -> str:
        return f"model card of {self.version} r{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("model card revisions are never edited")
        super().save(*args, **kwargs)
