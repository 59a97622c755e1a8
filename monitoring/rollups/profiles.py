"""The reference profile of a model version: layouts and reference summaries, built once."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from django.db import IntegrityError, transaction
from steward_client.summaries import Layout, Summary, sha256_hex

from governance.lineage.models import LineageEdge, NodeKind, Relation
from monitoring.engines import CategoricalLayout, NumericLayout, summarize, summary_from_dict
from monitoring.engines.drift import feature_kind
from monitoring.models import ReferenceChoice, ReferenceProfile
from registry.choices import DatasetKind, Task
from registry.models import Dataset, ModelVersion
from registry.profiling import read_table

# The pseudo-feature holding the predictions: compared with the reference's target column
# (labels for classifiers, values for regression), it gives prediction drift.
PREDICTION_FEATURE = "__prediction__"
# Rows of the reference kept in the profile for the multivariate tests (seeded sample).
REFERENCE_SAMPLE_ROWS = 1_000


class ReferenceMissing(Exception):
    """The version has no reference data: no chosen dataset, none it was trained on, no
    reference dataset linked to it."""


def drift_features(version: ModelVersion) -> dict[str, str]:
    """{feature: declared type} of the input-schema features that have drift methods."""
    return {
        str(f["name"]): str(f["type"])
        for f in version.input_schema
        if feature_kind(str(f["type"])) is not None
    }


# Where a version's reference came from (`reference_origin`).
CHOSEN, TRAINED_ON, LINKED = "chosen", "trained on", "linked reference"


def reference_origin(version: ModelVersion) -> tuple[Dataset, str]:
    """The version's own reference data and where it comes from, never another version's:
    the dataset an owner chose (`ReferenceChoice`), else the one its lineage says it was
    trained on (the newest, if several), else a reference-kind dataset linked to it.
    `ReferenceMissing` otherwise. At most three queries."""
    choice = ReferenceChoice.objects.filter(version=version).select_related("dataset").first()
    if choice is not None:
        if choice.dataset.external:  # chosen before it could be refused: say so, not crash
            raise ReferenceMissing(_unavailable(choice.dataset, "was chosen as the reference"))
        return choice.dataset, CHOSEN
    edges = LineageEdge.objects.filter(
        downstream_kind=NodeKind.VERSION, downstream_id=version.pk, upstream_kind=NodeKind.DATASET
    )
    own = Dataset.objects.filter(model_id=version.model_id).order_by("-created_at", "-id")
    trained_on = own.filter(pk__in=edges.filter(relation=Relation.TRAINED_ON).values("upstream_id"))
    dataset = trained_on.filter(external=False).first()
    if dataset is not None:
        return dataset, TRAINED_ON
    linked = own.filter(
        pk__in=edges.values("upstream_id"), kind=DatasetKind.REFERENCE, external=False
    ).first()
    if linked is not None:
        return linked, LINKED
    metadata_only = trained_on.first()  # only metadata-only training data (e.g. from MLflow)
    if metadata_only is not None:
        raise ReferenceMissing(_unavailable(metadata_only, f"trained version {version.number}"))
    raise ReferenceMissing(
        f"no reference data: version {version.number} was not trained on a registered "
        "dataset and has no reference dataset linked to it"
    )


def _unavailable(dataset: Dataset, role: str) -> str:
    system = "MLflow" if dataset.external_system == "mlflow" else dataset.external_system
    return (
        f"reference data unavailable: dataset {dataset.name} v{dataset.number}, which {role}, "
        f"is metadata-only (recorded from {system}; its rows are not in Steward). Upload the "
        "rows as a dataset and choose it as the reference."
    )


def reference_dataset(version: ModelVersion) -> Dataset:
    """The version's reference dataset (see `reference_origin`)."""
    return reference_origin(version)[0]


def layout_for(values: Any, feature_type: str) -> Layout:
    """The engines' layout of one reference column, by its declared type (never guessed)."""
    if feature_kind(feature_type) == "numeric":
        return NumericLayout.from_reference(values)
    return CategoricalLayout.from_reference(values)


def profile_frame(frame: pd.DataFrame, types: dict[str, str]) -> tuple[dict, dict]:
    """({feature: layout dict}, {feature: summary dict}) of the features present in `frame`."""
    layouts: dict[str, Any] = {}
    summaries: dict[str, Any] = {}
    for name, feature_type in types.items():
        if name not in frame.columns:
            continue
        layout = layout_for(frame[name], feature_type)
        layouts[name] = layout.to_dict()
        summaries[name] = summarize(frame[name], layout).to_dict()
    return layouts, summaries


def _read(dataset: Dataset) -> pd.DataFrame:
    with dataset.file.open("rb") as stream:
        return read_table(stream, dataset.file_format)


def prediction_type(version: ModelVersion) -> str:
    """The declared type of the prediction pseudo-feature: numbers for regression, labels
    otherwise."""
    return "numeric" if version.model.task == Task.REGRESSION else "categorical"


def reference_sample(frame: pd.DataFrame, features: list[str]) -> list[dict[str, Any]]:
    """A seeded sample of the reference's feature rows, as JSON records (NaN as None)."""
    present = [name for name in features if name in frame.columns]
    rows = frame[present]
    if len(rows) > REFERENCE_SAMPLE_ROWS:
        rows = rows.sample(n=REFERENCE_SAMPLE_ROWS, random_state=0)
    return json.loads(rows.to_json(orient="records"))


def prediction_reference_column(frame: pd.DataFrame, version: ModelVersion) -> str | None:
    """The reference column predictions are compared with: a "prediction" column of the
    reference data (the model's own outputs on it), else the target column for classifiers
    (their labels' mix). A regression's targets are no reference for its predictions (these
    spread less than the values they estimate), so it needs the column."""
    if "prediction" in frame.columns:
        return "prediction"
    target = version.model.target_column
    if target and target in frame.columns and version.model.task != Task.REGRESSION:
        return target
    return None


def with_prediction_column(frame: pd.DataFrame, version: ModelVersion) -> pd.DataFrame:
    """The frame plus the prediction pseudo-feature (see `prediction_reference_column`)."""
    column = prediction_reference_column(frame, version)
    if column is None or PREDICTION_FEATURE in frame.columns:
        return frame
    return frame.assign(**{PREDICTION_FEATURE: frame[column]})


def read_reference_frame(profile: ReferenceProfile) -> pd.DataFrame:
    """The profile's reference rows, read again from its dataset (for exact tests)."""
    dataset = profile.dataset or reference_dataset(profile.version)
    return with_prediction_column(_read(dataset), profile.version)


def reference_profile_build(version: ModelVersion) -> ReferenceProfile:
    """Build (or rebuild in place) the version's profile from its reference dataset: every
    declared feature, plus the target as the prediction pseudo-feature when the model names
    its target column and the dataset holds it."""
    dataset = reference_dataset(version)
    types = drift_features(version)
    frame = with_prediction_column(_read(dataset), version)
    if PREDICTION_FEATURE in frame.columns:
        types = types | {PREDICTION_FEATURE: prediction_type(version)}
    layouts, summaries = profile_frame(frame, types)
    values = {
        "sample": reference_sample(frame, [name for name in types if name != PREDICTION_FEATURE]),
        "dataset": dataset,
        "dataset_sha256": dataset.sha256,
        "feature_types": {name: types[name] for name in layouts},
        "layouts": layouts,
        "summaries": summaries,
        "digest": sha256_hex({"dataset": dataset.sha256, "layouts": layouts}),
    }
    try:
        with transaction.atomic():
            profile, _ = ReferenceProfile.objects.update_or_create(version=version, defaults=values)
    except IntegrityError:  # a concurrent build won the insert: its profile is the same
        profile = ReferenceProfile.objects.get(version=version)
    return profile


def reference_profile_get_or_build(version: ModelVersion) -> ReferenceProfile:
    """The version's stored profile; built on first use. The reference data is read once per
    version, not once per window."""
    profile = ReferenceProfile.objects.filter(version=version).first()
    return profile if profile is not None else reference_profile_build(version)


def profile_layouts(profile: ReferenceProfile) -> dict[str, Layout]:
    """{feature: layout} of a stored profile."""
    return {
        name: (NumericLayout if data.get("edges") is not None else CategoricalLayout).from_dict(
            data
        )
        for name, data in profile.layouts.items()
    }


def profile_summaries(profile: ReferenceProfile) -> dict[str, Summary]:
    """{feature: reference summary} of a stored profile."""
    return {name: summary_from_dict(data) for name, data in profile.summaries.items()}
