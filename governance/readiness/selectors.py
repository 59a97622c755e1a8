"""Reads of the readiness checklist: templates, a version's answers, scores, and the gate.

Callers pass a version they reached through `restrict(user, "view")`; nothing here widens
what a user may see. The approval workflow calls `open_required_items` (or
`require_checklist_complete`) before approving a version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet

from governance.audit.models import AuditEvent
from governance.readiness.errors import ChecklistIncomplete
from governance.readiness.models import (
    ChecklistAnswer,
    ChecklistItem,
    ChecklistSection,
    ChecklistTemplate,
)
from governance.readiness.scoring import Tally, tally
from registry.choices import RiskTier, Stage
from registry.models import ModelVersion

# A reviewed checklist is frozen like the version's artifacts.
FROZEN_STAGES = frozenset({Stage.APPROVED, Stage.ARCHIVED})


@dataclass(frozen=True)
class SectionReadiness:
    section: ChecklistSection
    tally: Tally
    open_required: list[ChecklistItem]


@dataclass(frozen=True)
class Readiness:
    """Where a version stands: scores per section and overall, and the items its model's risk
    tier requires that are still open. `template` is None only if no template exists."""

    version: ModelVersion
    template: ChecklistTemplate | None
    risk_tier: str
    frozen: bool
    overall: Tally
    sections: list[SectionReadiness]
    open_required: list[ChecklistItem]
    answers: list[ChecklistAnswer]


def checklist_is_frozen(version: ModelVersion) -> bool:
    return version.stage in FROZEN_STAGES


def _with_sections_and_items() -> QuerySet[ChecklistTemplate]:
    return ChecklistTemplate.objects.prefetch_related(
        Prefetch("sections", queryset=ChecklistSection.objects.order_by("order")),
        Prefetch("sections__items", queryset=ChecklistItem.objects.order_by("order")),
    )


def template_get(*, version_number: int | None = None) -> ChecklistTemplate | None:
    """A template with its sections and items prefetched: the given version, or the active one."""
    queryset = _with_sections_and_items()
    if version_number is None:
        return queryset.filter(is_active=True).first()
    return queryset.filter(version=version_number).first()


def template_for(*, version: ModelVersion) -> ChecklistTemplate | None:
    """The template `version` is assessed against: the one its answers were given to, or the
    active template if it has none yet. A new template version thus never reopens a checklist
    that is under way; the next model version starts on the new template."""
    answered = (
        ChecklistAnswer.objects.filter(version=version).values_list("item__template_id", flat=True)
    ).first()
    if answered is not None:
        return ChecklistTemplate.objects.get(pk=answered)
    return ChecklistTemplate.objects.filter(is_active=True).first()


def template_items(template: ChecklistTemplate) -> list[ChecklistItem]:
    """The template's items in reading order (sections, then items), sections joined."""
    return list(
        template.items.select_related("section", "template").order_by("section__order", "order")
    )


def answers_by_item(
    *, version: ModelVersion, items: list[ChecklistItem]
) -> dict[int, ChecklistAnswer]:
    """The version's current answers keyed by item id, each wired to its item from `items`."""
    by_id = {item.pk: item for item in items}
    answers = ChecklistAnswer.objects.filter(version=version, item__in=by_id).select_related(
        "answered_by"
    )
    found = {}
    for answer in answers:
        answer.item = by_id[answer.item_id]
        found[answer.item_id] = answer
    return found


def _open_required(
    items: list[ChecklistItem], answers: dict[int, ChecklistAnswer], tier: str
) -> list[ChecklistItem]:
    return [
        item
        for item in items
        if item.is_required_for(tier) and not (item.pk in answers and answers[item.pk].settles_item)
    ]


def open_required_items(
    *, version: ModelVersion, at_least: str | None = None
) -> list[ChecklistItem]:
    """The items the model's risk tier requires that are not settled (answered yes with the
    evidence the item asks for, or not applicable with a reason), in checklist order.
    Empty means the checklist does not stand in the way of approval. `at_least` names a tier
    to hold the version to when it is stricter than the model's (an approval request keeps
    the strictest tier the model had while it was open)."""
    template = template_for(version=version)
    if template is None:
        return []
    items = template_items(template)
    tier = ModelVersion.objects.values_list("model__risk_tier", flat=True).get(pk=version.pk)
    if at_least is not None and RiskTier.values.index(at_least) > RiskTier.values.index(tier):
        tier = at_least
    return _open_required(items, answers_by_item(version=version, items=items), tier)


def require_checklist_complete(*, version: ModelVersion) -> None:
    """Raise ChecklistIncomplete (HTTP 409) naming every open required item, if there is one."""
    missing = open_required_items(version=version)
    if missing:
        keys = ", ".join(item.key for item in missing)
        raise ChecklistIncomplete(
            f"{version}: required readiness items are open: {keys}", items=missing
        )


def _pairs(
    items: list[ChecklistItem], answers: dict[int, ChecklistAnswer]
) -> list[tuple[str | None, bool]]:
    return [
        (answers[i.pk].answer, answers[i.pk].settles_item) if i.pk in answers else (None, False)
        for i in items
    ]


def readiness(version: ModelVersion) -> Readiness:
    """Scores per section and overall (see `governance.readiness.scoring`), open required
    items for the model's current risk tier, and the answers themselves."""
    tier = version.model.risk_tier
    template = template_for(version=version)
    items = template_items(template) if template else []
    answers = answers_by_item(version=version, items=items)
    sections: dict[int, list[ChecklistItem]] = {}
    for item in items:
        sections.setdefault(item.section_id, []).append(item)
    return Readiness(
        version=version,
        template=template,
        risk_tier=tier,
        frozen=checklist_is_frozen(version),
        overall=tally(_pairs(items, answers)),
        sections=[
            SectionReadiness(
                section=members[0].section,
                tally=tally(_pairs(members, answers)),
                open_required=_open_required(members, answers, tier),
            )
            for members in sections.values()
        ],
        open_required=_open_required(items, answers, tier),
        answers=[answers[item.pk] for item in items if item.pk in answers],
    )


ANSWER_TARGET_TYPE = "readiness.checklistanswer"


def answer_history(*, answer: ChecklistAnswer | None) -> QuerySet[AuditEvent]:
    """Every audit entry about one current answer (recorded, then each change), newest first:
    the answer row is rewritten on re-answering, its history is the audit log's. Callers pass
    an answer of a version they reached through `restrict(user, "view")`."""
    if answer is None:
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(
        target_type=ANSWER_TARGET_TYPE, target_id=str(answer.pk)
    ).order_by("-seq")


REVALIDATION_SECTION = "revalidation"


def open_revalidation_items(*, version: ModelVersion, since: Any) -> list[ChecklistItem]:
    """The items of the version's "revalidation" section not settled by an answer given at
    or after `since` (the revalidation request's opening): each revalidation answers them
    anew. Empty when the version's template has no such section (template version 1)."""
    template = template_for(version=version)
    if template is None:
        return []
    items = [i for i in template_items(template) if i.section.key == REVALIDATION_SECTION]
    answers = answers_by_item(version=version, items=items)
    return [
        item
        for item in items
        if not (
            item.pk in answers
            and answers[item.pk].settles_item
            and answers[item.pk].answered_at >= since
        )
    ]
