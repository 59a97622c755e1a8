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
from governance.outbound import sender
from monitoring.alerts.quality_source import quality_rule_name_problem
from monitoring.models import AlertDelivery, AlertRule, AlertSource, DeploymentStatus
from registry.actors import Actor
from registry.choices import Action
from registry.services.common import require_object

# What CBPE (classifiers) and DLE (regressors) estimate.
ESTIMATED_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "mae", "rmse")

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


def rule_name_problem(source: str, name: str) -> str | None:
    """Why `name` is not something a rule of `source` can watch, or None when it is."""
    if not name.strip():
        return "name what the rule watches"
    if source == AlertSource.STATUS and name not in DeploymentStatus.AXES:
        return f"one of {list(DeploymentStatus.AXES)}"
    if source == AlertSource.QUALITY:
        return quality_rule_name_problem(name)
    if source == AlertSource.ESTIMATED and name not in ESTIMATED_METRICS:
        return f"one of {list(ESTIMATED_METRICS)}"
    return None


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


TEST_KIND = "test"
# A test is tried once, while the user waits: its result is the answer.
TEST_POLICY = sender.Policy(max_attempts=1, base_s=0)


def alert_rule_send_test(*, rule: AlertRule, actor: Actor) -> AlertDelivery:
    """Send a signed test event to the rule's webhook now, once, through the outbound sender,
    and return the delivery row (state, status code, error). The request is audited and the
    row written in one transaction; the post happens after it, so no transaction waits on the
    network. Needs "change" on the rule's target; ValidationError when it calls no webhook."""
    with transaction.atomic():
        require_rule_change(actor, model=rule.model, deployment=rule.deployment)
        rule = AlertRule.objects.get(pk=rule.pk)
        if not rule.webhook_url:
            raise ValidationError({"webhook_url": "this rule calls no webhook"})
        entry = audit.record(
            actor=actor,
            action="monitoring.alert_rule.tested",
            target=rule,
            after={"url": rule.webhook_url},
        )
        payload = {
            "event": TEST_KIND,
            "test": True,
            "rule": rule.pk,
            "deployment": rule.deployment_id,
            "model": rule.model_id,
            "severity": rule.severity,
            "message": f"test of alert rule {rule.pk}: {rule}",
            "at": entry.created_at.isoformat(),
            "actor": entry.actor_name,
        }
        row = AlertDelivery.objects.create(
            rule=rule, kind=TEST_KIND, url=rule.webhook_url, payload=payload
        )
    sender.deliver(
        row, url=row.url, secret=rule.webhook_secret, event=TEST_KIND, policy=TEST_POLICY
    )
    row.refresh_from_db()
    return row
