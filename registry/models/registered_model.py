"""A registered model: the unit of ownership and permission."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from registry.choices import RegulatoryClass, RiskTier, Task, ValidationStatus
from registry.querysets import RestrictedQuerySet


class RegisteredModel(models.Model):
    """A named model with an owner and a risk tier; its versions, artifacts, datasets and
    deployments inherit its permissions.

    Names are unique per team, ignoring case (a model without a team: per owner), so a name
    used by a team one cannot see is never refused; slugs are unique globally."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_models"
    )
    team = models.CharField(max_length=120, blank=True, db_index=True)
    task = models.CharField(max_length=20, choices=Task.choices)
    target_column = models.CharField(max_length=120, blank=True)
    risk_tier = models.CharField(
        max_length=20, choices=RiskTier.choices, default=RiskTier.MEDIUM, db_index=True
    )
    intended_use = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    # The model-risk inventory (docs/governance.md, "Model inventory"). The owner above is
    # accountable; developer and validator are names (a person or a team), since a validator
    # often has no account here.
    developer = models.CharField(max_length=200, blank=True)
    validator = models.CharField(max_length=200, blank=True)
    validation_status = models.CharField(
        max_length=30,
        choices=ValidationStatus.choices,
        default=ValidationStatus.NOT_VALIDATED,
        db_index=True,
    )
    validated_on = models.DateField(null=True, blank=True)
    next_validation_due = models.DateField(null=True, blank=True, db_index=True)
    restrictions = models.TextField(blank=True)
    expected_end_of_life = models.DateField(
        null=True, blank=True, help_text="When the model is expected to be retired or replaced."
    )
    risk_rationale = models.TextField(blank=True, help_text="Why the model has its risk tier.")
    regulatory_class = models.CharField(
        max_length=20,
        choices=RegulatoryClass.choices,
        default=RegulatoryClass.NOT_ASSESSED,
        db_index=True,
    )
    regulatory_category = models.CharField(
        max_length=300,
        blank=True,
        help_text='E.g. the Annex III point: "5(b) creditworthiness of natural persons".',
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    permission_path = ""

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "team",
                condition=~models.Q(team=""),
                name="model_name_per_team",
                violation_error_message="this team already has a model with this name",
            ),
            models.UniqueConstraint(
                Lower("name"),
                "owner",
                condition=models.Q(team=""),
                name="model_name_per_owner_without_team",
                violation_error_message="you already have a model with this name",
            ),
        ]
        permissions = [
            ("approve_registeredmodel", "Can approve versions and deployments of the model"),
            ("deploy_registeredmodel", "Can deploy the model"),
            ("manage_access_registeredmodel", "Can grant and revoke access to the model"),
            # Global only (admins, risk officers): the tier picks the approval policy.
            ("lower_risk_tier_registeredmodel", "Can lower a model's risk tier"),
        ]

    def __str__(self) -> str:
        return self.name


class RegisteredModelUserPermission(UserObjectPermissionBase):
    """Direct foreign-key grant table: keeps permission-filtered lists on an index."""

    content_object = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE)


class RegisteredModelGroupPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE)
