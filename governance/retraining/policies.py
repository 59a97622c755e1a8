"""A model's retraining policy: read it, change it (owners; audited)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from governance import audit
from governance.retraining.models import RetrainingPolicy
from registry.actors import Actor
from registry.choices import Action
from registry.models import RegisteredModel
from registry.services.common import require_object

EDITABLE = (
    "enabled",
    "every_days",
    "min_days",
    "on_drift",
    "metric_name",
    "metric_threshold",
    "metric_source",
    "metric_window_days",
    "window_days",
    "trainer",
    "trainer_url",
    "trainer_secret",
)


def policy_get(*, model: RegisteredModel) -> RetrainingPolicy | None:
    return RetrainingPolicy.objects.filter(model=model).first()


def policy_view(policy: RetrainingPolicy) -> dict[str, Any]:
    """The policy as shown and audited: the trainer's secret never, only whether one is set."""
    data = {name: getattr(policy, name) for name in EDITABLE if name != "trainer_secret"}
    return data | {"trainer_secret_set": bool(policy.trainer_secret)}


@transaction.atomic
def policy_update(*, model: RegisteredModel, actor: Actor, **changes: Any) -> RetrainingPolicy:
    """Create or change the model's policy (the change right on the model is needed). An empty
    `trainer_secret` keeps the stored one. Invalid values raise ValidationError naming the
    field; the change is audited with the values before and after."""
    require_object(actor, Action.CHANGE, model)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise TypeError(f"not editable: {', '.join(unknown)}")
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    policy = RetrainingPolicy.objects.filter(model=model).first()
    before = policy_view(policy) if policy is not None else None
    policy = policy or RetrainingPolicy(model=model)
    if not changes.get("trainer_secret", "x"):
        changes.pop("trainer_secret")
    for name, value in changes.items():
        setattr(policy, name, value)
    policy.updated_by = actor
    policy.full_clean()
    policy.save()
    audit.record(
        actor=actor,
        action="governance.retraining.policy.updated",
        target=policy,
        before=before,
        after=policy_view(policy),
    )
    return policy
