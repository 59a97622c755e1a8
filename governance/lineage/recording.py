"""Record lineage edges."""

from __future__ import annotations

from typing import NamedTuple

from django.contrib.auth.models import User
from django.db import models, transaction

from governance import audit
from governance.audit.recording import AuditActor
from governance.lineage.models import LineageEdge, NodeKind, Relation

# Model label -> node kind, so callers can pass instances instead of spelling kinds out.
_KIND_BY_LABEL = {
    "registry.dataset": NodeKind.DATASET,
    "registry.modelversion": NodeKind.VERSION,
    "registry.artifact": NodeKind.ARTIFACT,
    "registry.deployment": NodeKind.DEPLOYMENT,
}


class Node(NamedTuple):
    kind: str
    id: int

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


def node_of(instance: models.Model) -> Node:
    label = instance._meta.label_lower
    try:
        return Node(_KIND_BY_LABEL[label], int(instance.pk))
    except KeyError:
        raise ValueError(f"{label} is not a lineage node") from None


@transaction.atomic
def link(
    *,
    upstream: Node | models.Model,
    downstream: Node | models.Model,
    relation: Relation | str,
    actor: AuditActor,
) -> LineageEdge:
    """Record that `downstream` came from `upstream`; recording the same edge twice is a no-op."""
    up = upstream if isinstance(upstream, Node) else node_of(upstream)
    down = downstream if isinstance(downstream, Node) else node_of(downstream)
    if up == down:
        raise ValueError("a node cannot be its own lineage")
    edge, created = LineageEdge.objects.get_or_create(
        upstream_kind=up.kind,
        upstream_id=up.id,
        downstream_kind=down.kind,
        downstream_id=down.id,
        relation=Relation(relation),
        defaults={"created_by": actor if isinstance(actor, User) else None},
    )
    if created:
        audit.record(
            actor=actor,
            action="governance.lineage.linked",
            target=edge,
            after={"upstream": str(up), "downstream": str(down), "relation": edge.relation},
        )
    return edge
