"""`restrict(user, action)`: the one permission funnel for every registry queryset.

Grants live on `RegisteredModel` (django-guardian, direct foreign-key tables); versions,
artifacts, datasets and deployments reach their model through `permission_path`. A global
permission (a role group such as auditor) opens every model for that action.
"""

from __future__ import annotations

from typing import Self, TypeVar

from django.contrib.auth.models import User
from django.db import models
from django.db.models import Q

from registry.actors import Actor, Viewer
from registry.choices import Action

# The owner of a model may do everything with it except approve it (separation of duties).
OWNER_ACTIONS = frozenset(
    {Action.VIEW, Action.CHANGE, Action.DELETE, Action.DEPLOY, Action.MANAGE_ACCESS}
)


def codename_for(action: str) -> str:
    return f"{Action(action).value}_registeredmodel"


def granted_models_q(user: Actor, action: str) -> Q:
    """Q over RegisteredModel: the rows `user` holds `action` on through a grant or ownership."""
    from registry.models import RegisteredModelGroupPermission, RegisteredModelUserPermission

    codename = codename_for(action)
    direct = RegisteredModelUserPermission.objects.filter(
        user=user, permission__codename=codename
    ).values("content_object_id")
    via_group = RegisteredModelGroupPermission.objects.filter(
        group__user=user, permission__codename=codename
    ).values("content_object_id")
    q = Q(pk__in=direct) | Q(pk__in=via_group)
    if action in OWNER_ACTIONS:
        q |= Q(owner=user)
    return q


def has_global_permission(user: Viewer, action: str) -> bool:
    return user.is_superuser or user.has_perm(f"registry.{codename_for(action)}")


_M = TypeVar("_M", bound=models.Model)


class RestrictedQuerySet(models.QuerySet[_M]):
    def restrict(self, user: Viewer | None, action: str = Action.VIEW) -> Self:
        """Only the rows `user` may perform `action` on; anonymous and inactive users get none."""
        if not isinstance(user, User) or not user.is_active:
            return self.none()
        if has_global_permission(user, action):
            return self
        q = granted_models_q(user, action)
        path: str = self.model.permission_path  # type: ignore[attr-defined]  # on every registry model
        if not path:
            return self.filter(q)
        from registry.models import RegisteredModel

        return self.filter(**{f"{path}__in": RegisteredModel.objects.filter(q).values("pk")})
