"""The production gate: nothing reaches production except through an approved request.

`registry.services.deployment_create` calls `production_gate` (named by the setting
STEWARD_PRODUCTION_GATE, so the registry does not import governance) before it writes a
production deployment. The gate raises unless an approved, unused production request for the
version and endpoint exists, and returns a callback that binds the new deployment to it.
"""

from __future__ import annotations

from collections.abc import Callable

from governance.approvals.choices import RequestKind, RequestState
from governance.approvals.digests import current_digest
from governance.approvals.models import ApprovalRequest
from governance.approvals.selectors import version_approval_is_valid
from registry.actors import Actor
from registry.errors import InvalidTransition
from registry.models import Deployment, ModelVersion


def production_gate(
    *, version: ModelVersion, endpoint: str, actor: Actor, is_rollback: bool
) -> Callable[[Deployment], None]:
    if not version_approval_is_valid(version):
        raise InvalidTransition(
            f"{version}'s approval does not hold: it was never approved through a request, or "
            "its release manifest changed since"
        )
    if (
        is_rollback
        and ApprovalRequest.objects.filter(
            version=version,
            kind=RequestKind.PRODUCTION,
            state=RequestState.APPROVED,
            deployment__isnull=False,
        ).exists()
    ):
        # Rolling back to a version that went to production through an approved request.
        return lambda deployment: None
    request = (
        ApprovalRequest.objects.select_for_update()
        .filter(
            version=version,
            kind=RequestKind.PRODUCTION,
            state=RequestState.APPROVED,
            endpoint=endpoint,
            deployment__isnull=True,
        )
        .order_by("closed_at")
        .first()
    )
    if request is None:
        raise InvalidTransition(
            "production is protected: deployments to it need an approved production request "
            "(POST /api/v1/approvals/ with kind=production)"
        )
    if request.manifest_digest != current_digest(version, request.digest_scheme):
        raise InvalidTransition(
            "the release manifest changed since the production request was approved"
        )

    def bind(deployment: Deployment) -> None:
        request.deployment = deployment
        request.save(update_fields=["deployment"])

    return bind
