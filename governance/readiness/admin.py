"""Admin pages for the checklist: read-only.

Templates come from migrations and answers from `services.answer_record`, which checks
permissions, freezing and evidence and writes the audit entry; an admin form would bypass
all of that, so the admin shows these rows and changes none of them.
"""

from __future__ import annotations

from django.contrib import admin
from django.db import models

from governance.readiness.models import (
    ChecklistAnswer,
    ChecklistItem,
    ChecklistSection,
    ChecklistTemplate,
)
from registry.admin import ReadOnlyMixin


class SectionInline(ReadOnlyMixin, admin.TabularInline):
    model = ChecklistSection
    fields = ["order", "key", "title"]
    extra = 0


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["version", "title", "is_active", "created_at"]
    inlines = [SectionInline]


@admin.register(ChecklistItem)
class ChecklistItemAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["key", "template", "section", "evidence_required", "required_for"]
    list_filter = ["template", "section__key", "evidence_required"]
    list_select_related = ["template", "section__template"]
    search_fields = ["key", "question"]


@admin.register(ChecklistAnswer)
class ChecklistAnswerAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["version", "item", "answer", "answered_by", "answered_at"]
    list_filter = ["answer", "item__template"]
    list_select_related = ["version__model", "item", "answered_by"]
    search_fields = ["item__key", "version__model__name", "note"]
    raw_id_fields = ["version", "evidence_artifact"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
