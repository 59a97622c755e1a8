from governance.audit.models import AuditChainHead, AuditCheckpoint, AuditEvent
from governance.lineage.models import LineageEdge, NodeKind, Relation

__all__ = ["AuditChainHead", "AuditCheckpoint", "AuditEvent", "LineageEdge", "NodeKind", "Relation"]
