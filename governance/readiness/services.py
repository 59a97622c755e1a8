"""Writes on the readiness checklist: answering, with evidence, audited.

`answers_record` and `answer_record` guarantee:
- the actor holds "change" on the version's model (else PermissionDenied, HTTP 403);
- the version is neither approved nor archived (else ChecklistFrozen, HTTP 409), except for
  the items of the "revalidation" section while a revalidation request is open on it;
- every answer is valid before any is written (all or nothing), and errors name the field
  (and, for a list, the row: `answers[2].note`);
- one current answer per version and item: re-answering rewrites it, an unchanged answer is
  not rewritten, and each answer written leaves an audit entry with before/after in the same
  transaction;
- answers go to the items of the version's template (`selectors.template_for`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from governance import audit
from governance.readiness.errors import ChecklistFrozen
from governance.readiness.models import ChecklistAnswer, ChecklistItem, ChecklistTemplate
from governance.readiness.selectors import (
    REVALIDATION_SECTION,
    answers_by_item,
    checklist_is_frozen,
    template_for,
    template_items,
)
from registry.actors import Actor
from registry.choices import Action, ArtifactKind
from registry.models import Artifact, ModelVersion
from registry.services.artifacts import artifact_upload
from registry.services.common import require_object

CONTENT_FIELDS = ("answer", "evidence_text", "evidence_url", "evidence_artifact_id", "note")


@dataclass(frozen=True)
class AnswerInput:
    """One answer as a caller gives it: the item by its key, the artifact by its id."""

    item: str
    answer: str
    evidence_text: str = ""
    evidence_url: str = ""
    evidence_artifact: int | None = None
    note: str = ""


@dataclass
class _Context:
    version: ModelVersion
    template: ChecklistTemplate
    items: dict[str, ChecklistItem]
    current: dict[int, ChecklistAnswer]
    artifacts: dict[int, Artifact]


def _revalidating(version: ModelVersion, keys: Sequence[str]) -> bool:
    """Whether `keys` are all items of the revalidation section and a periodic revalidation
    request is open on the version: those alone are answered again on an approved version."""
    return (
        bool(keys)
        and all(key.startswith(f"{REVALIDATION_SECTION}.") for key in keys)
        and version.approval_requests.filter(kind="revalidation", state="pending").exists()
    )


def _locked_version(version: ModelVersion, actor: Actor, keys: Sequence[str] = ()) -> ModelVersion:
    require_object(actor, Action.CHANGE, version)
    version = (
        ModelVersion.objects.select_for_update(of=("self",))
        .select_related("model")
        .get(pk=version.pk)
    )
    if checklist_is_frozen(version) and not _revalidating(version, keys):
        raise ChecklistFrozen(
            f"{version} is {version.get_stage_display().lower()}: its readiness checklist is "
            "frozen as it was reviewed. Register a new version to answer again."
        )
    return version


def _context(version: ModelVersion) -> _Context:
    template = template_for(version=version)
    if template is None:
        raise ValidationError({"item": "no checklist template is active"})
    items = template_items(template)
    return _Context(
        version=version,
        template=template,
        items={item.key: item for item in items},
        current=answers_by_item(version=version, items=items),
        artifacts={a.pk: a for a in version.artifacts.all()},
    )


def _content(answer: ChecklistAnswer) -> dict[str, Any]:
    return {field: getattr(answer, field) for field in CONTENT_FIELDS}


def _snapshot(answer: ChecklistAnswer) -> dict[str, Any]:
    return {
        "version": answer.version_id,
        "item": answer.item.key,
        "template_version": answer.item.template.version,
        "answer": answer.answer,
        "evidence_text": answer.evidence_text,
        "evidence_url": answer.evidence_url,
        "evidence_artifact": answer.evidence_artifact_id,
        "note": answer.note,
    }


def _resolve_item(ctx: _Context, key: str, seen: dict[str, int], index: int) -> ChecklistItem:
    item = ctx.items.get(key)
    if item is None:
        raise ValidationError(
            {"item": f"no item {key!r} in checklist template v{ctx.template.version}"}
        )
    if key in seen:
        raise ValidationError({"item": f"item {key!r} is already answered in row {seen[key]}"})
    seen[key] = index
    return item


def _resolve_artifact(ctx: _Context, artifact_id: int | None) -> Artifact | None:
    if artifact_id is None:
        return None
    if artifact_id not in ctx.artifacts:
        raise ValidationError(
            {"evidence_artifact": f"{ctx.version} has no artifact with id {artifact_id}"}
        )
    return ctx.artifacts[artifact_id]


def _prepare(
    ctx: _Context, row: AnswerInput, actor: Actor, seen: dict[str, int], index: int
) -> tuple[ChecklistAnswer, ChecklistAnswer | None]:
    """The answer to write for `row`, validated, and the current answer it replaces."""
    item = _resolve_item(ctx, row.item, seen, index)
    artifact = _resolve_artifact(ctx, row.evidence_artifact)
    existing = ctx.current.get(item.pk)
    answer = ChecklistAnswer(
        pk=existing.pk if existing else None,
        version=ctx.version,
        item=item,
        answer=row.answer,
        evidence_text=row.evidence_text.strip(),
        evidence_url=row.evidence_url.strip(),
        evidence_artifact=artifact,
        note=row.note.strip(),
        answered_by=actor,
        answered_at=timezone.now(),
    )
    answer.full_clean(validate_unique=False, validate_constraints=False)
    return answer, existing


def _write(
    answer: ChecklistAnswer, existing: ChecklistAnswer | None, actor: Actor
) -> ChecklistAnswer:
    if existing is not None and _content(existing) == _content(answer):
        return existing
    before = _snapshot(existing) if existing else None
    answer.save(force_insert=existing is None, force_update=existing is not None)
    audit.record(
        actor=actor,
        action="readiness.answer.changed" if existing else "readiness.answer.recorded",
        target=answer,
        before=before,
        after=_snapshot(answer),
    )
    return answer


def _record(
    *,
    version: ModelVersion,
    actor: Actor,
    rows: Sequence[AnswerInput],
    label: Callable[[int, str], str],
) -> list[ChecklistAnswer]:
    ctx = _context(_locked_version(version, actor, [row.item for row in rows]))
    prepared: list[tuple[ChecklistAnswer, ChecklistAnswer | None]] = []
    errors: dict[str, Any] = {}
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        try:
            prepared.append(_prepare(ctx, row, actor, seen, index))
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors[label(index, field)] = messages
    if errors:
        raise ValidationError(errors)
    return [_write(answer, existing, actor) for answer, existing in prepared]


@transaction.atomic
def answers_record(
    *, version: ModelVersion, actor: Actor, answers: Sequence[AnswerInput]
) -> list[ChecklistAnswer]:
    """Record several answers at once, all or none; errors are keyed `answers[<row>].<field>`
    (rows counted from 0)."""
    if not answers:
        raise ValidationError({"answers": "give at least one answer"})
    return _record(
        version=version,
        actor=actor,
        rows=answers,
        label=lambda index, field: f"answers[{index}].{field}",
    )


@transaction.atomic
def answer_record(
    *,
    version: ModelVersion,
    actor: Actor,
    item: str,
    answer: str,
    evidence_text: str = "",
    evidence_url: str = "",
    evidence_artifact: int | None = None,
    note: str = "",
) -> ChecklistAnswer:
    """Record one answer to the item with key `item`; errors are keyed by field."""
    row = AnswerInput(
        item=item,
        answer=answer,
        evidence_text=evidence_text,
        evidence_url=evidence_url,
        evidence_artifact=evidence_artifact,
        note=note,
    )
    (recorded,) = _record(
        version=version, actor=actor, rows=[row], label=lambda _index, field: field
    )
    return recorded


@transaction.atomic
def answer_record_with_upload(
    *,
    version: ModelVersion,
    actor: Actor,
    item: str,
    answer: str,
    upload: UploadedFile[Any],
    evidence_text: str = "",
    evidence_url: str = "",
    note: str = "",
) -> ChecklistAnswer:
    """Store `upload` as a report artifact of the version (its sha256 computed by the
    registry, audited there) and record the answer with it as evidence: both or neither. A
    refused answer leaves no artifact row and no stored file."""
    _locked_version(version, actor)  # refuse a frozen checklist before storing anything
    artifact = artifact_upload(
        version=version,
        actor=actor,
        upload=upload,
        kind=ArtifactKind.REPORT,
        description=f"Readiness evidence for {item}",
    )
    try:
        return answer_record(
            version=version,
            actor=actor,
            item=item,
            answer=answer,
            evidence_text=evidence_text,
            evidence_url=evidence_url,
            evidence_artifact=artifact.pk,
            note=note,
        )
    except BaseException:
        # The rows go with the transaction; the stored file has to be removed by hand.
        artifact.file.delete(save=False)
        raise
