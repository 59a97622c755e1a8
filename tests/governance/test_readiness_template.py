"""Readiness checklist templates: the data migrations' versions 1 and 2 (version 1 plus the
periodic revalidation section), tiers, and later versions."""

from __future__ import annotations

import itertools

import pytest
from django.apps import apps as live_apps

from governance.readiness import selectors
from governance.readiness.choices import TIER_ORDER
from governance.readiness.loader import load_template
from governance.readiness.models import ChecklistItem, ChecklistTemplate
from governance.readiness.services import answer_record
from tests import factories

pytestmark = pytest.mark.django_db

SECTIONS = ["business", "data", "model", "tests", "deployment", "monitoring", "feedback", "fitness"]


def _required(tier: str) -> set[str]:
    template = ChecklistTemplate.objects.get(version=1)
    return {item.key for item in template.items.all() if item.is_required_for(tier)}


def test_data_migrations_load_version_2_as_the_active_template_with_every_section():
    template = selectors.template_get()
    assert template is not None and template.version == 2 and template.is_active
    assert [section.key for section in template.sections.all()] == [*SECTIONS, "revalidation"]
    assert all(section.items.all() for section in template.sections.all())
    v1 = ChecklistTemplate.objects.get(version=1)
    assert [section.key for section in v1.sections.all()] == SECTIONS


def test_version_2_asks_what_version_1_asked_and_requires_no_revalidation_item_by_tier():
    def rows(version: int) -> list[tuple]:
        return list(
            ChecklistItem.objects.filter(template__version=version)
            .exclude(section__key="revalidation")
            .order_by("section__order", "order")
            .values_list("key", "question", "required_for", "evidence_required")
        )

    assert rows(2) == rows(1)
    revalidation = ChecklistItem.objects.filter(template__version=2, section__key="revalidation")
    assert revalidation.count() == 4 and all(not i.required_for for i in revalidation)


def test_version_1_has_a_question_for_every_item_and_keys_name_their_section():
    items = list(ChecklistItem.objects.filter(template__version=1).select_related("section"))
    assert 30 <= len(items) <= 45
    assert len({item.key for item in items}) == len(items)
    for item in items:
        item.full_clean()  # key format, section prefix and tier list are valid
        assert item.question.endswith("?") and item.guidance
        assert not item.evidence_required or item.evidence_hint


def test_fit_for_use_covers_fairness_law_misuse_audit_and_fallback():
    keys = set(ChecklistItem.objects.filter(section__key="fitness").values_list("key", flat=True))
    expected = {"fairness", "lawful", "misuse", "audit-trail", "fallback"}
    assert {f"fitness.{name}" for name in expected} <= keys


def test_each_higher_risk_tier_requires_strictly_more_items():
    required = [_required(tier) for tier in TIER_ORDER]
    for lower, higher in itertools.pairwise(required):
        assert lower < higher


def test_critical_tier_requires_nearly_every_item():
    total = ChecklistItem.objects.filter(template__version=1).count()
    assert len(_required("critical")) >= 0.9 * total


def test_a_low_tier_model_has_fewer_open_required_items_than_a_critical_one(owner):
    low = factories.model_version(model=factories.registered_model(owner=owner, risk_tier="low"))
    critical = factories.model_version(
        model=factories.registered_model(owner=owner, risk_tier="critical")
    )
    assert {i.key for i in selectors.open_required_items(version=low)} == _required("low")
    assert {i.key for i in selectors.open_required_items(version=critical)} == _required("critical")


def _template_v2() -> dict:
    return {
        "version": 3,
        "title": "Readiness, third edition",
        "sections": [
            {
                "key": "data",
                "title": "Data",
                "items": [
                    {
                        "key": "data.source-documented",
                        "question": "Where does the data come from?",
                        "required_from": "low",
                    }
                ],
            }
        ],
    }


def test_a_later_template_version_applies_to_versions_without_answers_only(model_a, owner):
    started = factories.model_version(model=model_a)
    answer_record(version=started, actor=owner, item="model.missing-inputs", answer="no")
    load_template(live_apps, _template_v2())
    fresh = factories.model_version(model=model_a)

    assert ChecklistTemplate.objects.get(is_active=True).version == 3
    assert selectors.template_for(version=started).version == 2
    assert selectors.template_for(version=fresh).version == 3
    v3_answer = answer_record(
        version=fresh, actor=owner, item="data.source-documented", answer="no"
    )
    assert v3_answer.item.template.version == 3
    assert [i.key for i in selectors.open_required_items(version=fresh)] == [
        "data.source-documented"
    ]


def test_admin_shows_templates_items_and_answers_but_offers_no_edits(client, admin, model_a):
    version = factories.model_version(model=model_a)
    answer = answer_record(
        version=version, actor=model_a.owner, item="model.missing-inputs", answer="no"
    )
    client.force_login(admin)
    for name in ("checklisttemplate", "checklistitem", "checklistanswer"):
        assert client.get(f"/admin/readiness/{name}/").status_code == 200
        assert client.get(f"/admin/readiness/{name}/add/").status_code == 403
    page = client.get(f"/admin/readiness/checklistanswer/{answer.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content


def _templates() -> list[tuple]:
    return list(
        ChecklistTemplate.objects.order_by("version").values_list("version", "title", "is_active")
    )


@pytest.mark.django_db(transaction=True)
def test_a_flush_brings_back_every_template_version_as_migrate_left_them():
    """A flush (the end of every transactional test, `manage.py flush`) empties the tables the
    data migrations filled; post_migrate must restore all versions with the newest active."""
    from django.core.management import call_command

    migrated = _templates()
    items = ChecklistItem.objects.count()
    assert migrated[-1][2] and migrated[-1][0] == max(row[0] for row in migrated)
    call_command("flush", interactive=False, verbosity=0)
    assert _templates() == migrated
    assert ChecklistItem.objects.count() == items


def test_every_migration_that_ships_a_template_is_restored_after_a_flush():
    """A guard for the class: the next template version's migration must join the list."""
    import importlib
    import pkgutil

    from governance.readiness import migrations
    from governance.readiness.apps import TEMPLATE_MIGRATIONS

    shipped = set()
    for info in pkgutil.iter_modules(migrations.__path__):
        module = importlib.import_module(f"{migrations.__name__}.{info.name}")
        shipped |= {
            value["version"]
            for name, value in vars(module).items()
            if name.startswith("TEMPLATE_V") and isinstance(value, dict)
        }
    listed = [
        getattr(importlib.import_module(module), name)["version"]
        for module, name in TEMPLATE_MIGRATIONS
    ]
    assert listed == sorted(shipped)
