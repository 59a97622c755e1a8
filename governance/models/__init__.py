from governance.audit.models import AuditChainHead, AuditEvent
from governance.lineage.models import LineageEdge, NodeKind, Relation

__all__ = ["AuditChainHead", "AuditEvent", "LineageEdge", "NodeKind", "Relation"]
