"""Forms of the monitoring settings pages: an alert rule's fields. They parse input only; the
services (`alerts/services.py`, `alerts/rules.py`) validate the rule and check rights."""

from __future__ import annotations

from typing import Any

from django import forms

from governance.outbound.addresses import validate_outbound_url
from monitoring.alerts.rules import EDITABLE
from monitoring.models import AlertSource, Comparator, Severity

SCOPES = [
    ("deployment", "This deployment only"),
    ("model", "Every deployment of the model"),
]
NAME_HELP = (
    "Daily metric: a metric name such as accuracy, roc_auc or r2. Status axis: accuracy, "
    "drift, service_health or data_quality. Data quality: missing_share, type_error_share, "
    "out_of_range_share or unseen_share, optionally followed by :feature. Canary: the metric "
    "compared with the baseline's."
)


class RuleChangeForm(forms.Form):
    """The editable part of a rule: its condition, severity, channels and whether it runs."""

    comparator = forms.ChoiceField(
        choices=Comparator.choices, help_text="The rule fires when the reading compares so."
    )
    threshold = forms.FloatField()
    window_days = forms.IntegerField(
        label="Window (days)",
        min_value=1,
        max_value=90,
        initial=1,
        help_text="Metric and canary rules: the mean over this many days with ground truth. "
        "Data quality: the share over this many days of hours.",
    )
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.WARNING)
    notify_in_app = forms.BooleanField(
        label="Notify the owner in the app", required=False, initial=True
    )
    notify_email = forms.BooleanField(label="E-mail the owner", required=False)
    webhook_url = forms.URLField(
        label="Webhook URL",
        assume_scheme="https",
        required=False,
        max_length=200,
        validators=[validate_outbound_url],
        help_text="Optional: HTTPS address that receives each alert as signed JSON.",
    )
    webhook_secret = forms.CharField(
        label="Webhook secret",
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False),
        help_text="Signs each delivery (X-Steward-Signature). Never shown again.",
    )
    retraining = forms.BooleanField(
        label="Also ask the webhook for a retraining run", required=False
    )
    active = forms.BooleanField(label="Active", required=False, initial=True)

    def changes(self, *, keep_secret: bool) -> dict[str, Any]:
        """The cleaned values as the services take them; a blank secret keeps the stored one
        when `keep_secret`."""
        data = {name: self.cleaned_data[name] for name in EDITABLE if name in self.cleaned_data}
        if keep_secret and not data.get("webhook_secret"):
            data.pop("webhook_secret", None)
        return data


class RuleForm(RuleChangeForm):
    """A new rule: also what it watches and where."""

    scope = forms.ChoiceField(choices=SCOPES, initial="deployment", widget=forms.RadioSelect)
    source = forms.ChoiceField(choices=AlertSource.choices, initial=AlertSource.METRIC)
    name = forms.CharField(max_length=80, label="Watches", help_text=NAME_HELP)

    field_order = ["scope", "source", "name", "comparator", "threshold", "window_days"]
