"""Approval policies, requests and decisions. Decisions are never edited."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models

from governance.approvals.choices import RequestKind, RequestState, Verdict
from governance.approvals.manifest import SCHEME as MANIFEST_SCHEME
from governance.outbound.addresses import validate_outbound_url
from governance.outbound.models import OutboundDelivery
from registry.choices import RiskTier
from registry.querysets import RestrictedQuerySet


class ApprovalPolicy(models.Model):
    """What approving a version or a production deployment of a model of this tier takes."""

    risk_tier = models.CharField(max_length=20, choices=RiskTier.choices, unique=True)
    required_groups = models.ManyToManyField(
        Group,
        blank=True,
        related_name="+",
        help_text="Each of these groups must give at least one approval.",
    )
    min_approvals = models.PositiveSmallIntegerField(default=1)
    separation_of_duties = models.BooleanField(
        default=True, help_text="The requester and the model's owner may not approve."
    )
    require_readiness = models.BooleanField(
        default=True, help_text="Required checklist items must be answered before approval."
    )
    expiry_days = models.PositiveSmallIntegerField(null=True, blank=True)
    revalidation_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Days from a validation to the next one; empty: no periodic revalidation.",
    )
    # Raised by one on every change (`policy_update`), which also stores the new version.
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "approval policies"
        ordering = ["risk_tier"]

    def __str__(self) -> str:
        return f"{self.get_risk_tier_display()} tier policy"

    def as_snapshot(self) -> dict[str, Any]:
        return {
            "risk_tier": self.risk_tier,
            "version": self.version,
            "required_groups": sorted(g.name for g in self.required_groups.all()),
            "min_approvals": self.min_approvals,
            "separation_of_duties": self.separation_of_duties,
            "require_readiness": self.require_readiness,
            "expiry_days": self.expiry_days,
            "revalidation_days": self.revalidation_days,
        }


class ApprovalPolicyVersion(models.Model):
    """One version of a tier's policy, as it was saved. Never edited."""

    risk_tier = models.CharField(max_length=20, choices=RiskTier.choices)
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    reason = models.TextField(blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["risk_tier", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["risk_tier", "number"], name="policy_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_risk_tier_display()} tier policy v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("policy versions are never edited")
        super().save(*args, **kwargs)


class ApprovalRequest(models.Model):
    """A request to approve a version, or to deploy an approved version to production.

    The policy (with its version) is copied when the request opens, so later policy edits do
    not move the goal posts; raising the model's risk tier while it is open replaces it with
    the stricter tier's policy, and lowering it leaves it. `manifest` is the version's release
    manifest (governance/approvals/manifest.py) and `manifest_digest` its hash; approvals count
    only while the version's manifest still has that hash. A change to the manifest while the
    request is pending rebinds the request to the new manifest, which voids the decisions
    taken on the old one. Requests of the legacy digest scheme were opened before manifests
    were bound: their digest covers the model artifacts only.
    """

    kind = models.CharField(max_length=20, choices=RequestKind.choices)
    version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.PROTECT, related_name="approval_requests"
    )
    state = models.CharField(
        max_length=20, choices=RequestState.choices, default=RequestState.PENDING, db_index=True
    )
    policy = models.JSONField()
    policy_version = models.PositiveIntegerField(null=True, blank=True)
    manifest = models.JSONField(default=dict, blank=True)
    manifest_digest = models.CharField(max_length=64, blank=True)
    digest_scheme = models.CharField(max_length=20, default=MANIFEST_SCHEME)
    comment = models.TextField(blank=True)
    # Production deployment target (kind == production).
    endpoint = models.CharField(max_length=300, blank=True)
    decision_threshold = models.DecimalField(max_digits=6, decimal_places=5, null=True, blank=True)
    traffic_share = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    replaces = models.ForeignKey(
        "registry.Deployment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    deployment = models.OneToOneField(
        "registry.Deployment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approval_request",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    permission_path = "version__model"

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "kind"],
                condition=models.Q(state="pending"),
                name="one_pending_request_per_version_and_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.version} ({self.get_state_display()})"


class DecisionQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("decisions are never edited")


class ApprovalDecision(models.Model):
    """One reviewer's verdict, bound to the manifest digest they reviewed. Never edited. A
    reviewer decides once per manifest: after the manifest changes they may decide again."""

    request = models.ForeignKey(ApprovalRequest, on_delete=models.PROTECT, related_name="decisions")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    comment = models.TextField(blank=True)
    manifest_digest = models.CharField(max_length=64, blank=True)
    reviewer_groups = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DecisionQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "reviewer", "manifest_digest"],
                name="one_decision_per_reviewer_and_manifest",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} {self.verdict}s {self.request_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("decisions are never edited")
        super().save(*args, **kwargs)


class Notification(models.Model):
    """An in-app message to one user."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.subject


class ModelWatch(models.Model):
    """A user who wants to hear of a model's lifecycle events."""

    model = models.ForeignKey(
        "registry.RegisteredModel", on_delete=models.CASCADE, related_name="watches"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watches"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "user"], name="watch_once")]

    def __str__(self) -> str:
        return f"{self.user} watches {self.model}"


class WebhookEndpoint(models.Model):
    """A URL that receives lifecycle events as HMAC-signed JSON."""

    name = models.CharField(max_length=120)
    url = models.URLField(max_length=500, validators=[validate_outbound_url])
    secret = models.CharField(max_length=200)
    events = models.JSONField(default=list, blank=True, help_text="Event names; empty means all.")
    model = models.ForeignKey(
        "registry.RegisteredModel",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhooks",
        help_text="Only this model's events; empty means every model.",
    )
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def wants(self, event: str, model_id: int | None) -> bool:
        if not self.active or (self.events and event not in self.events):
            return False
        return self.model_id is None or self.model_id == model_id


class WebhookDelivery(OutboundDelivery):
    """One event sent (or being sent) to one endpoint; `governance.outbound` claims, posts,
    records and retries it with backoff until delivered or given up."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_seq = models.PositiveBigIntegerField()
    event = models.CharField(max_length=60)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_seq"], name="deliver_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.event} -> {self.endpoint} ({self.state})"


class EventCursor(models.Model):
    """How far the lifecycle dispatcher has read the audit log."""

    name = models.CharField(max_length=50, unique=True)
    last_seq = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} at {self.last_seq}"
