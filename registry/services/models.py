"""Writes on registered models."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from guardian.shortcuts import assign_perm

from governance import audit
from registry import hooks
from registry.actors import Actor
from registry.choices import Action, RiskTier
from registry.models import RegisteredModel
from registry.services.common import require_object

# Held globally by admins and risk officers (registry/roles.py); never granted per model.
LOWER_RISK_TIER = "registry.lower_risk_tier_registeredmodel"

EDITABLE_FIELDS = (
    "description",
    "team",
    "target_column",
    "risk_tier",
    "intended_use",
    "tags",
)


def _unique_slug(name: str) -> str:
    """The name's slug with a random suffix, always: slugs are global, and a suffix added only
    when the plain slug is taken (by a model the actor may not see) would tell that it is, as
    a counter would tell how many others chose the name."""
    base = slugify(name)[:120] or "model"
    while True:
        slug = f"{base}-{secrets.token_hex(3)}"
        if not RegisteredModel.objects.filter(slug=slug).exists():
            return slug


def _check_name_free(*, name: str, team: str, owner: Any, exclude_pk: int | None = None) -> None:
    """Names are unique per team ignoring case (per owner for models without a team), so the
    only models this can name are the actor's own team's or their own."""
    scope = {"team": team} if team else {"team": "", "owner": owner}
    taken = RegisteredModel.objects.filter(name__iexact=name, **scope)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        where = f"team {team!r}" if team else "your models without a team"
        raise ValidationError({"name": f"{where} already has a model named {name!r}"})


def _save_named(model: RegisteredModel) -> None:
    """Save; a same-named model committed since the check (a race) is the same 400."""
    try:
        with transaction.atomic():
            model.save()
    except IntegrityError:
        _check_name_free(name=model.name, team=model.team, owner=model.owner, exclude_pk=model.pk)
        raise


@transaction.atomic
def model_create(
    *,
    actor: Actor,
    name: str,
    task: str,
    description: str = "",
    team: str = "",
    target_column: str = "",
    risk_tier: str = "medium",
    intended_use: str = "",
    tags: list[str] | None = None,
) -> RegisteredModel:
    """Register a new model owned by `actor`, who gets every action on it but approval."""
    if not actor.has_perm("registry.add_registeredmodel"):
        raise PermissionDenied("you may not register models")
    name = name.strip()
    _check_name_free(name=name, team=team, owner=actor)
    model = RegisteredModel(
        name=name,
        slug=_unique_slug(name),
        task=task,
        description=description,
        team=team,
        target_column=target_column,
        risk_tier=risk_tier,
        intended_use=intended_use,
        tags=list(tags or []),
        owner=actor,
    )
    model.full_clean()
    _save_named(model)
    for action in (Action.VIEW, Action.CHANGE):
        assign_perm(f"registry.{action}_registeredmodel", actor, model)
    audit.record(
        actor=actor, action="registry.model.created", target=model, after=audit.snapshot(model)
    )
    return model


def tier_rank(tier: str) -> int:
    """0 for low … 3 for critical: a higher rank is a stricter tier."""
    return list(RiskTier.values).index(tier)


@transaction.atomic
def model_set_risk_tier(
    *, model: RegisteredModel, actor: Actor, risk_tier: str, reason: str = ""
) -> RegisteredModel:
    """Change a model's risk tier: a governed change, since the tier picks the approval policy.

    Raising it takes the change right on the model; lowering it takes an admin or a risk
    officer and a reason. Either is audited on its own (`registry.model.risk_tier_changed`)
    and told to governance, which tightens any open approval request (registry/hooks.py).
    """
    require_object(actor, Action.VIEW, model)
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    before = model.risk_tier
    if risk_tier == before:
        return model
    if risk_tier not in RiskTier.values:
        raise ValidationError({"risk_tier": f"must be one of {', '.join(RiskTier.values)}"})
    lowering = tier_rank(risk_tier) < tier_rank(before)
    if lowering:
        if not actor.has_perm(LOWER_RISK_TIER):
            raise PermissionDenied("lowering a model's risk tier takes an admin or a risk officer")
        if not reason.strip():
            raise ValidationError({"reason": "lowering a model's risk tier needs a reason"})
    else:
        require_object(actor, Action.CHANGE, model)
    model.risk_tier = risk_tier
    model.full_clean()
    model.save(update_fields=["risk_tier", "updated_at"])
    audit.record(
        actor=actor,
        action="registry.model.risk_tier_changed",
        target=model,
        before={"risk_tier": before},
        after={"risk_tier": risk_tier, "reason": reason.strip()},
    )
    hooks.fire(hooks.RISK_TIER_CHANGED, model=model, before=before, after=risk_tier, actor=actor)
    return model


@transaction.atomic
def model_update(
    *, model: RegisteredModel, actor: Actor, reason: str = "", **changes: Any
) -> RegisteredModel:
    """Change a model's descriptive fields; the name, slug, task and owner stay. A new risk
    tier goes through `model_set_risk_tier` (with `reason`)."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    tier = changes.pop("risk_tier", None)
    if tier is not None:
        model = model_set_risk_tier(model=model, actor=actor, risk_tier=tier, reason=reason)
        if not changes:
            return model
    require_object(actor, Action.CHANGE, model)
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    if "team" in changes and changes["team"] != model.team:
        _check_name_free(
            name=model.name, team=changes["team"], owner=model.owner, exclude_pk=model.pk
        )
    before = audit.snapshot(model, fields=changes)
    for name, value in changes.items():
        setattr(model, name, value)
    model.full_clean()
    _save_named(model)
    audit.record(
        actor=actor,
        action="registry.model.updated",
        target=model,
        before=before,
        after=audit.snapshot(model, fields=changes),
    )
    return model


# The model-risk inventory -----------------------------------------------------------------

# Kept by the model's owners (the change right).
INVENTORY_FIELDS = (
    "developer",
    "validator",
    "intended_use",
    "restrictions",
    "expected_end_of_life",
    "risk_rationale",
    "regulatory_class",
    "regulatory_category",
)
# Kept by validators (the approve right) and by governance's revalidation sweep.
VALIDATION_FIELDS = ("validation_status", "validated_on", "next_validation_due")


def _inventory_write(
    model: RegisteredModel, actor: Actor | str, changes: dict[str, Any], action: str
) -> RegisteredModel:
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    before = audit.snapshot(model, fields=changes)
    for name, value in changes.items():
        setattr(model, name, value)
    model.full_clean()
    after = audit.snapshot(model, fields=changes)
    if after == before:
        return model
    model.save(update_fields=[*changes, "updated_at"])
    audit.record(actor=actor, action=action, target=model, before=before, after=after)
    return model


@transaction.atomic
def model_set_inventory(*, model: RegisteredModel, actor: Actor, **changes: Any) -> RegisteredModel:
    """Change a model's inventory fields (audited as `registry.model.inventory_changed`).
    The validation fields take the approve right on the model; the others the change right."""
    unknown = set(changes) - set(INVENTORY_FIELDS) - set(VALIDATION_FIELDS)
    if unknown:
        raise ValidationError({k: "is not an inventory field" for k in sorted(unknown)})
    require_object(actor, Action.CHANGE, model)
    if set(changes) & set(VALIDATION_FIELDS):
        require_object(actor, Action.APPROVE, model)
    return _inventory_write(model, actor, changes, "registry.model.inventory_changed")


@transaction.atomic
def model_set_validation(*, model: RegisteredModel, actor: str, **changes: Any) -> RegisteredModel:
    """Record a validation outcome for a process acting on its own (governance's approval
    workflow and revalidation sweep name themselves in the audit log)."""
    unknown = set(changes) - set(VALIDATION_FIELDS)
    if unknown:
        raise ValidationError({k: "is not a validation field" for k in sorted(unknown)})
    return _inventory_write(model, actor, changes, "registry.model.validation_changed")
