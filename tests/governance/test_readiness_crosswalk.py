"""The control crosswalk: every checklist item of a template maps to an ISO/IEC 42001
Annex A control and a NIST AI RMF subcategory, and a version's answers decide which of those
controls it evidences."""

from __future__ import annotations

import pytest
from django.urls import reverse

from governance.readiness import crosswalk
from governance.readiness.models import ChecklistTemplate
from governance.readiness.services import AnswerInput, answers_record
from tests import factories


def test_every_item_of_each_template_is_mapped_to_known_controls(db):
    for template in ChecklistTemplate.objects.all():
        keys = set(template.items.values_list("key", flat=True))
        table = crosswalk.CROSSWALKS[template.version]
        assert set(table) == keys
        for mapping in table.values():
            assert mapping.iso in crosswalk.ISO_TITLES
            assert mapping.nist in crosswalk.NIST_TITLES


def _state(result: crosswalk.Coverage, framework: str, control: str) -> str:
    (found,) = [c for c in result.controls if c.framework == framework and c.control == control]
    return found.state


def test_answers_decide_which_controls_are_evidenced(db):
    version = factories.model_version()
    owner = version.model.owner
    before = crosswalk.coverage(version)
    assert {c.state for c in before.controls} == {crosswalk.OPEN}
    iso_total = before.summary(crosswalk.ISO_42001)["controls"]
    assert iso_total == len({m.iso for m in crosswalk.CROSSWALKS[before.template_version].values()})

    answers_record(
        version=version,
        actor=owner,
        answers=[
            # fitness.fairness is the only item behind A.5.4
            AnswerInput(item="fitness.fairness", answer="yes", evidence_text="Bias audit 2026-11"),
            # monitoring.owner is the only item behind A.3.2 and GOVERN 2.1
            AnswerInput(item="monitoring.owner", answer="not_applicable", note="batch scoring"),
            # a "no" evidences nothing
            AnswerInput(item="fitness.audit-trail", answer="no"),
        ],
    )
    after = crosswalk.coverage(version)
    assert _state(after, crosswalk.ISO_42001, "A.5.4") == crosswalk.EVIDENCED
    assert _state(after, crosswalk.NIST_AI_RMF, "MEASURE 2.11") == crosswalk.EVIDENCED
    assert _state(after, crosswalk.ISO_42001, "A.3.2") == crosswalk.NOT_APPLICABLE
    assert _state(after, crosswalk.NIST_AI_RMF, "GOVERN 2.1") == crosswalk.NOT_APPLICABLE
    assert _state(after, crosswalk.ISO_42001, "A.6.2.8") == crosswalk.OPEN
    summary = after.summary(crosswalk.ISO_42001)
    assert summary == {
        "controls": iso_total,
        "evidenced": 1,
        "not_applicable": 1,
        "open": iso_total - 2,
    }
    data = after.as_dict()
    assert data["checklist_template"] == before.template_version == 2
    assert data["unmapped_items"] == []
    assert data["frameworks"][crosswalk.ISO_42001] == summary


def test_a_settled_item_evidences_every_control_it_maps_to(db):
    version = factories.model_version()
    factories.answer_required_items(version)
    result = crosswalk.coverage(version)
    for row in result.items:
        if row.state == crosswalk.EVIDENCED:
            assert row.mapping is not None
            assert _state(result, crosswalk.ISO_42001, row.mapping.iso) == crosswalk.EVIDENCED
            assert _state(result, crosswalk.NIST_AI_RMF, row.mapping.nist) == crosswalk.EVIDENCED


@pytest.fixture
def version(db):
    return factories.model_version()


def test_the_coverage_page_shows_both_frameworks_to_a_viewer(client, version):
    client.force_login(version.model.owner)
    url = reverse("readiness:crosswalk", args=[version.model.slug, version.number])
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert crosswalk.ISO_42001 in text and crosswalk.NIST_AI_RMF in text
    assert 'data-control="A.5.4"' in text and 'data-control="MEASURE 2.11"' in text
    checklist = client.get(reverse("readiness:checklist", args=[version.model.slug, 1]))
    assert url in checklist.content.decode()


def test_the_coverage_page_of_an_invisible_version_is_404(client, version, outsider):
    client.force_login(outsider)
    url = reverse("readiness:crosswalk", args=[version.model.slug, version.number])
    assert client.get(url).status_code == 404
