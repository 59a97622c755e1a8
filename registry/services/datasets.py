"""Writes on datasets: upload, read with pandas, profile, check against a declared schema."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify

from governance import audit, lineage
from governance.lineage.models import Relation
from registry import hooks
from registry.actors import Actor
from registry.choices import Action
from registry.errors import FrozenError
from registry.models import Dataset, ModelVersion, RegisteredModel
from registry.profiling import (
    TableError,
    guess_format,
    profile_frame,
    read_table,
    schema_mismatches,
)
from registry.services.common import clean_schema, require_object
from registry.services.files import check_upload_size, digest_upload, removed_on_failure

# How a version may use a dataset uploaded for it (the relations its manifest lists).
DATASET_RELATIONS = (Relation.TRAINED_ON, Relation.VALIDATED_WITH)


def _read_upload(upload: UploadedFile[Any]) -> tuple[str, Any]:
    try:
        file_format = guess_format(upload.name or "")
        upload.seek(0)
        frame = read_table(upload, file_format)
    except TableError as exc:
        raise ValidationError({"file": str(exc)}) from exc
    finally:
        upload.seek(0)
    return file_format, frame


@transaction.atomic
def dataset_upload(
    *,
    model: RegisteredModel,
    actor: Actor,
    upload: UploadedFile[Any],
    name: str,
    kind: str,
    description: str = "",
    declared_schema: list[dict[str, Any]] | None = None,
    derived_from: Dataset | None = None,
    for_version: ModelVersion | None = None,
    link_as: str = "",
) -> Dataset:
    """Store a new numbered version of the dataset `name` of `model`.

    The table is read and checked before anything is written; when `declared_schema` is
    given, every column must match it. With `for_version` and `link_as` (trained on or
    validated with) the version is linked to the new dataset in the same transaction: a
    change of its release manifest, refused once it is approved. On any failure no row and
    no file remain.
    """
    require_object(actor, Action.CHANGE, model)
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    version = _version_to_link(model, for_version, link_as)
    slug = slugify(name)
    if not slug:
        raise ValidationError({"name": "a dataset needs a name (letters, digits, dashes)"})
    check_upload_size(upload)
    file_format, frame = _read_upload(upload)
    schema, profile = profile_frame(frame)
    if declared_schema is not None:
        problems = schema_mismatches(schema, clean_schema(declared_schema, field="schema"))
        if problems:
            raise ValidationError({"schema": problems})
    if derived_from is not None and derived_from.model_id != model.pk:
        raise ValidationError({"derived_from": "must be a dataset of the same model"})
    sha256, size = digest_upload(upload)
    last = model.datasets.filter(name=slug).aggregate(n=Max("number"))["n"] or 0
    dataset = Dataset(
        model=model,
        name=slug,
        number=last + 1,
        kind=kind,
        description=description,
        file_format=file_format,
        sha256=sha256,
        size=size,
        row_count=len(frame),
        schema=schema,
        profile=profile,
        created_by=actor,
    )
    with removed_on_failure(lambda: dataset.file):
        dataset.file.save(upload.name or f"{slug}.{file_format}", upload, save=False)
        dataset.full_clean()
        dataset.save()
        audit.record(
            actor=actor,
            action="registry.dataset.uploaded",
            target=dataset,
            after={
                "name": slug,
                "number": dataset.number,
                "kind": kind,
                "sha256": sha256,
                "rows": dataset.row_count,
                "columns": [c["name"] for c in schema],
            },
        )
        if derived_from is not None:
            lineage.link(
                upstream=derived_from,
                downstream=dataset,
                relation=Relation.DERIVED_FROM,
                actor=actor,
            )
        if version is not None:
            lineage.link(upstream=dataset, downstream=version, relation=link_as, actor=actor)
            hooks.fire(hooks.MANIFEST_CHANGED, version=version, actor=actor)
    return dataset


def _version_to_link(
    model: RegisteredModel, version: ModelVersion | None, link_as: str
) -> ModelVersion | None:
    """The version (locked) a new dataset will be linked to, after the checks."""
    if version is None:
        if link_as:
            raise ValidationError({"link_as": "name the version to link the dataset to"})
        return None
    if link_as not in DATASET_RELATIONS:
        raise ValidationError({"link_as": "must be trained_on or validated_with"})
    if version.model_id != model.pk:
        raise ValidationError({"for_version": "must be a version of the same model"})
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.is_frozen:
        raise FrozenError(
            f"{version} is {version.get_stage_display().lower()}: the datasets it was trained "
            "and validated on are part of its frozen release manifest"
        )
    return version


METADATA_BYTES = 64 * 1024  # largest schema + profile kept from the source system


@transaction.atomic
def dataset_record_external(
    *,
    model: RegisteredModel,
    actor: Actor,
    name: str,
    kind: str,
    system: str,
    digest: str,
    source: str = "",
    source_type: str = "",
    metadata: dict[str, Any] | None = None,
    description: str = "",
) -> tuple[Dataset, bool]:
    """A metadata-only dataset of `model`: one another system (`system`, e.g. "mlflow") logged
    without handing Steward its rows. No file and no sha256 of Steward's: the digest that
    system gave it, its source and the schema and profile it recorded (dropped past 64 KiB).
    Idempotent: the model's external dataset of the same name, system and digest is returned
    as it is (created False). Audited as `registry.dataset.recorded_external`."""
    require_object(actor, Action.CHANGE, model)
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    slug = slugify(name)[:120] or "dataset"
    existing = model.datasets.filter(
        name=slug, external=True, external_system=system, external_digest=digest
    ).first()
    if existing is not None:
        return existing, False
    kept = dict(metadata or {})
    if len(json.dumps(kept, default=str)) > METADATA_BYTES:
        kept = {"dropped": f"the schema and profile exceeded {METADATA_BYTES} bytes"}
    last = model.datasets.filter(name=slug).aggregate(n=Max("number"))["n"] or 0
    dataset = Dataset(
        model=model,
        name=slug,
        number=last + 1,
        kind=kind,
        description=description,
        size=0,
        row_count=_rows_of(kept),
        external=True,
        external_system=system,
        external_digest=digest[:128],
        source_type=source_type[:40],
        source_uri=source[:2000],
        external_metadata=kept,
        created_by=actor,
    )
    # No table was read: Steward's own schema and profile stay empty (the source system's
    # are in external_metadata).
    dataset.full_clean(exclude=["schema", "profile"])
    dataset.save()
    audit.record(
        actor=actor,
        action="registry.dataset.recorded_external",
        target=dataset,
        after={
            "name": slug,
            "number": dataset.number,
            "kind": kind,
            "system": system,
            "digest": dataset.external_digest,
            "source": dataset.source_uri,
        },
    )
    return dataset, True


def _rows_of(metadata: dict[str, Any]) -> int:
    """The row count the source system's profile states (MLflow: `num_rows`), else 0."""
    profile = metadata.get("profile")
    rows = profile.get("num_rows") if isinstance(profile, dict) else None
    return rows if isinstance(rows, int) and rows >= 0 else 0
