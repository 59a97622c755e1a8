"""Admin for approval policies: edited through `policies.policy_update` (audited, versioned);
their stored versions are read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from governance.approvals.models import ApprovalPolicy, ApprovalPolicyVersion
from governance.approvals.policies import EDITABLE, policy_update
from registry.actors import acting_user
from registry.admin import ReadOnlyAdmin


class PolicyForm(forms.ModelForm):
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why the policy changes (kept with the new version and in the audit log).",
    )

    class Meta:
        model = ApprovalPolicy
        fields = ["required_groups", *EDITABLE]

    def clean_min_approvals(self) -> int:
        value = self.cleaned_data["min_approvals"]
        if value < 1:
            raise forms.ValidationError("An approval takes at least one approver.")
        return value


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(admin.ModelAdmin):
    form = PolicyForm
    list_display = ("risk_tier", "version", "min_approvals", "expiry_days", "updated_at")
    readonly_fields = ("risk_tier", "version", "updated_at")
    fields = ("risk_tier", "version", "required_groups", *EDITABLE, "reason", "updated_at")
    filter_horizontal = ("required_groups",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # one policy per tier, ensured after migrate

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: ApprovalPolicy, form: forms.ModelForm, change: bool
    ) -> None:
        data: dict[str, Any] = {k: form.cleaned_data[k] for k in EDITABLE}
        saved = policy_update(
            policy=ApprovalPolicy.objects.get(pk=obj.pk),
            actor=acting_user(request),
            reason=form.cleaned_data.get("reason", ""),
            required_groups=list(form.cleaned_data["required_groups"]),
            **data,
        )
        obj.version, obj.updated_at = saved.version, saved.updated_at

    def save_related(self, request: HttpRequest, form: forms.ModelForm, *args: Any) -> None:
        # The service set the groups; the admin's own m2m save would bypass the audit.
        return None


@admin.register(ApprovalPolicyVersion)
class ApprovalPolicyVersionAdmin(ReadOnlyAdmin):
    list_display = ("risk_tier", "number", "changed_by", "created_at", "reason")
    list_filter = ("risk_tier",)
