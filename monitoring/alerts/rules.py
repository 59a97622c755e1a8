"""Changes to alert rules after creation: edit the condition and channels, disable, delete.

The scope (model or deployment), source and name stay as created: an edit that changed what
a rule watches would make its past alerts describe a different condition. A rule that has
fired is kept for its alerts' sake (disable it instead); one that never fired may be deleted.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from governance import audit
from monitoring.models import AlertRule
from registry.actors import Actor
from registry.choices import Action
from registry.services.common import require_object

EDITABLE = (
    "comparator",
    "threshold",
    "window_days",
    "severity",
    "notify_in_app",
    "notify_email",
    "webhook_url",
    "webhook_secret",
    "retraining",
    "active",
)


class RuleInUse(Exception):
    """The rule has alerts, which must keep pointing at it."""


def require_rule_change(actor: Actor, *, model: Any = None, deployment: Any = None) -> None:
    """Rules, and the alerts they raise, are changed by whoever may change their target (the
    deployment, else the model): PermissionDenied otherwise."""
    target = deployment if deployment is not None else model
    if target is not None:
        require_object(actor, Action.CHANGE, target)


def _shown(rule: AlertRule) -> dict[str, Any]:
    """The editable fields as the audit log keeps them: the secret only as set or not."""
    fields = {name: getattr(rule, name) for name in EDITABLE if name != "webhook_secret"}
    return fields | {"webhook_secret_set": bool(rule.webhook_secret)}


@transaction.atomic
def alert_rule_update(*, rule: AlertRule, actor: Actor, **changes: Any) -> AlertRule:
    """Apply `changes` (a subset of EDITABLE), validated on the resulting rule, and audit
    the fields before and after. Raises ValidationError when the result is not a valid rule."""
    require_rule_change(actor, model=rule.model, deployment=rule.deployment)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError(f"not editable: {sorted(unknown)}")
    rule = AlertRule.objects.select_for_update().get(pk=rule.pk)
    before = _shown(rule)
    for name, value in changes.items():
        setattr(rule, name, value)
    if rule.retraining and not rule.webhook_url:
        raise ValidationError({"webhook_url": "retraining needs a webhook"})
    # Only the editable fields are checked: the others did not change, and `created_by` may
    # be empty (its user deleted, or a rule made outside the API).
    fixed = [field.name for field in AlertRule._meta.fields if field.name not in EDITABLE]
    rule.full_clean(exclude=fixed)
    rule.save(update_fields=list(changes))
    audit.record(
        actor=actor,
        action="monitoring.alert_rule.updated",
        target=rule,
        before=before,
        after=_shown(rule),
    )
    return rule


@transaction.atomic
def alert_rule_delete(*, rule: AlertRule, actor: Actor) -> None:
    """Delete a rule that never fired; RuleInUse when it has alerts."""
    require_rule_change(actor, model=rule.model, deployment=rule.deployment)
    rule = AlertRule.objects.select_for_update().get(pk=rule.pk)
    if rule.alerts.exists():
        raise RuleInUse(f"rule {rule.pk} has alerts: disable it (active=false) instead")
    before = _shown(rule) | {"source": rule.source, "name": rule.name}
    audit.record(actor=actor, action="monitoring.alert_rule.deleted", target=rule, before=before)
    rule.delete()
