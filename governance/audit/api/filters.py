"""Filters of the audit log API (list and CSV export share them)."""

from __future__ import annotations

import django_filters as filters

from governance.audit.models import AuditEvent
from registry.api.fields import UtcDateTimeFilter


class AuditEventFilter(filters.FilterSet):
    """Exact action, actor user name, target type and id; `since` and `until` bound the
    entry time, both inclusive (ISO 8601; a bare date means its midnight, UTC)."""

    actor = filters.CharFilter(field_name="actor_name")
    since = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = UtcDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = AuditEvent
        fields = ["action", "actor", "target_type", "target_id", "since", "until"]
