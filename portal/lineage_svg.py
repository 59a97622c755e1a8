"""Layered layout of a lineage graph for a server-side SVG. Pure: dicts in, geometry out.

Upstream nodes sit in columns to the left of the root, downstream nodes to the right; the
column is the number of steps from the root along edges walked in one direction. Nodes the
walk cannot reach through the edges given (their path ran through a node the user may not
see) are returned apart, to be listed rather than drawn.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

BOX_WIDTH = 210
BOX_HEIGHT = 46
COLUMN_GAP = 110
ROW_GAP = 22
MARGIN = 16
LABEL_CHARS = 24


@dataclass(frozen=True)
class Box:
    key: str
    kind: str
    label: str
    short_label: str
    url: str
    x: int
    y: int
    layer: int
    is_root: bool
    width: int = BOX_WIDTH
    height: int = BOX_HEIGHT

    @property
    def text_x(self) -> int:
        return self.x + 10

    @property
    def kind_y(self) -> int:
        return self.y + 17

    @property
    def label_y(self) -> int:
        return self.y + 35


@dataclass(frozen=True)
class Line:
    upstream: str
    downstream: str
    relation: str
    x1: int
    y1: int
    x2: int
    y2: int

    @property
    def relation_label(self) -> str:
        return self.relation.replace("_", " ")

    @property
    def label_x(self) -> int:
        return (self.x1 + self.x2) // 2

    @property
    def label_y(self) -> int:
        return (self.y1 + self.y2) // 2 - 5


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    boxes: list[Box] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    unplaced: list[Mapping[str, Any]] = field(default_factory=list)


def shorten(text: str, limit: int = LABEL_CHARS) -> str:
    """`text` cut to `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def assign_layers(root: str, edges: Iterable[Mapping[str, str]]) -> dict[str, int]:
    """Signed distance from `root`: negative upstream, positive downstream (breadth-first)."""
    parents: dict[str, list[str]] = {}
    children: dict[str, list[str]] = {}
    for edge in edges:
        parents.setdefault(edge["downstream"], []).append(edge["upstream"])
        children.setdefault(edge["upstream"], []).append(edge["downstream"])
    layers = {root: 0}
    for neighbours, step in ((parents, -1), (children, 1)):
        queue = deque([root])
        while queue:
            node = queue.popleft()
            for other in neighbours.get(node, []):
                if other not in layers:
                    layers[other] = layers[node] + step
                    queue.append(other)
    return layers


def layout(graph: Mapping[str, Any]) -> Layout:
    """Place the nodes of a `lineage_graph` result in columns and route its edges."""
    root = graph["root"]
    nodes = {node["key"]: node for node in graph["nodes"]}
    edges = [e for e in graph["edges"] if e["upstream"] in nodes and e["downstream"] in nodes]
    layers = {k: v for k, v in assign_layers(root, edges).items() if k in nodes}
    if root not in nodes:
        return Layout(width=0, height=0, unplaced=list(nodes.values()))
    columns: dict[int, list[str]] = {}
    for key, layer in layers.items():
        columns.setdefault(layer, []).append(key)
    for keys in columns.values():
        keys.sort(key=lambda k: (nodes[k]["kind"], nodes[k]["label"], k))
    first = min(columns)
    tallest = max(len(keys) for keys in columns.values())
    height = 2 * MARGIN + tallest * BOX_HEIGHT + (tallest - 1) * ROW_GAP
    width = 2 * MARGIN + len(columns) * BOX_WIDTH + (len(columns) - 1) * COLUMN_GAP
    boxes: dict[str, Box] = {}
    for layer, keys in columns.items():
        x = MARGIN + (layer - first) * (BOX_WIDTH + COLUMN_GAP)
        column_height = len(keys) * BOX_HEIGHT + (len(keys) - 1) * ROW_GAP
        top = (height - column_height) // 2
        for row, key in enumerate(keys):
            node = nodes[key]
            boxes[key] = Box(
                key=key,
                kind=node["kind"],
                label=node["label"],
                short_label=shorten(node["label"]),
                url=node.get("url", ""),
                x=x,
                y=top + row * (BOX_HEIGHT + ROW_GAP),
                layer=layer,
                is_root=key == root,
            )
    drawn = [_line(edge, boxes) for edge in edges if edge["upstream"] in boxes]
    lines = [line for line in drawn if line is not None]
    unplaced = [node for key, node in nodes.items() if key not in boxes]
    return Layout(
        width=width, height=height, boxes=list(boxes.values()), lines=lines, unplaced=unplaced
    )


def _line(edge: Mapping[str, str], boxes: Mapping[str, Box]) -> Line | None:
    up, down = boxes.get(edge["upstream"]), boxes.get(edge["downstream"])
    if up is None or down is None:
        return None
    # Left to right when the downstream node sits further right; otherwise side to side.
    if down.x > up.x:
        x1, x2 = up.x + up.width, down.x
    elif down.x < up.x:
        x1, x2 = up.x, down.x + down.width
    else:
        x1, x2 = up.x + up.width, down.x + down.width
    return Line(
        upstream=edge["upstream"],
        downstream=edge["downstream"],
        relation=edge["relation"],
        x1=x1,
        y1=up.y + up.height // 2,
        x2=x2,
        y2=down.y + down.height // 2,
    )


def edge_rows(graph: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The graph's edges as sentences for a plain list: upstream, relation, downstream, each
    node with its label and link."""
    nodes = {node["key"]: node for node in graph["nodes"]}
    rows = []
    for edge in graph["edges"]:
        up, down = nodes.get(edge["upstream"]), nodes.get(edge["downstream"])
        if up is None or down is None:
            continue
        rows.append(
            {"upstream": up, "relation": edge["relation"].replace("_", " "), "downstream": down}
        )
    return rows
