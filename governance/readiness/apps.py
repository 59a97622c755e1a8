from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate

# The data migrations that ship a template version, oldest first, with the name of the spec each
# defines. A flush must bring them all back, the newest active, as `migrate` left them.
TEMPLATE_MIGRATIONS = (
    ("governance.readiness.migrations.0002_template_v1", "TEMPLATE_V1"),
    ("governance.readiness.migrations.0003_cards_revalidation_section", "TEMPLATE_V2"),
)


def ensure_template(**_: Any) -> None:
    """Reload the shipped template versions when no template exists: a flush (test teardown,
    `manage.py flush`) empties the tables their data migrations filled, and a portal with no
    checklist would let approvals through unchecked."""
    import importlib

    from django.apps import apps

    from governance.readiness.loader import load_template

    if apps.get_model("readiness", "ChecklistTemplate").objects.exists():
        return
    for module, name in TEMPLATE_MIGRATIONS:
        load_template(apps, getattr(importlib.import_module(module), name))


class ReadinessConfig(AppConfig):
    name = "governance.readiness"
    label = "readiness"
    verbose_name = "Readiness checklist"

    def ready(self) -> None:
        post_migrate.connect(ensure_template, sender=self, dispatch_uid="readiness-template")
