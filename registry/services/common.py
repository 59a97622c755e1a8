"""Helpers shared by the registry's write services."""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models

from registry.actors import Actor
from registry.choices import FeatureType
from registry.querysets import RestrictedQuerySet


def require_object(actor: Actor, action: str, instance: models.Model) -> None:
    """Raise PermissionDenied unless restrict(actor, action) keeps `instance`."""
    rows = cast("RestrictedQuerySet[Any]", type(instance)._default_manager.all())
    if not rows.restrict(actor, action).filter(pk=instance.pk).exists():
        raise PermissionDenied(f"you may not {action} {instance}")


def clean_schema(schema: Any, *, field: str = "input_schema") -> list[dict[str, Any]]:
    """Validate a declared schema: a list of {name, type[, categories][, optional]} with unique
    names. An `optional` feature may be absent from a prediction row (JSON key or CSV cell)."""
    if not isinstance(schema, list):
        raise ValidationError({field: "must be a list of {name, type} objects"})
    cleaned, seen, allowed = [], set(), set(FeatureType.values)
    for index, item in enumerate(schema):
        where = f"{field}[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            raise ValidationError({field: f"{where}: needs a non-empty 'name'"})
        if item.get("type") not in allowed:
            raise ValidationError(
                {field: f"{where}: 'type' must be one of {', '.join(sorted(allowed))}"}
            )
        if item["name"] in seen:
            raise ValidationError({field: f"{where}: feature {item['name']!r} appears twice"})
        seen.add(item["name"])
        entry = {"name": item["name"], "type": item["type"]}
        if "categories" in item:
            if not isinstance(item["categories"], list):
                raise ValidationError({field: f"{where}: 'categories' must be a list"})
            entry["categories"] = [str(c) for c in item["categories"]]
        if "optional" in item:
            if not isinstance(item["optional"], bool):
                raise ValidationError({field: f"{where}: 'optional' must be true or false"})
            if item["optional"]:
                entry["optional"] = True
        cleaned.append(entry)
    return cleaned


def clean_mapping(value: Any, *, field: str, numeric: bool = False) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError({field: "must be an object"})
    if numeric:
        bad = [k for k, v in value.items() if isinstance(v, bool) or not isinstance(v, int | float)]
        if bad:
            raise ValidationError({field: f"values must be numbers (not: {', '.join(bad)})"})
    return value
