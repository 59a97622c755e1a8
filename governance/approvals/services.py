"""The approval workflow's writes: open, decide, withdraw, expire.

Every function runs in one transaction, locks the request row it changes, and records an
audit entry. Two reviewers deciding at the same instant are serialised by the row lock, so a
request completes once and no approval is counted twice.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from governance import audit
from governance.approvals import manifest as mf
from governance.approvals import notifications, revalidation
from governance.approvals.choices import TEST_LOG_JOB, RequestKind, RequestState, Verdict
from governance.approvals.digests import version_manifest
from governance.approvals.errors import ApprovalRefused
from governance.approvals.models import ApprovalDecision, ApprovalPolicy, ApprovalRequest
from governance.approvals.selectors import approval_progress
from governance.readiness.selectors import open_required_items, open_revalidation_items
from monitoring.jobs.queue import job_create
from registry import services as registry
from registry.actors import Actor, SystemActor
from registry.choices import Action, Environment, Stage
from registry.models import Deployment, ModelVersion
from registry.services.common import require_object


def _policy_for(version: ModelVersion) -> ApprovalPolicy:
    policy = ApprovalPolicy.objects.filter(risk_tier=version.model.risk_tier).first()
    if policy is None:
        raise ApprovalRefused(f"no approval policy for the {version.model.risk_tier} risk tier")
    return policy


def approvable_manifest(version: ModelVersion) -> dict[str, Any]:
    """The version's manifest, refused unless it has a model artifact and every artifact's
    sha256 was computed by Steward or pinned by a content-addressed URI."""
    manifest = version_manifest(version)
    if not mf.has_model_artifact(manifest):
        raise ApprovalRefused(f"{version} has no model artifact to approve")
    unverified = mf.unverified(manifest)
    if unverified:
        raise ApprovalRefused(
            f"{version}: every artifact of a version under approval needs a sha256 that "
            "Steward computed (an upload) or that its URI pins (oci://…@sha256:…); "
            f"not so for: {', '.join(unverified)}"
        )
    return manifest


def _open(
    *,
    version: ModelVersion,
    kind: str,
    actor: Actor | SystemActor,
    comment: str,
    requested_by: Actor | None = None,
    **target: Any,
) -> ApprovalRequest:
    manifest = approvable_manifest(version)
    digest = mf.digest(manifest)
    if ApprovalRequest.objects.filter(
        version=version, kind=kind, state=RequestState.PENDING
    ).exists():
        raise ApprovalRefused(f"{version} already has a pending {kind} request")
    requester = requested_by if requested_by is not None else actor
    if isinstance(requester, str):
        raise ValueError("a request opened by a process names the user it is opened for")
    policy = _policy_for(version)
    request = ApprovalRequest.objects.create(
        kind=kind,
        version=version,
        policy=policy.as_snapshot(),
        policy_version=policy.version,
        manifest=manifest,
        manifest_digest=digest,
        digest_scheme=mf.SCHEME,
        comment=comment,
        requested_by=requester,
        expires_at=(
            timezone.now() + dt.timedelta(days=policy.expiry_days) if policy.expiry_days else None
        ),
        **target,
    )
    audit.record(
        actor=actor,
        action=f"governance.approval.{kind}.requested",
        target=request,
        after={"version": version.pk, "manifest_digest": digest, "policy": request.policy}
        | {k: str(v) if isinstance(v, Decimal) else getattr(v, "pk", v) for k, v in target.items()},
    )
    notifications.request_opened(request)
    return request


@transaction.atomic
def request_version_approval(
    *, version: ModelVersion, actor: Actor, comment: str = ""
) -> ApprovalRequest:
    """Submit a version for review and open its approval request."""
    require_object(actor, Action.CHANGE, version)
    version = ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
    if version.stage not in (Stage.DRAFT, Stage.REJECTED, Stage.PENDING_REVIEW):
        raise ApprovalRefused(f"{version} is {version.get_stage_display().lower()}")
    if version.stage != Stage.PENDING_REVIEW:
        registry.version_submit(version=version, actor=actor)
    return _open(version=version, kind=RequestKind.VERSION, actor=actor, comment=comment)


@transaction.atomic
def open_revalidation(*, version: ModelVersion, due: dt.date) -> ApprovalRequest:
    """Open the periodic revalidation of an approved version on its model owner's behalf
    (the revalidation sweep acts; the owner is the requester, so duties stay separated).
    It follows the tier's policy like any request and does not move the version's stage."""
    version = (
        ModelVersion.objects.select_for_update().select_related("model__owner").get(pk=version.pk)
    )
    if version.stage != Stage.APPROVED:
        raise ApprovalRefused(f"{version} is not approved; only an approved version is revalidated")
    return _open(
        version=version,
        kind=RequestKind.REVALIDATION,
        actor="revalidation-sweep",
        requested_by=version.model.owner,
        comment=f"Periodic revalidation due on {due.isoformat()}.",
    )


@transaction.atomic
def request_revalidation(
    *, version: ModelVersion, actor: Actor, comment: str = ""
) -> ApprovalRequest:
    """Open a revalidation of an approved version before it falls due (an owner who wants to
    change its model card, or a validator starting early)."""
    require_object(actor, Action.CHANGE, version)
    version = ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
    if version.stage != Stage.APPROVED:
        raise ApprovalRefused(f"{version} is not approved; only an approved version is revalidated")
    return _open(version=version, kind=RequestKind.REVALIDATION, actor=actor, comment=comment)


@transaction.atomic
def request_production_deployment(
    *,
    version: ModelVersion,
    actor: Actor,
    endpoint: str,
    decision_threshold: Decimal | None = None,
    traffic_share: Decimal = Decimal(100),
    replaces: Deployment | None = None,
    comment: str = "",
) -> ApprovalRequest:
    """Ask to deploy an approved version to production; it deploys when approved."""
    require_object(actor, Action.DEPLOY, version)
    version = ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
    if version.stage != Stage.APPROVED:
        raise ApprovalRefused(f"{version} must be approved before it can go to production")
    if not endpoint:
        raise ValidationError({"endpoint": "a production deployment needs an endpoint"})
    if replaces is not None and replaces.version.model_id != version.model_id:
        raise ValidationError({"replaces": "must be a deployment of the same model"})
    return _open(
        version=version,
        kind=RequestKind.PRODUCTION,
        actor=actor,
        comment=comment,
        endpoint=endpoint,
        decision_threshold=decision_threshold,
        traffic_share=traffic_share,
        replaces=replaces,
    )


def _check_reviewer(request: ApprovalRequest, reviewer: Any) -> list[str]:
    """Raise unless `reviewer` may decide; return the policy groups the reviewer belongs to."""
    model = request.version.model
    if (
        not ApprovalRequest.objects.restrict(reviewer, Action.APPROVE)
        .filter(pk=request.pk)
        .exists()
    ):
        raise PermissionDenied(f"you may not approve versions of {model}")
    if request.policy["separation_of_duties"]:
        if reviewer.pk == request.requested_by_id:
            raise PermissionDenied(
                "separation of duties: you requested this approval, "
                "so another reviewer must decide it"
            )
        if reviewer.pk == model.owner_id:
            raise PermissionDenied(
                f"separation of duties: you own {model}, so another reviewer must decide it"
            )
    if request.decisions.filter(
        reviewer=reviewer, manifest_digest=request.manifest_digest
    ).exists():
        raise ApprovalRefused("you have already decided this request; decisions are final")
    groups = set(reviewer.groups.values_list("name", flat=True))
    required = set(request.policy["required_groups"])
    if required and not groups & required:
        raise PermissionDenied(
            f"this policy takes decisions from members of {', '.join(sorted(required))}"
        )
    return sorted(groups & required)


def _expire_if_due(request: ApprovalRequest) -> bool:
    if request.expires_at and request.expires_at <= timezone.now():
        _close(request, RequestState.EXPIRED, actor="approval-expiry")
        return True
    return False


def _close(
    request: ApprovalRequest, state: str, *, actor: Actor | SystemActor, reason: str = ""
) -> None:
    before = {"state": request.state}
    request.state = state
    request.closed_at = timezone.now()
    request.save(update_fields=["state", "closed_at"])
    audit.record(
        actor=actor,
        action=f"governance.approval.{request.kind}.{state}",
        target=request,
        before=before,
        after={"state": state, "reason": reason} if reason else {"state": state},
    )
    version = request.version
    if request.kind == RequestKind.VERSION and version.stage == Stage.PENDING_REVIEW:
        outcomes: dict[str, str] = {
            RequestState.APPROVED: Stage.APPROVED,
            RequestState.REJECTED: Stage.REJECTED,
        }
        to = outcomes.get(state, Stage.DRAFT)
        registry.version_transition(version=version, to=to, actor=actor)
    if state == RequestState.APPROVED and request.kind in (
        RequestKind.VERSION,
        RequestKind.REVALIDATION,
    ):
        revalidation.record_validation(request)
    if state == RequestState.APPROVED and request.kind != RequestKind.PRODUCTION:
        # The signed test log of the validation, attached to this request (after commit).
        job_create(kind=TEST_LOG_JOB, params={"request": request.pk}, actor=actor)
    notifications.request_closed(request)


def decide(
    *,
    request: ApprovalRequest,
    actor: Actor,
    verdict: str,
    comment: str = "",
    manifest_digest: str = "",
) -> ApprovalRequest:
    """Record one reviewer's decision; complete the request when the policy is met.

    A rejection needs a comment and closes the request. An approval is bound to the release
    manifest's digest, and counts only while the version keeps that manifest; when the
    reviewer says which digest they reviewed (`manifest_digest`), it must be the request's.
    A request found past its expiry is closed as expired (that is kept) and the decision
    refused.
    """
    with transaction.atomic():
        request = (
            ApprovalRequest.objects.select_for_update()
            .select_related("version__model")
            .get(pk=request.pk)
        )
        if request.state != RequestState.PENDING:
            raise ApprovalRefused(f"this request is {request.get_state_display()}, not pending")
        expired = _expire_if_due(request)
        if not expired:
            return _decide_locked(request, actor, verdict, comment, manifest_digest)
    raise ApprovalRefused("this request has expired; open a new one")


def _check_manifest(request: ApprovalRequest, seen: str) -> None:
    """Refuse an approval unless the version still has the manifest the request binds, the
    reviewer saw that one, and it is approvable."""
    if request.digest_scheme != mf.SCHEME:
        raise ApprovalRefused(
            "this request was opened before approvals bound the whole release manifest; "
            "withdraw it and open a new one"
        )
    if seen and seen != request.manifest_digest:
        raise ApprovalRefused(
            "the release manifest changed after you loaded this request; review it again"
        )
    manifest = approvable_manifest(request.version)
    if mf.digest(manifest) != request.manifest_digest:
        raise ApprovalRefused(
            "the release manifest changed since this request opened; withdraw it and open a new one"
        )


def _decide_locked(
    request: ApprovalRequest, actor: Actor, verdict: str, comment: str, seen: str
) -> ApprovalRequest:
    if request.version.stage == Stage.ARCHIVED:
        # Archiving withdraws the version's requests; whatever archived it, none is decided.
        raise ApprovalRefused(
            f"{request.version} is archived; its requests can no longer be decided"
        )
    groups = _check_reviewer(request, actor)
    if verdict == Verdict.REJECT and not comment.strip():
        raise ValidationError({"comment": "a rejection needs a comment saying why"})
    if verdict == Verdict.APPROVE:
        # Lock the version too, so no checklist answer or artifact changes under the check.
        ModelVersion.objects.select_for_update().get(pk=request.version_id)
        _check_manifest(request, seen)
        if request.kind == RequestKind.VERSION and request.policy["require_readiness"]:
            missing = open_required_items(
                version=request.version, at_least=request.policy["risk_tier"]
            )
            if missing:
                keys = ", ".join(item.key for item in missing)
                raise ApprovalRefused(f"required readiness items are open: {keys}")
        if request.kind == RequestKind.REVALIDATION and request.policy["require_readiness"]:
            stale = open_revalidation_items(version=request.version, since=request.requested_at)
            if stale:
                keys = ", ".join(item.key for item in stale)
                raise ApprovalRefused(
                    f"the revalidation checklist items must be answered for this request: {keys}"
                )
    decision = ApprovalDecision.objects.create(
        request=request,
        reviewer=actor,
        verdict=verdict,
        comment=comment,
        manifest_digest=request.manifest_digest,
        reviewer_groups=groups,
    )
    audit.record(
        actor=actor,
        action=f"governance.approval.decision.{verdict}",
        target=request,
        after={
            "decision": decision.pk,
            "comment": comment,
            "manifest_digest": request.manifest_digest,
        },
    )
    if verdict == Verdict.REJECT:
        _close(request, RequestState.REJECTED, actor=actor)
    elif approval_progress(request).complete:
        _close(request, RequestState.APPROVED, actor=actor)
        if request.kind == RequestKind.PRODUCTION:
            _deploy(request)
    return request


def _deploy(request: ApprovalRequest) -> Deployment:
    """Carry out an approved production request on behalf of its requester."""
    return registry.deployment_create(
        version=request.version,
        actor=request.requested_by,
        environment=Environment.PRODUCTION,
        endpoint=request.endpoint,
        decision_threshold=request.decision_threshold,
        traffic_share=request.traffic_share if request.traffic_share is not None else 100,
        description=f"Approved through request {request.pk}",
        replaces=request.replaces,
    )


@transaction.atomic
def withdraw(*, request: ApprovalRequest, actor: Actor) -> ApprovalRequest:
    """The requester or the model's owner takes a pending request back."""
    request = (
        ApprovalRequest.objects.select_for_update()
        .select_related("version__model")
        .get(pk=request.pk)
    )
    if actor.pk not in (request.requested_by_id, request.version.model.owner_id):
        raise PermissionDenied("only the requester or the model's owner may withdraw a request")
    if request.state != RequestState.PENDING:
        raise ApprovalRefused(f"this request is {request.get_state_display()}, not pending")
    _close(request, RequestState.WITHDRAWN, actor=actor)
    return request


def withdraw_for_archived_version(
    *, version: ModelVersion, actor: Actor | SystemActor
) -> list[ApprovalRequest]:
    """Withdraw every pending request of `version`, which is being archived: an archived
    version is neither approved nor deployed. Runs in the archive's transaction (registry hook
    `version_archived`), so both commit together or not at all."""
    requests = list(
        ApprovalRequest.objects.select_for_update()
        .filter(version=version, state=RequestState.PENDING)
        .select_related("version__model", "requested_by")
        .order_by("pk")
    )
    for request in requests:
        _close(request, RequestState.WITHDRAWN, actor=actor, reason="the version was archived")
    return requests


def expire_due_requests() -> int:
    """Close every pending request past its expiry (run by beat); returns how many."""
    due = ApprovalRequest.objects.filter(state=RequestState.PENDING, expires_at__lte=timezone.now())
    count = 0
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            request = ApprovalRequest.objects.select_for_update().get(pk=pk)
            if request.state == RequestState.PENDING and _expire_if_due(request):
                count += 1
    return count
