"""Recording a lineage edge by hand (the API's `POST /lineage/edges/` and the version page's
lineage form): who may, and what it changes.

Not part of the leaf: it reads the registry to check what the actor may see and change. The
registry's own services record their edges with `governance.lineage.link` directly.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from governance.lineage.models import LineageEdge, NodeKind, Relation
from governance.lineage.recording import Node, link
from governance.lineage.selectors import visible_nodes
from registry import hooks
from registry.actors import Actor
from registry.choices import Action
from registry.errors import FrozenError
from registry.models import ModelVersion

# Edges into a version that its release manifest lists (approvals/manifest.py): the datasets
# it was trained and validated on.
MANIFEST_RELATIONS = frozenset({Relation.TRAINED_ON, Relation.VALIDATED_WITH})


@transaction.atomic
def link_by_hand(*, actor: Actor, upstream: Node, downstream: Node, relation: str) -> LineageEdge:
    """Record that `downstream` came from `upstream`. Both must be visible to the actor (else
    a ValidationError naming the end, as if it did not exist) and changeable by them (else
    PermissionDenied). A dataset edge into an approved version is refused (its manifest is
    frozen); into any other version it is a manifest change, told to governance."""
    seen = visible_nodes(actor, [upstream, downstream])
    for field, node in (("upstream_id", upstream), ("downstream_id", downstream)):
        if node not in seen:
            raise ValidationError({field: f"no {node.kind} {node.id} visible to you"})
    allowed = visible_nodes(actor, [upstream, downstream], Action.CHANGE)
    for node in (upstream, downstream):
        if node not in allowed:
            raise PermissionDenied(f"you may not change {node}")
    if upstream == downstream:
        raise ValidationError({"downstream_id": "a node cannot be its own lineage"})
    version = None
    if downstream.kind == NodeKind.VERSION and relation in MANIFEST_RELATIONS:
        version = ModelVersion.objects.select_for_update().get(pk=downstream.id)
        if version.is_frozen:
            raise FrozenError(
                f"{version} is {version.get_stage_display().lower()}: the datasets it was "
                "trained and validated on are part of its frozen release manifest"
            )
    edge = link(upstream=upstream, downstream=downstream, relation=relation, actor=actor)
    if version is not None:
        hooks.fire(hooks.MANIFEST_CHANGED, version=version, actor=actor)
    return edge
