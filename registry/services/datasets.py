"""Writes on datasets: upload, read with pandas, profile, check against a declared schema."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify

from governance import audit, lineage
from governance.lineage.models import Relation
from registry.actors import Actor
from registry.choices import Action
from registry.models import Dataset, RegisteredModel
from registry.profiling import (
    TableError,
    guess_format,
    profile_frame,
    read_table,
    schema_mismatches,
)
from registry.services.common import clean_schema, require_object
from registry.services.files import check_upload_size, digest_upload, removed_on_failure


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
) -> Dataset:
    """Store a new numbered version of the dataset `name` of `model`.

    The table is read and checked before anything is written; when `declared_schema` is
    given, every column must match it. On any failure no row and no file remain.
    """
    require_object(actor, Action.CHANGE, model)
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
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
    return dataset
