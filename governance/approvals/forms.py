from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from governance.approvals.choices import RequestKind, Verdict


class DecisionForm(forms.Form):
    verdict = forms.ChoiceField(choices=Verdict.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when you reject. Decisions are final and audited.",
    )
    # The manifest digest shown on the page: a decision is refused if it moved on since.
    manifest_digest = forms.RegexField(
        regex=r"^[0-9a-f]{64}$", required=False, widget=forms.HiddenInput
    )


class RequestForm(forms.Form):
    kind = forms.ChoiceField(choices=RequestKind.choices)
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    endpoint = forms.CharField(
        required=False, max_length=300, help_text="Production deployments only."
    )
    decision_threshold = forms.DecimalField(
        required=False, min_value=0, max_value=1, decimal_places=5
    )
    traffic_share = forms.DecimalField(
        required=False, min_value=0, max_value=100, decimal_places=2, initial=Decimal(100)
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == RequestKind.PRODUCTION and not data.get("endpoint"):
            self.add_error("endpoint", "A production deployment needs an endpoint.")
        if data.get("traffic_share") is None:
            data["traffic_share"] = Decimal(100)
        return data
