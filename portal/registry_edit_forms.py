"""Forms of the registry's write pages (portal/registry_edit.py).

They parse what a person typed; the services validate and decide. JSON fields are read with
the house reader (`registry.safe_json`), so a malformed or hostile document is refused beside
its field with the reason, as the API refuses it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

from governance.lineage.models import Relation
from registry import limits, safe_json
from registry.choices import ArtifactKind, DatasetKind, RiskTier, Task
from registry.models import Dataset, ModelVersion


class JSONTextField(forms.CharField):
    """A JSON document typed into a text area: empty is `empty_value`, anything else must be
    JSON of the `shape` (list or dict) within the house limits."""

    widget = forms.Textarea

    def __init__(self, *, shape: type, **kwargs: Any) -> None:
        self.shape = shape
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", limits.JSON_BYTES)
        super().__init__(**kwargs)
        self.widget.attrs.update({"rows": 4, "spellcheck": "false", "class": "code-input"})

    def clean(self, value: Any) -> Any:
        text = super().clean(value)
        if not text:
            return self.shape()
        try:
            parsed = safe_json.loads(text)
        except safe_json.JSONInputError as exc:
            raise ValidationError(str(exc), code="invalid_json") from exc
        if not isinstance(parsed, self.shape):
            kind = "a list ([...])" if self.shape is list else "an object ({...})"
            raise ValidationError(f"must be {kind}", code="invalid_shape")
        return parsed


def _tags(value: str) -> list[str]:
    return [tag.strip() for tag in value.split(",") if tag.strip()]


class TagsField(forms.CharField):
    """Tags typed as a comma-separated list."""

    def clean(self, value: Any) -> list[str]:
        tags = _tags(super().clean(value) or "")
        if len(tags) > limits.TAGS:
            raise ValidationError(f"at most {limits.TAGS} tags")
        long = [t for t in tags if len(t) > limits.TAG]
        if long:
            raise ValidationError(f"a tag has at most {limits.TAG} characters: {long[0][:20]}…")
        return tags


def _text(label: str, *, max_length: int = limits.TEXT, rows: int = 3, help_text: str = "") -> Any:
    return forms.CharField(
        label=label,
        required=False,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows}),
        help_text=help_text,
    )


class ModelFieldsForm(forms.Form):
    """What a model's owner describes, on creation and later."""

    description = _text("Description")
    team = forms.CharField(
        required=False,
        max_length=120,
        help_text="Model names are unique per team; without a team, per owner.",
    )
    target_column = forms.CharField(
        label="Target column",
        required=False,
        max_length=120,
        help_text="The column the model predicts, as named in its datasets.",
    )
    risk_tier = forms.ChoiceField(
        label="Risk tier",
        choices=RiskTier.choices,
        initial=RiskTier.MEDIUM,
        help_text="Picks the approval policy. Lowering it takes an admin or a risk officer.",
    )
    intended_use = _text("Intended use", rows=4)
    tags = TagsField(required=False, max_length=4000, help_text="Comma-separated, e.g. credit, pd")


class ModelCreateForm(ModelFieldsForm):
    name = forms.CharField(max_length=120)
    task = forms.ChoiceField(choices=Task.choices)

    field_order = ["name", "task", "risk_tier", "team", "target_column", "description"]


class ModelEditForm(ModelFieldsForm):
    reason = _text(
        "Reason for a risk-tier change",
        max_length=2000,
        rows=2,
        help_text="Required to lower the risk tier; recorded on the audit trail.",
    )

    @classmethod
    def initial_for(cls, model: Any) -> dict[str, Any]:
        initial = {name: getattr(model, name) for name in cls.base_fields if name != "reason"}
        initial["tags"] = ", ".join(model.tags)
        return initial


COMMIT = RegexValidator(
    r"^[0-9a-fA-F]{7,64}$", "must be a commit hash (7 to 64 hexadecimal characters)"
)


class VersionRegisterForm(forms.Form):
    description = _text("Description")
    framework = forms.CharField(
        required=False, max_length=80, help_text="e.g. scikit-learn 1.5, xgboost 2.0"
    )
    code_repository = forms.CharField(label="Code repository", required=False, max_length=300)
    code_commit = forms.CharField(
        label="Code commit", required=False, max_length=64, validators=[COMMIT]
    )
    input_schema = JSONTextField(
        label="Input schema",
        shape=list,
        help_text='A JSON list of features: [{"name": "age", "type": "numeric"}, …]; types: '
        'numeric, integer, categorical (with "categories"), boolean, text, datetime.',
    )
    hyperparameters = JSONTextField(
        label="Hyper-parameters", shape=dict, help_text='A JSON object, e.g. {"max_depth": 6}'
    )
    training_metrics = JSONTextField(
        label="Training metrics", shape=dict, help_text='Numbers by name, e.g. {"auc": 0.91}'
    )
    feature_importance = JSONTextField(
        label="Feature importance",
        shape=dict,
        help_text="Numbers by feature name; each feature must be in the input schema.",
    )
    training_datasets = forms.TypedMultipleChoiceField(
        label="Trained on",
        coerce=int,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text="Datasets of this model the version was trained on (Ctrl or ⌘ for several).",
    )
    validation_datasets = forms.TypedMultipleChoiceField(
        label="Validated with",
        coerce=int,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )

    def __init__(self, *args: Any, datasets: list[Dataset], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(d.pk, str(d)) for d in datasets]
        for name in ("training_datasets", "validation_datasets"):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = choices
            if not choices:
                field.help_text = "This model has no dataset yet; upload one after registering."


class UploadForm(forms.Form):
    """A file, checked for size by the service (`check_upload_size`)."""

    file = forms.FileField(allow_empty_file=True)

    def __init__(self, *args: Any, max_bytes: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            "file"
        ].help_text = f"At most {max_bytes / (1024 * 1024):,.0f} MB. Steward computes its SHA-256."
        self.fields["file"].widget.attrs["data-max-bytes"] = str(max_bytes)


class ArtifactUploadForm(UploadForm):
    kind = forms.ChoiceField(choices=ArtifactKind.choices, initial=ArtifactKind.MODEL)
    name = forms.CharField(required=False, max_length=200, help_text="Defaults to the file's name.")
    description = _text("Description")


class ArtifactLinkForm(forms.Form):
    """An artifact that lives elsewhere: an object store, an image registry, a repository."""

    uri = forms.CharField(
        label="URI",
        max_length=2000,
        help_text=(
            "s3://…, gs://…, https://…, oci://host/repo@sha256:… A content-addressed image "
            "(oci://…@sha256:…) pins its digest; any other URI cannot be approved until its "
            "bytes are uploaded, since Steward cannot vouch for them."
        ),
    )
    kind = forms.ChoiceField(choices=ArtifactKind.choices, initial=ArtifactKind.IMAGE)
    name = forms.CharField(
        required=False, max_length=200, help_text="Defaults to the URI's last part."
    )
    sha256 = forms.CharField(
        label="SHA-256",
        required=False,
        max_length=64,
        help_text="Optional, kept as your word (declared); a pinned URI's digest is read from it.",
    )
    description = _text("Description")


NO_LINK = ""


class DatasetUploadForm(UploadForm):
    name = forms.CharField(
        max_length=120,
        help_text="Uploading again under the same name adds the dataset's next number.",
    )
    kind = forms.ChoiceField(choices=DatasetKind.choices, initial=DatasetKind.TRAINING)
    link_as = forms.ChoiceField(
        label="This version was",
        choices=[
            (Relation.TRAINED_ON, "trained on it"),
            (Relation.VALIDATED_WITH, "validated with it"),
            (NO_LINK, "neither (a reference dataset)"),
        ],
        initial=Relation.TRAINED_ON,
        required=False,
    )
    description = _text("Description")
    schema = JSONTextField(
        label="Declared schema",
        shape=list,
        help_text="Optional: every column must match it, else nothing is stored.",
    )

    field_order = ["file", "name", "kind", "link_as", "description", "schema"]


class LineageForm(forms.Form):
    """One edge into this version: from a dataset of its model, or from another version."""

    relation = forms.ChoiceField(
        label="This version was",
        choices=[
            (Relation.TRAINED_ON, "trained on a dataset"),
            (Relation.VALIDATED_WITH, "validated with a dataset"),
            (Relation.DERIVED_FROM, "derived from another version"),
        ],
    )
    dataset = forms.TypedChoiceField(label="Dataset", coerce=int, required=False)
    source_version = forms.TypedChoiceField(label="Other version", coerce=int, required=False)

    def __init__(
        self,
        *args: Any,
        datasets: list[Dataset],
        versions: list[ModelVersion],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        labels = {
            "dataset": [(d.pk, str(d)) for d in datasets],
            # The versions are all of this model: the number and stage say which.
            "source_version": [(v.pk, f"v{v.number} ({v.get_stage_display()})") for v in versions],
        }
        for name, choices in labels.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [("", "—"), *choices]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        relation = data.get("relation")
        if relation == Relation.DERIVED_FROM:
            if not data.get("source_version"):
                self.add_error("source_version", "choose the version this one was derived from")
        elif relation and not data.get("dataset"):
            self.add_error("dataset", "choose the dataset")
        return data
