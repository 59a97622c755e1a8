"""Hooks other apps hang on registry changes, named in settings (STEWARD_REGISTRY_HOOKS).

The registry may not import governance, yet governance must hear, inside the changing
transaction, that what a pending approval binds has changed (a version's manifest, a model's
risk tier). As with the production gate, a setting names the callables, so the dependency
points the right way. A hook may raise to refuse the change; the transaction then rolls back.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

MANIFEST_CHANGED = "manifest_changed"  # kwargs: version, actor
RISK_TIER_CHANGED = "risk_tier_changed"  # kwargs: model, before, after, actor
DEPLOYMENT_CREATED = "deployment_created"  # kwargs: deployment, actor
VERSION_ARCHIVED = "version_archived"  # kwargs: version, actor


def fire(event: str, **kwargs: Any) -> None:
    """Call every callable configured for `event`, in order."""
    for path in getattr(settings, "STEWARD_REGISTRY_HOOKS", {}).get(event, ()):
        import_string(path)(**kwargs)
