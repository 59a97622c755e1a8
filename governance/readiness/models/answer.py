"""Answers to the checklist, one current answer per model version and item."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from governance.readiness.choices import AnswerChoice
from registry.querysets import RestrictedQuerySet


class ChecklistAnswer(models.Model):
    """The current answer of a model version to one checklist item.

    Invariants (checked by `clean`, the first also by the database):
    - "not applicable" carries a note that says why;
    - "yes" to an item with `evidence_required` carries evidence: a non-blank text, a URL or
      an artifact of the same version;
    - an evidence artifact belongs to the answered version.
    Re-answering rewrites this row; the audit log keeps every earlier answer.
    """

    version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.CASCADE, related_name="checklist_answers"
    )
    item = models.ForeignKey(
        "readiness.ChecklistItem", on_delete=models.PROTECT, related_name="answers"
    )
    answer = models.CharField(max_length=20, choices=AnswerChoice.choices)
    evidence_text = models.TextField(blank=True)
    evidence_url = models.URLField(max_length=500, blank=True)
    # A deleted artifact leaves the answer standing without it: while the version is not
    # approved its owner may still remove artifacts, and that must not fail on this reference.
    evidence_artifact = models.ForeignKey(
        "registry.Artifact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="checklist_answers",
    )
    note = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField()

    objects = RestrictedQuerySet.as_manager()
    permission_path = "version__model"

    class Meta:
        ordering = ["version_id", "item__section__order", "item__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "item"], name="readiness_one_answer_per_item"
            ),
            models.CheckConstraint(
                condition=Q(answer__in=AnswerChoice.values), name="readiness_answer_is_a_choice"
            ),
            models.CheckConstraint(
                condition=~Q(answer=AnswerChoice.NOT_APPLICABLE) | ~Q(note=""),
                name="readiness_not_applicable_has_note",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} · {self.item.key}: {self.answer}"

    @property
    def has_evidence(self) -> bool:
        return bool(self.evidence_text.strip() or self.evidence_url or self.evidence_artifact_id)

    @property
    def settles_item(self) -> bool:
        """True when the item needs no more work: not applicable (with its reason), or yes with
        the evidence the item asks for. A yes whose only evidence artifact was deleted since is
        open again."""
        if self.answer == AnswerChoice.NOT_APPLICABLE:
            return True
        if self.answer != AnswerChoice.YES:
            return False
        return self.has_evidence or not self.item.evidence_required

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.answer == AnswerChoice.NOT_APPLICABLE and not self.note.strip():
            errors["note"] = "a 'not applicable' answer needs a note saying why"
        if (
            self.answer == AnswerChoice.YES
            and self.item.evidence_required
            and not self.has_evidence
        ):
            hint = f" ({self.item.evidence_hint})" if self.item.evidence_hint else ""
            errors["evidence_text"] = (
                f"item {self.item.key} needs evidence for 'yes': give evidence_text, "
                f"evidence_url or evidence_artifact{hint}"
            )
        artifact = self.evidence_artifact
        if artifact is not None and artifact.version_id != self.version_id:
            errors["evidence_artifact"] = f"artifact {artifact.pk} belongs to another version"
        if errors:
            raise ValidationError(errors)
