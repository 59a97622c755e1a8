"""Output serializers (templates, answers, readiness) and the answer input serializer."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from governance.readiness.choices import AnswerChoice
from governance.readiness.models import (
    ChecklistAnswer,
    ChecklistItem,
    ChecklistSection,
    ChecklistTemplate,
)
from registry import limits
from registry.api.fields import ObjectIdField

MAX_ROWS = 200

# --- templates ------------------------------------------------------------------------------


class ChecklistItemSerializer(serializers.ModelSerializer):
    required_for = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ChecklistItem
        fields = [
            "key",
            "order",
            "question",
            "guidance",
            "evidence_hint",
            "evidence_required",
            "required_for",
        ]


class ChecklistSectionSerializer(serializers.ModelSerializer):
    items = ChecklistItemSerializer(many=True, read_only=True)

    class Meta:
        model = ChecklistSection
        fields = ["key", "title", "description", "order", "items"]


class ChecklistTemplateSerializer(serializers.ModelSerializer):
    sections = ChecklistSectionSerializer(many=True, read_only=True)

    class Meta:
        model = ChecklistTemplate
        fields = ["version", "title", "description", "is_active", "created_at", "sections"]


# --- answers and readiness ------------------------------------------------------------------


class ChecklistAnswerSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="item.key", read_only=True)
    section = serializers.CharField(source="item.section.key", read_only=True)
    answered_by = serializers.CharField(source="answered_by.username", read_only=True)
    settles_item = serializers.BooleanField(read_only=True)

    class Meta:
        model = ChecklistAnswer
        fields = [
            "item",
            "section",
            "answer",
            "evidence_text",
            "evidence_url",
            "evidence_artifact",
            "note",
            "settles_item",
            "answered_by",
            "answered_at",
        ]


class ReadinessOpenItemSerializer(serializers.Serializer):
    key = serializers.CharField()
    section = serializers.CharField(source="section.key")
    question = serializers.CharField()


class ReadinessTallySerializer(serializers.Serializer):
    total = serializers.IntegerField()
    answered = serializers.IntegerField()
    yes = serializers.IntegerField(help_text="yes answers that settle their item")
    not_applicable = serializers.IntegerField()
    applicable = serializers.IntegerField(help_text="total minus not applicable")
    score = serializers.FloatField(help_text="yes / applicable, 1.0 when nothing is applicable")


class ReadinessSectionSerializer(serializers.Serializer):
    key = serializers.CharField(source="section.key")
    title = serializers.CharField(source="section.title")
    scores = ReadinessTallySerializer(source="tally")
    open_required_items = ReadinessOpenItemSerializer(source="open_required", many=True)


class ReadinessTemplateRefSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    title = serializers.CharField()


class VersionReadinessSerializer(serializers.Serializer):
    version = serializers.IntegerField(source="version.pk")
    model = serializers.CharField(source="version.model.slug")
    version_number = serializers.IntegerField(source="version.number")
    stage = serializers.CharField(source="version.stage")
    risk_tier = serializers.CharField()
    frozen = serializers.BooleanField()
    template = ReadinessTemplateRefSerializer(allow_null=True)
    overall = ReadinessTallySerializer()
    sections = ReadinessSectionSerializer(many=True)
    open_required_items = ReadinessOpenItemSerializer(source="open_required", many=True)
    answers = ChecklistAnswerSerializer(many=True)


# --- input ----------------------------------------------------------------------------------


class ReadinessAnswerInputSerializer(serializers.Serializer):
    """One answer. `item` is an item key of the version's checklist template."""

    item = serializers.CharField(max_length=80)
    answer = serializers.ChoiceField(choices=AnswerChoice.choices)
    evidence_text = serializers.CharField(
        allow_blank=True, default="", max_length=limits.EVIDENCE_TEXT
    )
    evidence_url = serializers.URLField(allow_blank=True, default="", max_length=500)
    evidence_artifact = ObjectIdField(allow_null=True, default=None)
    note = serializers.CharField(allow_blank=True, default="", max_length=limits.NOTE)


def row_errors(errors: list[dict[str, Any]] | dict[Any, Any]) -> dict[str, Any]:
    """DRF's per-row errors as `answers[<row>].<field>` keys, like the service's errors.
    DRF reports them as a list aligned with the rows or (3.16+) as a dict keyed by row."""
    rows = errors.items() if isinstance(errors, dict) else enumerate(errors)
    flat: dict[str, Any] = {}
    for index, row in rows:
        if not isinstance(index, int):  # a message about the whole list
            flat[f"answers.{index}"] = row
            continue
        for field, messages in (row or {}).items():
            flat[f"answers[{index}].{field}"] = messages
    return flat
