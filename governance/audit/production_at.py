"""What served production at a moment, and who approved it: the audit log's answer to
"what was live on 3 March?" for the page, the API and the reports."""

from __future__ import annotations

from typing import Any

from governance.audit.models import AuditEvent
from registry.choices import Action
from registry.models import Deployment, RegisteredModel

_ENDED = ("registry.deployment.deactivated", "registry.deployment.retired")


def production_at(
    *, user: Any, when: Any, model: RegisteredModel | None = None
) -> list[dict[str, Any]]:
    """Which versions served production at `when`, and who approved them.

    A deployment served from its `deployed_at` until the audit entry that deactivated or
    retired it; the approvals are the closed requests of its version (and the production
    request that deployed it), with their decisions. Restricted to what `user` may view.
    """
    from governance.approvals.choices import RequestState
    from governance.approvals.models import ApprovalRequest

    served = Deployment.objects.restrict(user, Action.VIEW).filter(
        environment="production", deployed_at__lte=when
    )
    if model is not None:
        served = served.filter(version__model=model)
    deployments = list(served.select_related("version__model", "deployed_by"))
    ended = set(
        AuditEvent.objects.filter(
            action__in=_ENDED,
            created_at__lte=when,
            target_type="registry.deployment",
            target_id__in=[str(d.pk) for d in deployments],
        ).values_list("target_id", flat=True)
    )
    serving = [d for d in deployments if str(d.pk) not in ended]
    requests = (
        ApprovalRequest.objects.filter(
            version__in=[d.version_id for d in serving],
            state=RequestState.APPROVED,
            closed_at__lte=when,
        )
        .prefetch_related("decisions__reviewer")
        .order_by("closed_at")
    )
    by_version: dict[int, list[Any]] = {}
    for request in requests:
        by_version.setdefault(request.version_id, []).append(request)
    return [
        {"deployment": d, "version": d.version, "approvals": by_version.get(d.version_id, [])}
        for d in sorted(serving, key=lambda d: (d.version.model.name, d.deployed_at))
    ]


def as_json(row: dict[str, Any]) -> dict[str, Any]:
    """One `production_at` row for the API."""
    deployment, version = row["deployment"], row["version"]
    return {
        "deployment": deployment.pk,
        "endpoint": deployment.endpoint,
        "traffic_share": str(deployment.traffic_share),
        "model": version.model.slug,
        "version": version.number,
        "deployed_at": deployment.deployed_at,
        "deployed_by": deployment.deployed_by.username,
        "approvals": [
            {
                "request": r.pk,
                "kind": r.kind,
                "closed_at": r.closed_at,
                "manifest_digest": r.manifest_digest,
                "approvers": [
                    d.reviewer.username for d in r.decisions.all() if d.verdict == "approve"
                ],
            }
            for r in row["approvals"]
        ],
    }
