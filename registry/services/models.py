"""Writes on registered models."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from guardian.shortcuts import assign_perm

from governance import audit
from registry.choices import Action
from registry.models import RegisteredModel
from registry.services.common import require_object

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
    taken = RegisteredModel.objects.filter(name__iexact=name, **scope).exclude(pk=exclude_pk)
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
    actor: Any,
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


@transaction.atomic
def model_update(*, model: RegisteredModel, actor: Any, **changes: Any) -> RegisteredModel:
    """Change a model's descriptive fields; the name, slug, task and owner stay."""
    require_object(actor, Action.CHANGE, model)
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
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
