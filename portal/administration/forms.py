"""Forms of the administration pages and the token page: they parse input only; the services
validate again, check the right and audit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth.models import Group

from governance.approvals.models import ApprovalPolicy
from portal.accounts.services import ROLES

ROLE_CHOICES = [(role, role) for role in ROLES]


class PolicyForm(forms.Form):
    min_approvals = forms.IntegerField(
        label="Approvals needed",
        min_value=1,
        max_value=20,
        help_text="Distinct approvals a request needs.",
    )
    required_groups = forms.ModelMultipleChoiceField(
        label="Required groups",
        queryset=Group.objects.order_by("name"),
        to_field_name="name",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Each of these groups must give at least one approval.",
    )
    separation_of_duties = forms.BooleanField(
        label="Separation of duties",
        required=False,
        help_text="The requester and the model's owner may not approve.",
    )
    require_readiness = forms.BooleanField(
        label="Readiness gate",
        required=False,
        help_text="Required checklist items must be answered before approval.",
    )
    expiry_days = forms.IntegerField(
        label="Expires after (days)",
        min_value=1,
        max_value=3650,
        required=False,
        help_text="Empty: requests never expire.",
    )
    reason = forms.CharField(
        label="Reason for the change",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Stored with the new version and on the audit trail.",
    )

    @classmethod
    def for_policy(cls, policy: ApprovalPolicy) -> PolicyForm:
        return cls(
            initial={
                "min_approvals": policy.min_approvals,
                "required_groups": list(policy.required_groups.all()),
                "separation_of_duties": policy.separation_of_duties,
                "require_readiness": policy.require_readiness,
                "expiry_days": policy.expiry_days,
            }
        )


class InviteForm(forms.Form):
    username = forms.CharField(label="User name", max_length=150)
    email = forms.EmailField(
        label="E-mail", max_length=254, help_text="The link to choose a password goes here."
    )
    first_name = forms.CharField(label="First name", max_length=150, required=False)
    last_name = forms.CharField(label="Last name", max_length=150, required=False)
    roles = forms.MultipleChoiceField(
        label="Roles", choices=ROLE_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label="Roles", choices=ROLE_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )


class ActiveForm(forms.Form):
    """Deactivate (active=0) or reactivate (active=1); the page sets `active` to the change
    the account can take."""

    active = forms.TypedChoiceField(
        choices=[("1", "Reactivate"), ("0", "Deactivate")],
        coerce=lambda v: v == "1",
        widget=forms.HiddenInput,
    )
    reason = forms.CharField(
        label="Reason", max_length=500, required=False, help_text="Kept on the audit trail."
    )


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=100, help_text="Which client or script uses it, e.g. ci-deploy."
    )
    expires_at = forms.DateTimeField(
        label="Expires at",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Empty: the longest lifetime allowed.",
    )

    def cleaned_expiry(self) -> dt.datetime | None:
        value: Any = self.cleaned_data.get("expires_at")
        return value if isinstance(value, dt.datetime) else None
