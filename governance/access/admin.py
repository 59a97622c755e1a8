"""The Django admin's per-object permission pages for models (django-guardian's), saving
through `governance.access.services` so that every grant and revocation made in the admin is
checked (manage access) and audited. The registry's model admin has no such pages of its own;
this module replaces its registration with one that has them."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from guardian.admin import (
    AdminGroupObjectPermissionsForm,
    AdminUserObjectPermissionsForm,
    GuardedModelAdminMixin,
)

from governance.access.services import access_grant, access_revoke, grantable_actions
from registry.actors import Actor, acting_user
from registry.admin import RegisteredModelAdmin
from registry.choices import Action
from registry.models import RegisteredModel


# guardian types its template as `str`, Django's stubs as `str | None`: the same attribute.
class GovernedModelAdmin(GuardedModelAdminMixin, RegisteredModelAdmin):  # type: ignore[misc]
    def get_obj_perms_manage_user_form(self, request: HttpRequest) -> type[forms.Form]:
        return audited_grant_form(AdminUserObjectPermissionsForm, actor=acting_user(request))

    def get_obj_perms_manage_group_form(self, request: HttpRequest) -> type[forms.Form]:
        return audited_grant_form(AdminGroupObjectPermissionsForm, actor=acting_user(request))


def _action_of(codename: str) -> str | None:
    action = codename.removesuffix("_registeredmodel")
    return action if action in Action.values else None


def audited_grant_form(base: type[forms.Form], *, actor: Actor) -> type[forms.Form]:
    """guardian's per-object permission form, saving through the access service so that
    every grant and revocation made in the admin is checked (manage access) and audited."""

    class AuditedGrantForm(base):  # type: ignore[misc, valid-type]
        def get_obj_perms_field_choices(self) -> list[tuple[str, str]]:
            # `add` is not a per-model right: a model cannot be added to itself. Only what
            # the actor may grant is offered (the service enforces the same).
            grantable = set(grantable_actions(actor))
            return [
                c for c in super().get_obj_perms_field_choices() if _action_of(c[0]) in grantable
            ]

        def save_obj_perms(self) -> None:
            chosen = {_action_of(c) for c in self.cleaned_data[self.get_obj_perms_field_name()]}
            # Rights the actor may not hand out are neither offered nor taken away here.
            grantable = set(grantable_actions(actor))
            held = {_action_of(c) for c in self.get_obj_perms_field_initial()} & grantable
            principal = getattr(self, "user", None) or self.group
            common = {"model": self.obj, "principal": principal, "actor": actor}
            if revoked := sorted(a for a in held - chosen if a):
                access_revoke(actions=revoked, **common)
            if granted := sorted(a for a in chosen - held if a):
                access_grant(actions=granted, **common)

    return AuditedGrantForm


def register() -> None:
    """Serve the model admin with the audited grant pages (called by governance/admin.py)."""
    if admin.site.is_registered(RegisteredModel):
        admin.site.unregister(RegisteredModel)
    admin.site.register(RegisteredModel, GovernedModelAdmin)
