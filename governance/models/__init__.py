from governance.audit.models import AuditChainHead, AuditCheckpoint, AuditEvent
from governance.lineage.models import LineageEdge, NodeKind, Relation
from governance.modelcards.models import ModelCardRevision

__all__ = [
    "AuditChainHead",
    "AuditCheckpoint",
    "AuditEvent",
    "LineageEdge",
    "ModelCardRevision",
    "NodeKind",
    "Relation",
]
