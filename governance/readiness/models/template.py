"""Checklist templates: numbered versions of the readiness questions, in sections.

Templates are written by migrations (see `governance.readiness.loader`), never edited in place:
answers point at the items of the template version they were given against, so changing a
question's meaning would change what old answers say. A new wording is a new template version.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from governance.readiness.choices import TIER_ORDER

ITEM_KEY = RegexValidator(
    r"^[a-z0-9]+(-[a-z0-9]+)*\.[a-z0-9]+(-[a-z0-9]+)*$",
    "an item key reads '<section>.<name>' in lower case, e.g. 'data.source-documented'",
)


class ChecklistTemplate(models.Model):
    """One version of the checklist. At most one template is active: new answers are given
    against it (a version that already has answers keeps its own template)."""

    version = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=Q(is_active=True),
                name="readiness_one_active_template",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"


class ChecklistSection(models.Model):
    """A group of questions (business need, data, the model, …), ordered within its template."""

    template = models.ForeignKey(
        ChecklistTemplate, on_delete=models.CASCADE, related_name="sections"
    )
    key = models.SlugField(max_length=40)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    order = models.PositiveIntegerField()

    class Meta:
        ordering = ["template_id", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "key"], name="readiness_section_key_per_template"
            ),
            models.UniqueConstraint(
                fields=["template", "order"], name="readiness_section_order_per_template"
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.template.version} · {self.title}"


class ChecklistItem(models.Model):
    """One question. `key` is stable across template versions for the same question;
    `required_for` lists the risk tiers for which the item must be settled (answered yes, or
    not applicable with a reason) before the version may be approved; `evidence_required`
    means a "yes" must come with evidence."""

    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE, related_name="items")
    section = models.ForeignKey(ChecklistSection, on_delete=models.CASCADE, related_name="items")
    key = models.CharField(max_length=80, validators=[ITEM_KEY])
    order = models.PositiveIntegerField()
    question = models.TextField()
    guidance = models.TextField(blank=True)
    evidence_hint = models.CharField(max_length=300, blank=True)
    evidence_required = models.BooleanField(default=False)
    required_for = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["template_id", "section__order", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "key"], name="readiness_item_key_per_template"
            ),
            models.UniqueConstraint(
                fields=["section", "order"], name="readiness_item_order_per_section"
            ),
        ]

    def __str__(self) -> str:
        return self.key

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.section_id and self.template_id and self.section.template_id != self.template_id:
            errors["section"] = "the section belongs to another template version"
        elif self.section_id and not self.key.startswith(f"{self.section.key}."):
            errors["key"] = f"an item of section {self.section.key!r} starts with that key"
        tiers = self.required_for
        if not isinstance(tiers, list) or any(tier not in TIER_ORDER for tier in tiers):
            errors["required_for"] = f"a list of risk tiers among {', '.join(TIER_ORDER)}"
        elif len(set(tiers)) != len(tiers):
            errors["required_for"] = "lists a risk tier twice"
        if errors:
            raise ValidationError(errors)

    def is_required_for(self, tier: str) -> bool:
        return tier in self.required_for
