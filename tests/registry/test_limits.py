"""Caps on free text and lists (registry/limits.py): every model field and every API input
field has one, and a value past it is refused with 400 naming the field, nothing stored."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from registry import limits, services
from registry.models import RegisteredModel

ROOT = Path(__file__).resolve().parents[2]
PROJECT_APPS = ("registry", "monitoring", "governance", "portal")
# Fields that bound themselves: a choice among a few, a number, a date, a file (the upload
# limit), a flag.
BOUNDED = (
    serializers.BooleanField,
    serializers.ChoiceField,
    serializers.IntegerField,
    serializers.FloatField,
    serializers.DecimalField,
    serializers.DateTimeField,
    serializers.DateField,
    serializers.FileField,
    serializers.PrimaryKeyRelatedField,
    serializers.SlugRelatedField,
    serializers.HiddenField,
)


def _project_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if m.__module__.split(".")[0] in PROJECT_APPS]


pytestmark = pytest.mark.django_db


def test_every_text_and_json_field_of_every_model_has_a_cap_or_a_reason():
    found = {
        f"{model._meta.label}.{field.name}"
        for model in _project_models()
        for field in model._meta.concrete_fields
        if isinstance(field, models.TextField | models.JSONField)
    }
    undecided = sorted(found - set(limits.CAPS) - set(limits.SYSTEM_WRITTEN))
    assert not undecided, f"add these to registry/limits.py CAPS or SYSTEM_WRITTEN: {undecided}"
    stale = sorted((set(limits.CAPS) | set(limits.SYSTEM_WRITTEN)) - found)
    assert not stale, f"no such TextField / JSONField: {stale}"


def _serializer_classes() -> list[type[serializers.Serializer]]:
    for package in PROJECT_APPS:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            if ".migrations" in info.name or ".management" in info.name:
                continue
            importlib.import_module(info.name)
    found, todo = [], [serializers.Serializer]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in PROJECT_APPS:
            found.append(cls)
    return found


def _uncapped(field: Any, where: str) -> list[str]:
    if field.read_only or isinstance(field, BOUNDED):
        return []
    if isinstance(field, serializers.ListSerializer):
        problems = [] if field.max_length else [f"{where}: a list without max_length"]
        return problems + _uncapped(field.child, f"{where}[]")
    if isinstance(field, serializers.Serializer):
        return [p for n, f in field.fields.items() for p in _uncapped(f, f"{where}.{n}")]
    if isinstance(field, serializers.ListField):
        problems = [] if field.max_length else [f"{where}: a list without max_length"]
        return problems + _uncapped(field.child, f"{where}[]")
    if isinstance(field, serializers.DictField | serializers.JSONField):
        capped = any(isinstance(v, limits.JsonCap) for v in field.validators)
        return [] if capped else [f"{where}: JSON without a limits.JsonCap validator"]
    if isinstance(field, serializers.CharField):
        return [] if field.max_length else [f"{where}: text without max_length"]
    return [f"{where}: {type(field).__name__} is not known to be bounded"]


def _input_names() -> set[str]:
    """Serializers the code reads requests with: `X(data=...)`, `valid_input(X, ...)`,
    `request=X` in a schema declaration."""
    pattern = re.compile(
        r"(?:\b(\w+)\(\s*data=)|(?:valid_input\(\s*(?:\w+\.)?(\w+))|(?:request=(?:\w+\.)?(\w+))"
    )
    names: set[str] = set()
    for package in PROJECT_APPS:
        for path in (ROOT / package).rglob("*.py"):
            for match in pattern.finditer(path.read_text()):
                names |= {g for g in match.groups() if g}
    return names


def test_every_writable_api_input_field_has_a_cap():
    problems = []
    inputs = _input_names()
    classes = [cls for cls in _serializer_classes() if cls.__name__ in inputs]
    assert len(classes) >= 20, [c.__name__ for c in classes]  # the scan finds the inputs
    for cls in classes:
        instance = cls()
        for name, field in instance.fields.items():
            problems += _uncapped(field, f"{cls.__module__}.{cls.__name__}.{name}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("description", "x" * (limits.TEXT + 1)),
        ("intended_use", "x" * (limits.TEXT + 1)),
        ("tags", [f"t{i}" for i in range(10_000)]),
        ("tags", ["x" * (limits.TAG + 1)]),
    ],
)
def test_a_model_field_past_its_cap_gets_400_naming_it_and_nothing_changes(
    api_as, owner, model_a, field, value
):
    # A 9 MiB description and 10,000 tags were stored and sent back in every list response.
    client = api_as(owner)
    created = client.post(
        "/api/v1/models/", {"name": "Big", "task": "binary", field: value}, format="json"
    )
    assert created.status_code == 400 and field in created.json(), created.content
    assert not RegisteredModel.objects.filter(name="Big").exists()
    patched = client.patch(f"/api/v1/models/{model_a.slug}/", {field: value}, format="json")
    assert patched.status_code == 400 and field in patched.json(), patched.content
    model_a.refresh_from_db()
    assert getattr(model_a, field) in ("", [])


def test_json_inputs_past_their_cap_or_holding_unstorable_text_get_400(api_as, owner, model_a):
    client = api_as(owner)
    target = f"/api/v1/models/{model_a.slug}/versions/"
    for body, field in (
        # Past the field's 64 KiB cap, under the parser's 10,000 members per object.
        ({"hyperparameters": {f"p{i}": i for i in range(8_000)}}, "hyperparameters"),
        ({"hyperparameters": {"a\x00": 1}}, "hyperparameters"),
        (
            {"input_schema": [{"name": f"f{i}", "type": "numeric"} for i in range(501)]},
            "input_schema",
        ),
    ):
        response = client.post(target, body, format="json")
        assert response.status_code == 400 and field in response.json(), response.content
    assert not model_a.versions.exists()


def test_every_save_path_checks_the_caps(owner, model_a):
    # Not only the API: a service (or the admin, or a form) saving past a cap is refused.
    with pytest.raises(ValidationError) as caught:
        services.model_update(model=model_a, actor=owner, description="x" * (limits.TEXT + 1))
    assert "description" in caught.value.message_dict
    model_a.description = "bad \ud800 text"
    with pytest.raises(ValidationError):
        model_a.save()


def test_an_error_quoting_a_lone_surrogate_back_is_a_400_not_a_500(api_as, owner):
    # The choice field's message quotes the value; rendering it as UTF-8 failed (found by the
    # hostile-value fuzz test on POST /api/v1/approvals/{id}/decide/).
    body = '{"name": "S", "task": "\\ud800"}'
    response = api_as(owner).post("/api/v1/models/", body, content_type="application/json")
    assert response.status_code == 400 and "task" in response.json()


# Pieces that make the scan's hard cases: backslashes before a NUL or before the text u0000.
_TEXT = st.lists(
    st.sampled_from(["a", "\\", "u0000", "\\u0000", "\x00", '"', "é"]), max_size=6
).map("".join)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(value=_JSON)
def test_the_one_scan_for_nul_in_a_json_value_agrees_with_walking_it(value):
    """A capped JSON value is checked for NUL by scanning its encoded text once; that verdict
    is the walk's over every key and string (backslashes next to NULs included)."""
    walked = limits._json_problem(value)
    scanned = limits.problem(value, limits.Cap(json_bytes=10**9))
    assert scanned == walked
