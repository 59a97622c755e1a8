"""The model page's retraining policy form."""

from __future__ import annotations

from django import forms

from governance.retraining import policies
from governance.retraining.models import RetrainingPolicy


class PolicyForm(forms.ModelForm):
    trainer_secret = forms.CharField(
        label="Trainer signing secret",
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False),
        help_text="Signs the webhook and the trainer's callback (at least 16 characters). "
        "Leave empty to keep the stored one.",
    )
    trainer_url = forms.URLField(
        label="Trainer webhook URL",
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text="Where the team's trainer is called (the outbound rules apply).",
    )

    class Meta:
        model = RetrainingPolicy
        fields = list(policies.EDITABLE)
        labels = {
            "every_days": "Retrain at least every (days)",
            "min_days": "Not sooner than (days after the last)",
            "on_drift": "Retrain when drift is failing",
            "metric_name": "Metric trigger: metric",
            "metric_threshold": "Metric trigger: retrain when under",
            "metric_source": "Metric trigger: read from",
            "metric_window_days": "Metric trigger: over the last (labelled days)",
            "window_days": "Training window (days of labelled production rows)",
        }
        help_texts = {"metric_name": "e.g. accuracy, f1, roc_auc (empty: no metric trigger)"}

    def _post_clean(self) -> None:
        # The service validates the whole policy under its lock (and names the field); the
        # form only parses, so the instance is not touched here.
        pass
