"""The reference profile of a model version: layouts and reference summaries, built once."""

from __future__ import annotations

from typing import Any

import pandas as pd
from django.db import IntegrityError, transaction

from monitoring.engines import CategoricalLayout, NumericLayout, summarize, summary_from_dict
from monitoring.engines.drift import feature_kind
from monitoring.engines.summaries import Layout, Summary, sha256_hex
from monitoring.models import ReferenceProfile
from registry.choices import DatasetKind
from registry.models import Dataset, ModelVersion
from registry.profiling import read_table

# Preferred first: the data the version learnt from, then a dataset kept as a reference.
DATASET_KINDS = (DatasetKind.TRAINING, DatasetKind.REFERENCE)


class ReferenceMissing(Exception):
    """The version's model has no training or reference dataset to profile."""


def drift_features(version: ModelVersion) -> dict[str, str]:
    """{feature: declared type} of the input-schema features that have drift methods."""
    return {
        str(f["name"]): str(f["type"])
        for f in version.input_schema
        if feature_kind(str(f["type"])) is not None
    }


def reference_dataset(version: ModelVersion) -> Dataset:
    """The newest training dataset of the version's model, else its newest reference one."""
    for kind in DATASET_KINDS:
        dataset = (
            Dataset.objects.filter(model_id=version.model_id, kind=kind)
            .order_by("-created_at", "-id")
            .first()
        )
        if dataset is not None:
            return dataset
    raise ReferenceMissing(f"model {version.model_id} has no training or reference dataset")


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


def reference_profile_build(version: ModelVersion) -> ReferenceProfile:
    """Build (or rebuild in place) the version's profile from its reference dataset."""
    dataset = reference_dataset(version)
    types = drift_features(version)
    layouts, summaries = profile_frame(_read(dataset), types)
    values = {
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
