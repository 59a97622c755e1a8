"""Serializer fields shared by the API's inputs."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from rest_framework import serializers

from registry import safe_json

# Primary keys are 64-bit (BigAutoField): a larger number names no object, and the databases
# refuse to compare with it (SQLite raises OverflowError), so it is refused as input instead.
MAX_OBJECT_ID = 2**63 - 1


class ObjectIdField(serializers.IntegerField):
    """The id of an object a request names: a positive 64-bit integer."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_OBJECT_ID)
        super().__init__(**kwargs)


def object_id(value: str) -> int | None:
    """A decimal id as an int, or None when it is not one or is past MAX_OBJECT_ID."""
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > len(str(MAX_OBJECT_ID)):
        return None
    number = int(value)
    return number if 1 <= number <= MAX_OBJECT_ID else None


class ObjectIdConverter:
    """A path segment that is an object id: `<id:pk>`. An id past MAX_OBJECT_ID matches no
    route (404) instead of reaching the database."""

    regex = "[0-9]+"

    def to_python(self, value: str) -> int:
        number = object_id(value)
        if number is None:
            raise ValueError(value)  # Django reads this as "no match"
        return number

    def to_url(self, value: int) -> str:
        return str(value)


class ObjectIdFilter(django_filters.NumberFilter):
    """A filter on an object id: a whole number from 1 to MAX_OBJECT_ID, else 400."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_OBJECT_ID)
        kwargs.setdefault("decimal_places", 0)
        super().__init__(*args, **kwargs)


class UtcDateTimeField(forms.DateTimeField):
    """A date-time read as Django's form field reads it, then moved to UTC. The databases
    store instants; PostgreSQL refuses an offset past ±15:59 and a date moved out of the
    calendar by its offset, so such input is refused here (400) rather than there (500)."""

    def to_python(self, value: Any) -> datetime | None:
        result = super().to_python(value)
        if result is None:
            return None
        try:
            return result.astimezone(UTC)
        except OverflowError as exc:
            raise ValidationError("this date-time is out of range", code="invalid") from exc


class UtcDateTimeFilter(django_filters.DateTimeFilter):
    """A date-time filter whose value is validated and moved to UTC (UtcDateTimeField)."""

    field_class = UtcDateTimeField


class JSONField(serializers.JSONField):
    """DRF's JSONField, reading a JSON string (a form field, or `binary=True`) through
    `registry.safe_json`: too deep, too large or not JSON is a 400 on this field."""

    def to_internal_value(self, data: Any) -> Any:
        if self.binary or getattr(data, "is_json_string", False):
            try:
                return safe_json.loads(data)
            except safe_json.JSONInputError as exc:
                raise serializers.ValidationError(str(exc)) from exc
        return super().to_internal_value(data)


def decision_threshold_field() -> serializers.DecimalField:
    """A deployment's decision threshold in [0, 1]; absent means the model's own."""
    return serializers.DecimalField(
        max_digits=6,
        decimal_places=5,
        min_value=Decimal(0),
        max_value=Decimal(1),
        required=False,
        allow_null=True,
        default=None,
    )


def traffic_share_field() -> serializers.DecimalField:
    """The percentage of traffic a deployment takes, 100 unless it is a canary."""
    return serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(100),
        required=False,
        default=Decimal(100),
    )
