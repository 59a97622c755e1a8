"""Write a checklist template from a plain description. Used by data migrations (with the
historical app registry) and by tests (with the live one).

A template description is a dict:

    {"version": 2, "title": "...", "description": "...",
     "sections": [{"key": "data", "title": "...", "description": "...",
                   "items": [{"key": "data.source-documented", "question": "...",
                              "guidance": "...", "evidence_hint": "...",
                              "evidence_required": True, "required_from": "medium"}]}]}

`required_from` names the lowest risk tier that requires the item (higher tiers require it
too; omitted or None: required by none); an explicit `required_for` list overrides it.
A later template version is added by a later migration that calls `load_template`; the new
version becomes the active one, and the older versions stay for the answers given to them.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model

from governance.readiness.choices import TIER_ORDER, tiers_from

APP = "readiness"


def _required_for(spec: dict[str, Any]) -> list[str]:
    tiers = spec.get("required_for")
    if tiers is None:
        tiers = tiers_from(spec.get("required_from"))
    unknown = [tier for tier in tiers if tier not in TIER_ORDER]
    if unknown:
        raise ValueError(f"item {spec['key']}: unknown risk tiers {unknown}")
    return list(tiers)


def _load_items(apps: Any, template: Any, section: Any, items: list[dict[str, Any]]) -> None:
    """`template` and `section` are historical models (a migration's app registry)."""
    Item = apps.get_model(APP, "ChecklistItem")
    for order, spec in enumerate(items, start=1):
        if not spec["key"].startswith(f"{section.key}."):
            raise ValueError(f"item {spec['key']} does not belong to section {section.key}")
        Item.objects.create(
            template=template,
            section=section,
            key=spec["key"],
            order=order,
            question=spec["question"],
            guidance=spec.get("guidance", ""),
            evidence_hint=spec.get("evidence_hint", ""),
            evidence_required=spec.get("evidence_required", False),
            required_for=_required_for(spec),
        )


def load_template(apps: Any, spec: dict[str, Any], *, activate: bool = True) -> Model:
    """Create the template version `spec` describes, with its sections and items; when
    `activate`, it becomes the only active template."""
    Template = apps.get_model(APP, "ChecklistTemplate")
    Section = apps.get_model(APP, "ChecklistSection")
    if activate:
        Template.objects.filter(is_active=True).update(is_active=False)
    template = Template.objects.create(
        version=spec["version"],
        title=spec["title"],
        description=spec.get("description", ""),
        is_active=activate,
    )
    for order, section_spec in enumerate(spec["sections"], start=1):
        section = Section.objects.create(
            template=template,
            key=section_spec["key"],
            title=section_spec["title"],
            description=section_spec.get("description", ""),
            order=order,
        )
        _load_items(apps, template, section, section_spec["items"])
    return template


def unload_template(apps: Any, version: int) -> None:
    """Remove a template version (the reverse of its migration) and re-activate the newest
    remaining one. Fails while answers point at its items, which is what we want."""
    Template = apps.get_model(APP, "ChecklistTemplate")
    Item = apps.get_model(APP, "ChecklistItem")
    template = Template.objects.filter(version=version).first()
    if template is None:
        return
    was_active = template.is_active
    Item.objects.filter(template=template).delete()
    template.delete()
    newest = Template.objects.order_by("-version").first()
    if was_active and newest is not None:
        newest.is_active = True
        newest.save(update_fields=["is_active"])
