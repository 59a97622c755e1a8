"""The Celery application. Configuration is read from Django settings (CELERY_*)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("steward")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _ensure_broker_folders(sender: Celery, **_: object) -> None:
    """The filesystem transport needs its folders to exist before a worker starts."""
    from django.conf import settings

    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        for sub in ("processed", "control"):
            (settings.CELERY_BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
