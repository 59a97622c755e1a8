"""The model card's edit form: one text area per section owners write."""

from __future__ import annotations

from typing import Any

from django import forms

from governance.modelcards import sections


class CardForm(forms.Form):
    note = forms.CharField(
        label="What changed",
        required=False,
        max_length=300,
        help_text="A short note kept with the revision (optional).",
    )

    sensitive_attribute = forms.CharField(
        label="Sensitive attribute",
        required=False,
        max_length=200,
        help_text="An input feature whose groups the fairness analysis compares (optional; "
        "empty: the one set in the deployments' monitoring settings, if any).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, title, help_text in sections.TEXT_SECTIONS:
            self.fields[key] = forms.CharField(
                label=title,
                required=False,
                max_length=sections.MAX_TEXT,
                help_text=help_text,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
        # The sensitive attribute and the note last, after the sections.
        self.fields["sensitive_attribute"] = self.fields.pop("sensitive_attribute")
        self.fields["note"] = self.fields.pop("note")

    def text(self) -> dict[str, str]:
        return {key: self.cleaned_data.get(key, "") for key in sections.TEXT_KEYS}
