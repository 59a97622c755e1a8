"""Admin for the registry.

The admin is for looking things up, not a side door around the audit log: models are edited
through `registry.services.model_update` (audited), and versions, artifacts, datasets and
deployments are read-only (their changes are state transitions that belong to the API).
Per-model grants are added to the model admin by `governance.access.admin`, which saves
them through the audited access service.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from registry import services
from registry.actors import acting_user
from registry.models import Artifact, Dataset, Deployment, ModelVersion, RegisteredModel
from registry.services.models import EDITABLE_FIELDS, tier_rank


class ReadOnlyMixin:
    """Browse and search only: no add, change or delete through the admin (for admins and
    inlines of every app whose rows are written by services alone)."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """A read-only model admin."""


class RegisteredModelForm(forms.ModelForm):
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why the risk tier changes; required to lower it (audited).",
    )

    class Meta:
        model = RegisteredModel
        fields = EDITABLE_FIELDS

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        tier, was = data.get("risk_tier"), self.instance.risk_tier
        if tier and was and tier_rank(tier) < tier_rank(was) and not data.get("reason", "").strip():
            self.add_error("reason", "Lowering a model's risk tier needs a reason.")
        return data


@admin.register(RegisteredModel)
class RegisteredModelAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "team", "task", "risk_tier", "updated_at")
    list_filter = ("task", "risk_tier", "team")
    search_fields = ("name", "slug", "description", "team", "owner__username")
    list_select_related = ("owner",)
    readonly_fields = ("name", "slug", "owner", "task", "created_at", "updated_at")
    fields = (
        "name",
        "slug",
        "owner",
        "task",
        *EDITABLE_FIELDS,
        "reason",
        "created_at",
        "updated_at",
    )
    form = RegisteredModelForm

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Registration assigns ownership and grants: it goes through the API's service.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: RegisteredModel, form: forms.ModelForm, change: bool
    ) -> None:
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        changes = {name: value for name, value in changes.items() if name in EDITABLE_FIELDS}
        if changes:
            saved = services.model_update(
                model=RegisteredModel.objects.get(pk=obj.pk),
                actor=acting_user(request),
                reason=form.cleaned_data.get("reason", ""),
                **changes,
            )
            obj.updated_at = saved.updated_at


class ArtifactInline(admin.TabularInline):
    model = Artifact
    fields = ("name", "kind", "size", "sha256", "uri", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "stage", "framework", "created_by", "created_at")
    list_filter = ("stage", "framework")
    search_fields = ("model__name", "model__slug", "description", "code_commit")
    list_select_related = ("model", "created_by")
    inlines = (ArtifactInline,)


@admin.register(Artifact)
class ArtifactAdmin(ReadOnlyAdmin):
    list_display = ("name", "version", "kind", "size", "sha256", "created_at")
    list_filter = ("kind",)
    search_fields = ("name", "sha256", "uri", "version__model__name")
    list_select_related = ("version__model",)


@admin.register(Dataset)
class DatasetAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "model", "kind", "row_count", "size", "created_at")
    list_filter = ("kind", "file_format")
    search_fields = ("name", "sha256", "model__name")
    list_select_related = ("model",)


@admin.register(Deployment)
class DeploymentAdmin(ReadOnlyAdmin):
    list_display = (
        "pk",
        "version",
        "environment",
        "status",
        "endpoint",
        "traffic_share",
        "deployed_at",
    )
    list_filter = ("environment", "status", "is_rollback")
    search_fields = ("endpoint", "version__model__name", "description")
    list_select_related = ("version__model",)
