from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_template(**_: Any) -> None:
    """Load template v1 when no template exists: a flush (test teardown, `manage.py flush`)
    empties the table its data migration filled, and a portal with no checklist would let
    approvals through unchecked."""
    import importlib

    from django.apps import apps

    from governance.readiness.loader import load_template

    if apps.get_model("readiness", "ChecklistTemplate").objects.exists():
        return
    v1 = importlib.import_module("governance.readiness.migrations.0002_template_v1")
    load_template(apps, v1.TEMPLATE_V1)


class ReadinessConfig(AppConfig):
    name = "governance.readiness"
    label = "readiness"
    verbose_name = "Readiness checklist"

    def ready(self) -> None:
        post_migrate.connect(ensure_template, sender=self, dispatch_uid="readiness-template")
