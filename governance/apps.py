from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


def ensure_audit_head(apps: Any = global_apps, using: str = "default", **_: Any) -> None:
    """After every migrate (and every test flush) the chain head row exists, at genesis when
    the log is empty, so `record` always finds a row to lock."""
    try:
        head_model = apps.get_model("governance", "AuditChainHead")
    except LookupError:  # migrated back past the audit tables
        return
    head_model.objects.using(using).get_or_create(pk=1)


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"

    def ready(self) -> None:
        from governance.audit import auth_events

        auth_events.connect()
        post_migrate.connect(ensure_audit_head, sender=self, dispatch_uid="steward.audit.head")
