"""Lineage's write side: any app's services call `link` to record where a thing came from.

Like `governance.audit`, this package imports no other Steward app; nodes are (kind, id)
pairs. Reading the graph with labels and permissions is `governance.lineage.selectors`' job
(it reads the registry, so it is not part of the leaf).
"""

from governance.lineage.recording import Node, link, node_of

__all__ = ["Node", "link", "node_of"]
