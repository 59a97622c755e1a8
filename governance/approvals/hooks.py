"""What governance does when the registry changes something a pending request binds.

Called by `registry.hooks.fire` inside the registry's transaction (STEWARD_REGISTRY_HOOKS),
so a change and its consequence for open requests commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from governance import audit
from governance.approvals import manifest as mf
from governance.approvals import notifications
from governance.approvals.choices import RequestState, Verdict
from governance.approvals.digests import version_manifest
from governance.approvals.errors import ApprovalRefused
from governance.approvals.models import ApprovalPolicy, ApprovalRequest
from registry.actors import Actor
from registry.models import ModelVersion, RegisteredModel
from registry.services.models import tier_rank


def _pending(**filters: Any) -> list[ApprovalRequest]:
    return list(
        ApprovalRequest.objects.select_for_update()
        .filter(state=RequestState.PENDING, **filters)
        .select_related("version__model", "requested_by")
        .order_by("pk")
    )


def manifest_changed(*, version: ModelVersion, actor: Actor) -> None:
    """Rebind each pending request of `version` to its new manifest, voiding the decisions
    taken on the old one and telling the reviewers. An artifact whose sha256 Steward cannot
    vouch for may not join a version under approval: the change is refused."""
    requests = [r for r in _pending(version=version) if r.digest_scheme == mf.SCHEME]
    if not requests:
        return
    manifest = version_manifest(version)
    digest = mf.digest(manifest)
    unverified = mf.unverified(manifest)
    for request in requests:
        if request.manifest_digest == digest:
            continue
        if unverified:
            raise ApprovalRefused(
                f"{version} is under review (request {request.pk}): every artifact needs a "
                "sha256 that Steward computed (an upload) or that its URI pins "
                f"(oci://…@sha256:…); not so for: {', '.join(unverified)}"
            )
        _rebind(request, manifest, digest, actor)


def _rebind(request: ApprovalRequest, manifest: dict[str, Any], digest: str, actor: Actor) -> None:
    decided = list(request.decisions.filter(manifest_digest=request.manifest_digest))
    before = {"manifest_digest": request.manifest_digest, "manifest": request.manifest}
    request.manifest, request.manifest_digest = manifest, digest
    request.save(update_fields=["manifest", "manifest_digest"])
    audit.record(
        actor=actor,
        action=f"governance.approval.{request.kind}.manifest_changed",
        target=request,
        before=before,
        after={
            "manifest_digest": digest,
            "manifest": manifest,
            "voided_decisions": [d.pk for d in decided if d.verdict == Verdict.APPROVE],
        },
    )
    notifications.manifest_changed(request, reviewers=[d.reviewer for d in decided])


def version_archived(*, version: ModelVersion, actor: Actor) -> None:
    """An archived version's pending requests are withdrawn with it."""
    from governance.approvals.services import withdraw_for_archived_version

    withdraw_for_archived_version(version=version, actor=actor)


def risk_tier_changed(*, model: RegisteredModel, before: str, after: str, actor: Actor) -> None:
    """Raising a model's tier tightens its pending requests to the stricter tier's policy;
    lowering it leaves them as they are (a request keeps the strictest tier it saw)."""
    if tier_rank(after) <= tier_rank(before):
        return
    policy = ApprovalPolicy.objects.filter(risk_tier=after).first()
    if policy is None:
        raise ApprovalRefused(f"no approval policy for the {after} risk tier")
    for request in _pending(version__model=model):
        if tier_rank(request.policy["risk_tier"]) >= tier_rank(after):
            continue
        _tighten(request, policy, actor)


def _tighten(request: ApprovalRequest, policy: ApprovalPolicy, actor: Actor) -> None:
    before = {"policy": request.policy, "expires_at": request.expires_at}
    request.policy, request.policy_version = policy.as_snapshot(), policy.version
    if policy.expiry_days:
        due = request.requested_at + dt.timedelta(days=policy.expiry_days)
        request.expires_at = min(request.expires_at or due, due)
    request.save(update_fields=["policy", "policy_version", "expires_at"])
    audit.record(
        actor=actor,
        action=f"governance.approval.{request.kind}.tightened",
        target=request,
        before={"policy": before["policy"]},
        after={"policy": request.policy},
    )
    notifications.request_opened(request)
