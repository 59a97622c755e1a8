"""Answering the readiness checklist: rules, audit, permissions, freezing, the approval gate."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from governance.models import AuditEvent
from governance.readiness import selectors
from governance.readiness.errors import ChecklistFrozen, ChecklistIncomplete
from governance.readiness.models import ChecklistAnswer, ChecklistItem
from governance.readiness.services import AnswerInput, answer_record, answers_record
from registry import services
from tests import factories

pytestmark = pytest.mark.django_db

# An item with evidence_required, and one without, in template version 1.
EVIDENCE_ITEM = "data.source-documented"
PLAIN_ITEM = "model.missing-inputs"


@pytest.fixture
def version(model_a):
    return factories.model_version(model=model_a)


def _answer_events(version) -> list[AuditEvent]:
    ids = ChecklistAnswer.objects.filter(version=version).values_list("pk", flat=True)
    return list(
        AuditEvent.objects.filter(
            target_type="readiness.checklistanswer", target_id__in=[str(i) for i in ids]
        ).order_by("seq")
    )


def test_owner_answers_and_the_answer_is_audited(version, owner):
    answer = answer_record(version=version, actor=owner, item=PLAIN_ITEM, answer="yes")
    assert answer.answered_by == owner and answer.item.key == PLAIN_ITEM
    (event,) = _answer_events(version)
    assert event.action == "readiness.answer.recorded" and event.actor == owner
    assert event.before is None
    assert event.after["item"] == PLAIN_ITEM and event.after["answer"] == "yes"


def test_re_answering_replaces_the_answer_and_audits_before_and_after(version, owner):
    answer_record(version=version, actor=owner, item=PLAIN_ITEM, answer="no")
    answer_record(version=version, actor=owner, item=PLAIN_ITEM, answer="yes", note="fixed")
    assert ChecklistAnswer.objects.filter(version=version).count() == 1
    changed = _answer_events(version)[-1]
    assert changed.action == "readiness.answer.changed"
    assert changed.before["answer"] == "no" and changed.after["answer"] == "yes"
    assert changed.after["note"] == "fixed"


def test_an_unchanged_answer_is_not_rewritten_or_audited_again(version, owner):
    answer_record(version=version, actor=owner, item=PLAIN_ITEM, answer="no")
    answer_record(version=version, actor=owner, item=PLAIN_ITEM, answer="no")
    assert len(_answer_events(version)) == 1


def test_not_applicable_needs_a_note_saying_why(version, owner):
    with pytest.raises(ValidationError) as refused:
        answer_record(version=version, actor=owner, item=PLAIN_ITEM, answer="not_applicable")
    assert "note" in refused.value.message_dict
    answer = answer_record(
        version=version,
        actor=owner,
        item=PLAIN_ITEM,
        answer="not_applicable",
        note="batch scoring only; inputs are validated upstream",
    )
    assert answer.settles_item


def test_yes_to_an_item_that_asks_for_evidence_needs_evidence(version, owner):
    with pytest.raises(ValidationError) as refused:
        answer_record(version=version, actor=owner, item=EVIDENCE_ITEM, answer="yes")
    assert "evidence_text" in refused.value.message_dict
    with pytest.raises(ValidationError):
        answer_record(
            version=version, actor=owner, item=EVIDENCE_ITEM, answer="yes", evidence_text="  "
        )
    answer = answer_record(
        version=version,
        actor=owner,
        item=EVIDENCE_ITEM,
        answer="yes",
        evidence_url="https://wiki.example.org/credit-risk/data-sheet",
    )
    assert answer.settles_item


def test_an_artifact_of_the_same_version_is_evidence_and_another_versions_is_not(
    version, owner, model_a
):
    artifact = services.artifact_upload(
        version=version, actor=owner, upload=factories.binary_upload(), kind="report"
    )
    other = factories.model_version(model=model_a)
    foreign = services.artifact_upload(
        version=other, actor=owner, upload=factories.binary_upload(), kind="report"
    )
    with pytest.raises(ValidationError) as refused:
        answer_record(
            version=version,
            actor=owner,
            item=EVIDENCE_ITEM,
            answer="yes",
            evidence_artifact=foreign.pk,
        )
    assert "evidence_artifact" in refused.value.message_dict
    answer = answer_record(
        version=version,
        actor=owner,
        item=EVIDENCE_ITEM,
        answer="yes",
        evidence_artifact=artifact.pk,
    )
    assert answer.evidence_artifact == artifact


def test_deleting_the_only_evidence_artifact_reopens_the_item(version, owner):
    artifact = services.artifact_upload(
        version=version, actor=owner, upload=factories.binary_upload(), kind="report"
    )
    answer_record(
        version=version,
        actor=owner,
        item=EVIDENCE_ITEM,
        answer="yes",
        evidence_artifact=artifact.pk,
    )
    assert EVIDENCE_ITEM not in {i.key for i in selectors.open_required_items(version=version)}
    services.artifact_delete(artifact=artifact, actor=owner)
    assert EVIDENCE_ITEM in {i.key for i in selectors.open_required_items(version=version)}


def test_reviewer_with_global_view_may_not_answer(version, reviewer):
    with pytest.raises(PermissionDenied):
        answer_record(version=version, actor=reviewer, item=PLAIN_ITEM, answer="yes")
    assert not ChecklistAnswer.objects.exists()


def test_outsider_may_not_answer(version, outsider):
    with pytest.raises(PermissionDenied):
        answer_record(version=version, actor=outsider, item=PLAIN_ITEM, answer="yes")


def test_the_checklist_is_frozen_once_the_version_is_approved(model_a, owner):
    approved = factories.approved_version(model=model_a)
    before = list(ChecklistAnswer.objects.filter(version=approved).values())
    with pytest.raises(ChecklistFrozen) as refused:
        answer_record(version=approved, actor=owner, item=PLAIN_ITEM, answer="no")
    assert refused.value.code == "checklist_frozen"
    assert list(ChecklistAnswer.objects.filter(version=approved).values()) == before


def test_the_checklist_is_frozen_once_the_version_is_archived(version, owner):
    answer_record(version=version, actor=owner, item=PLAIN_ITEM, answer="no")
    services.version_archive(version=version, actor=owner)
    with pytest.raises(ChecklistFrozen):
        answer_record(version=version, actor=owner, item=PLAIN_ITEM, answer="yes")
    assert ChecklistAnswer.objects.get(version=version).answer == "no"


def test_several_answers_are_all_or_nothing_and_errors_name_row_and_field(version, owner):
    rows = [
        AnswerInput(item=PLAIN_ITEM, answer="yes"),
        AnswerInput(item="tests.edge-cases", answer="not_applicable"),
        AnswerInput(item="data.nonexistent", answer="no"),
        AnswerInput(item=PLAIN_ITEM, answer="no"),
    ]
    with pytest.raises(ValidationError) as refused:
        answers_record(version=version, actor=owner, answers=rows)
    errors = refused.value.message_dict
    assert set(errors) == {"answers[1].note", "answers[2].item", "answers[3].item"}
    assert "row 0" in errors["answers[3].item"][0]
    assert not ChecklistAnswer.objects.filter(version=version).exists()
    assert not _answer_events(version)


def test_several_valid_answers_are_recorded_and_each_is_audited(version, owner):
    rows = [
        AnswerInput(item=PLAIN_ITEM, answer="yes"),
        AnswerInput(item="tests.edge-cases", answer="not_applicable", note="no free-form input"),
    ]
    answers = answers_record(version=version, actor=owner, answers=rows)
    assert [a.item.key for a in answers] == [PLAIN_ITEM, "tests.edge-cases"]
    assert len(_answer_events(version)) == 2


def _required_keys(tier: str) -> list[str]:
    items = ChecklistItem.objects.filter(template__is_active=True).order_by(
        "section__order", "order"
    )
    return [item.key for item in items if item.is_required_for(tier)]


def test_open_required_items_lists_exactly_the_unsettled_required_ones(model_a, owner):
    assert model_a.risk_tier == "medium"
    version = factories.model_version(model=model_a)
    required = _required_keys("medium")
    settled_yes, settled_na, answered_no = required[0], required[1], required[2]
    not_required = next(k for k in _required_keys("high") if k not in required)
    answers_record(
        version=version,
        actor=owner,
        answers=[
            AnswerInput(item=settled_yes, answer="yes", evidence_text="see the data sheet"),
            AnswerInput(item=settled_na, answer="not_applicable", note="not relevant here"),
            AnswerInput(item=answered_no, answer="no"),
            AnswerInput(item=not_required, answer="yes", evidence_text="done anyway"),
        ],
    )
    open_keys = [item.key for item in selectors.open_required_items(version=version)]
    assert open_keys == [k for k in required if k not in {settled_yes, settled_na}]
    assert answered_no in open_keys


def test_require_checklist_complete_names_the_open_items(model_a, owner):
    version = factories.model_version(model=model_a)
    required = _required_keys("medium")
    answers_record(
        version=version,
        actor=owner,
        answers=[
            AnswerInput(item=key, answer="not_applicable", note="pilot only")
            for key in required[1:]
        ],
    )
    with pytest.raises(ChecklistIncomplete) as refused:
        selectors.require_checklist_complete(version=version)
    assert [item.key for item in refused.value.items] == [required[0]]
    assert required[0] in refused.value.message
    answer_record(
        version=version, actor=owner, item=required[0], answer="not_applicable", note="pilot"
    )
    selectors.require_checklist_complete(version=version)
