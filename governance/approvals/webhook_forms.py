"""Forms of the webhook pages: parse input only; `webhooks.py` validates and checks rights."""

from __future__ import annotations

from typing import Any

from django import forms

from governance.approvals.events import EVENTS
from governance.outbound.addresses import validate_outbound_url
from registry.models import RegisteredModel

EVENT_CHOICES = [(name, name) for name in sorted(set(EVENTS.values()))]
SECRET_MIN = 16


class WebhookForm(forms.Form):
    name = forms.CharField(max_length=120)
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        validators=[validate_outbound_url],
        help_text="HTTPS address that receives each event as JSON signed with the secret.",
    )
    secret = forms.CharField(
        min_length=SECRET_MIN,
        max_length=200,
        widget=forms.PasswordInput(render_value=False),
        help_text=f"At least {SECRET_MIN} characters; signs each delivery "
        "(X-Steward-Signature: sha256=…). Never shown again.",
    )
    events = forms.MultipleChoiceField(
        choices=EVENT_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event.",
    )
    active = forms.BooleanField(required=False, initial=True)


class WebhookNewForm(WebhookForm):
    """A new webhook also names the model whose events it receives."""

    model = forms.ChoiceField(
        label="Model",
        required=False,
        help_text="Only this model's events. Every model: administrators only.",
    )

    field_order = ["name", "url", "secret", "model", "events", "active"]

    def __init__(self, *args: Any, models: list[RegisteredModel], everything: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        choices = [("", "Every model")] if everything else []
        field = self.fields["model"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices + [(m.slug, m.name) for m in models]


class WebhookEditForm(WebhookForm):
    """On an edit, a blank secret keeps the stored one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["secret"].required = False
        self.fields["secret"].help_text = "Leave empty to keep the current secret."
