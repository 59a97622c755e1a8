"""The audit log's write side: every app's services call `record` inside their transaction.

This package imports no other Steward app (see docs/architecture.md).
"""

from governance.audit.recording import record, snapshot

__all__ = ["record", "snapshot"]
