"""Readiness scores, checked against a hand computation on a small template built here."""

from __future__ import annotations

import pytest
from django.apps import apps as live_apps

from governance.readiness import selectors
from governance.readiness.loader import load_template
from governance.readiness.scoring import tally
from governance.readiness.services import AnswerInput, answers_record
from tests import factories

pytestmark = pytest.mark.django_db


def _item(key: str, *, evidence: bool = False, required_for: list[str] | None = None) -> dict:
    return {
        "key": key,
        "question": f"{key}?",
        "evidence_required": evidence,
        "required_for": required_for or [],
    }


SMALL = {
    "version": 99,
    "title": "Small test template",
    "sections": [
        {
            "key": "alpha",
            "title": "Alpha",
            "items": [
                _item("alpha.a", required_for=["medium"]),
                _item("alpha.b", required_for=["medium"]),
                _item("alpha.c", required_for=["medium"]),
                _item("alpha.d", required_for=["medium"]),
            ],
        },
        {
            "key": "beta",
            "title": "Beta",
            "items": [
                _item("beta.e", evidence=True, required_for=["high"]),
                _item("beta.f"),
            ],
        },
    ],
}


@pytest.fixture
def small_version(model_a):
    load_template(live_apps, SMALL)
    return factories.model_version(model=model_a)


def test_scores_per_section_and_overall_match_a_hand_computation(small_version, owner):
    answers_record(
        version=small_version,
        actor=owner,
        answers=[
            AnswerInput(item="alpha.a", answer="yes"),
            AnswerInput(item="alpha.b", answer="no"),
            AnswerInput(item="alpha.c", answer="not_applicable", note="no such data"),
            # alpha.d is left unanswered
            AnswerInput(item="beta.e", answer="yes", evidence_text="report 12"),
            AnswerInput(item="beta.f", answer="not_applicable", note="batch only"),
        ],
    )
    state = selectors.readiness(small_version)
    alpha, beta = state.sections

    # alpha: 4 items, 3 answered; 1 yes, 1 N/A -> 3 applicable; score 1/3.
    assert (alpha.tally.total, alpha.tally.answered) == (4, 3)
    assert (alpha.tally.yes, alpha.tally.not_applicable, alpha.tally.applicable) == (1, 1, 3)
    assert alpha.tally.score == pytest.approx(1 / 3)
    # beta: 2 items, both answered; 1 yes, 1 N/A -> 1 applicable; score 1/1.
    assert (beta.tally.total, beta.tally.answered, beta.tally.applicable) == (2, 2, 1)
    assert beta.tally.score == pytest.approx(1.0)
    # overall: 6 items, 5 answered; 2 yes, 2 N/A -> 4 applicable; score 2/4.
    assert (state.overall.total, state.overall.answered, state.overall.applicable) == (6, 5, 4)
    assert state.overall.score == pytest.approx(0.5)
    # medium tier: alpha.a..d required; a is yes and c is N/A, so b (no) and d (open) remain.
    assert [i.key for i in state.open_required] == ["alpha.b", "alpha.d"]
    assert [i.key for i in alpha.open_required] == ["alpha.b", "alpha.d"]
    assert beta.open_required == []


def test_a_yes_that_lacks_the_evidence_asked_for_counts_as_answered_but_not_as_yes():
    result = tally([("yes", True), ("yes", False), ("no", False), (None, False)])
    assert (result.total, result.answered, result.yes) == (4, 3, 1)
    assert result.score == pytest.approx(1 / 4)


def test_a_checklist_whose_items_are_all_not_applicable_scores_one():
    result = tally([("not_applicable", True), ("not_applicable", True)])
    assert (result.applicable, result.score) == (0, 1.0)


def test_an_unanswered_checklist_scores_zero_and_opens_every_required_item(small_version):
    state = selectors.readiness(small_version)
    assert (state.overall.answered, state.overall.score) == (0, 0.0)
    assert [i.key for i in state.open_required] == ["alpha.a", "alpha.b", "alpha.c", "alpha.d"]


def test_raising_the_risk_tier_opens_the_items_the_higher_tier_requires(small_version, owner):
    from registry import services

    services.model_update(model=small_version.model, actor=owner, risk_tier="high")
    small_version.refresh_from_db()
    assert [i.key for i in selectors.open_required_items(version=small_version)] == ["beta.e"]
