"""The model card's one write: save a new revision (audited; frozen with the approval)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from governance import audit
from governance.approvals import hooks as approval_hooks
from governance.approvals.errors import ApprovalRefused
from governance.modelcards import sections
from governance.modelcards.models import ModelCardRevision
from governance.modelcards.selectors import (
    computed_sections,
    is_frozen,
    latest_revision,
    prefilled_text,
)
from registry.actors import Actor
from registry.choices import Action
from registry.models import ModelVersion
from registry.services.common import require_object


class CardFrozen(ApprovalRefused):
    """The card of an approved version changes only under a new approval (HTTP 409)."""

    code = "model_card_frozen"


@transaction.atomic
def card_save(
    *,
    version: ModelVersion,
    actor: Actor,
    text: Mapping[str, Any],
    note: str = "",
    sensitive_attribute: str | None = None,
) -> ModelCardRevision:
    """Store a new revision of the version's card: the given text sections over the latest
    revision's (or the pre-filled ones), with the data sections computed now.

    Takes the change right on the model. Refused once the version is approved, unless a
    revalidation request is open on it; a pending request is rebound to the new manifest
    (the card's digest is part of it), which voids the decisions taken on the old one.
    `sensitive_attribute` names the input feature whose groups the fairness analysis compares
    (kept for later revisions; None keeps the previous one, "" clears it)."""
    require_object(actor, Action.CHANGE, version)
    version = ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
    if is_frozen(version):
        raise CardFrozen(
            f"the model card of {version} is frozen by its approval; open a revalidation "
            "request to change it"
        )
    cleaned, errors = sections.clean_text(text)
    if errors:
        raise ValidationError({f"text.{key}": message for key, message in errors.items()})
    if len(note) > 300:
        raise ValidationError({"note": "at most 300 characters"})
    previous = latest_revision(version)
    base = dict(previous.content["text"]) if previous else prefilled_text(version)
    if sensitive_attribute is None:
        settings = previous.content.get("settings", {}) if previous else {}
        sensitive_attribute = settings.get("sensitive_attribute", "")
    sensitive_attribute = sensitive_attribute.strip()
    features = {f.get("name") for f in version.input_schema if isinstance(f, dict)}
    if sensitive_attribute and sensitive_attribute not in features:
        raise ValidationError(
            {"sensitive_attribute": f"{sensitive_attribute!r} is not an input feature of {version}"}
        )
    content = {
        "text": {key: cleaned.get(key, base.get(key, "")) for key in sections.TEXT_KEYS},
        "data": computed_sections(version, sensitive_attribute=sensitive_attribute),
        "settings": {"sensitive_attribute": sensitive_attribute},
    }
    digest = sections.digest(content)
    if previous is not None and previous.digest == digest:
        return previous
    revision = ModelCardRevision(
        version=version,
        number=(previous.number + 1) if previous else 1,
        content=content,
        digest=digest,
        note=note.strip(),
        edited_by=actor,
    )
    revision.full_clean()
    revision.save()
    changed = sorted(
        key
        for key in sections.TEXT_KEYS
        if content["text"][key] != (previous.content["text"].get(key, "") if previous else None)
    )
    audit.record(
        actor=actor,
        action="governance.model_card.saved",
        target=revision,
        before={"revision": previous.number, "digest": previous.digest} if previous else None,
        after={
            "version": version.pk,
            "revision": revision.number,
            "digest": digest,
            "changed_sections": changed,
            "note": revision.note,
        },
    )
    approval_hooks.manifest_changed(version=version, actor=actor)
    return revision
