"""Reads for governance: the lineage graph, restricted to what the user may see."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Q
from django.urls import reverse

from governance.lineage import Node
from governance.lineage.models import LineageEdge, NodeKind
from governance.reports.models import ReportExport
from registry.choices import Action
from registry.models import Artifact, Dataset, Deployment, ModelVersion
from registry.querysets import RestrictedQuerySet

MAX_DEPTH = 10
UPSTREAM, DOWNSTREAM, BOTH = "upstream", "downstream", "both"

_QUERYSETS: dict[str, Callable[[], RestrictedQuerySet[Any]]] = {
    NodeKind.DATASET: lambda: Dataset.objects.select_related("model"),
    NodeKind.VERSION: lambda: ModelVersion.objects.select_related("model"),
    NodeKind.ARTIFACT: lambda: Artifact.objects.select_related("version__model"),
    NodeKind.DEPLOYMENT: lambda: Deployment.objects.select_related("version__model"),
    NodeKind.REPORT: lambda: ReportExport.objects.select_related("version__model", "deployment"),
}


def _url(kind: str, obj: Any) -> str:
    if kind == NodeKind.VERSION:
        return reverse("registry:version-detail", args=[obj.model.slug, obj.number])
    if kind == NodeKind.DEPLOYMENT:
        return reverse("registry:deployment-detail", args=[obj.pk])
    if kind == NodeKind.ARTIFACT:
        return reverse("registry:version-detail", args=[obj.version.model.slug, obj.version.number])
    if kind == NodeKind.DATASET:
        return reverse("registry:dataset-detail", args=[obj.pk])
    if kind == NodeKind.REPORT:
        return reverse("api:report-export-download", args=[obj.pk])
    return ""


def visible_nodes(
    user: Any, nodes: Iterable[Node], action: str = Action.VIEW
) -> dict[Node, dict[str, Any]]:
    """Label and link for each node the user may `action`: one query per node kind."""
    by_kind: dict[str, set[int]] = defaultdict(set)
    for node in nodes:
        by_kind[node.kind].add(node.id)
    found: dict[Node, dict[str, Any]] = {}
    for kind, ids in by_kind.items():
        if kind not in _QUERYSETS:
            continue
        for obj in _QUERYSETS[kind]().restrict(user, action).filter(pk__in=ids):
            node = Node(kind, obj.pk)
            found[node] = {"kind": kind, "id": obj.pk, "label": str(obj), "url": _url(kind, obj)}
    return found


def _walk(start: Node, *, upstream: bool, depth: int) -> tuple[set[Node], set[LineageEdge]]:
    """Breadth-first over edges, one query per level; a visited set makes cycles harmless."""
    seen, edges, frontier = {start}, set(), {start}
    for _ in range(depth):
        if not frontier:
            break
        q = Q()
        for node in frontier:
            if upstream:
                q |= Q(downstream_kind=node.kind, downstream_id=node.id)
            else:
                q |= Q(upstream_kind=node.kind, upstream_id=node.id)
        next_frontier: set[Node] = set()
        for edge in LineageEdge.objects.filter(q):
            edges.add(edge)
            other = (
                Node(edge.upstream_kind, edge.upstream_id)
                if upstream
                else Node(edge.downstream_kind, edge.downstream_id)
            )
            if other not in seen:
                seen.add(other)
                next_frontier.add(other)
        frontier = next_frontier
    return seen, edges


def lineage_graph(
    *, user: Any, start: Node, direction: str = BOTH, depth: int = 3
) -> dict[str, Any]:
    """Nodes and edges around `start` within `depth` steps, in `direction`.

    Only nodes the user may view are returned, with the edges between them. The caller has
    checked that `start` itself is visible.
    """
    depth = max(1, min(depth, MAX_DEPTH))
    nodes, edges = {start}, set()
    if direction in (UPSTREAM, BOTH):
        up_nodes, up_edges = _walk(start, upstream=True, depth=depth)
        nodes |= up_nodes
        edges |= up_edges
    if direction in (DOWNSTREAM, BOTH):
        down_nodes, down_edges = _walk(start, upstream=False, depth=depth)
        nodes |= down_nodes
        edges |= down_edges
    shown = visible_nodes(user, nodes)
    edge_rows = [
        {
            "upstream": str(Node(e.upstream_kind, e.upstream_id)),
            "downstream": str(Node(e.downstream_kind, e.downstream_id)),
            "relation": e.relation,
        }
        for e in sorted(edges, key=lambda e: e.pk)
        if Node(e.upstream_kind, e.upstream_id) in shown
        and Node(e.downstream_kind, e.downstream_id) in shown
    ]
    return {
        "root": str(start),
        "direction": direction,
        "depth": depth,
        "nodes": [{"key": str(n)} | shown[n] for n in sorted(shown)],
        "edges": edge_rows,
        "hidden_nodes": len(nodes) - len(shown),
    }
