"""Guard: every integer an API input serializer (a `…Input` or `…Query` class) accepts has
both bounds, so a value past
64 bits is a 400 naming the field, never a database overflow (a 500 on SQLite)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from rest_framework import serializers

PACKAGES = ("registry", "monitoring", "governance", "portal")
INPUTS = ("Input", "Query")


def _serializer_classes() -> list[type[serializers.Serializer]]:
    for package in PACKAGES:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, f"{package}."):
            if ".migrations" in info.name or ".management" in info.name:
                continue
            importlib.import_module(info.name)
    seen: list[type[serializers.Serializer]] = []
    stack = [serializers.Serializer]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            stack.append(sub)
            if sub.__module__.split(".")[0] in PACKAGES and sub.__name__.endswith(INPUTS):
                seen.append(sub)
    return seen


@pytest.mark.django_db
def test_every_integer_input_field_has_a_maximum():
    unbounded = []
    for cls in _serializer_classes():
        for name, field in cls().fields.items():
            if not isinstance(field, serializers.IntegerField) or field.read_only:
                continue
            if field.max_value is None or field.min_value is None:
                unbounded.append(f"{cls.__module__}.{cls.__name__}.{name}")
    assert not unbounded, f"integer inputs without both bounds: {unbounded}"
