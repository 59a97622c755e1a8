"""The append-only, hash-chained audit log."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from governance.audit.chain import GENESIS_HASH
from governance.audit.checkpoints import Checkpoint

# The single AuditChainHead row.
HEAD_ID = 1


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove an audit entry."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit entries cannot be updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit entries cannot be deleted")

    def _raw_delete(self, using: Any) -> int:
        raise AppendOnlyError("audit entries cannot be deleted")


class AppendOnlyModel(models.Model):
    """Rows are inserted once, then never saved again nor deleted (a trigger on PostgreSQL
    refuses it below the ORM too; see governance/migrations/0004)."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit entries cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit entries cannot be deleted")


class AuditEvent(AppendOnlyModel):
    """One change, as it happened. Never edited; `hash` chains it to the entry before."""

    seq = models.PositiveBigIntegerField(unique=True)
    created_at = models.DateTimeField(db_index=True)
    # No database constraint and no cascade: deleting a user must not touch the log.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=100, db_index=True)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    remote_addr = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        app_label = "governance"
        ordering = ["seq"]
        indexes = [models.Index(fields=["target_type", "target_id", "seq"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.target_repr}"

    def as_chain_entry(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "created_at": self.created_at.isoformat(),
            "actor_id": self.actor_id,
            "actor_name": self.actor_name,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "target_repr": self.target_repr,
            "before": self.before,
            "after": self.after,
            "request_id": self.request_id,
            "remote_addr": self.remote_addr,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


class AuditChainHead(models.Model):
    """A single row whose lock serialises appends, so the chain never forks."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        app_label = "governance"

    def __str__(self) -> str:
        return f"audit head #{self.seq}"


class AuditCheckpoint(AppendOnlyModel):
    """A signed statement that entry `seq` of the chain had hash `head_hash`.

    Written under the head's lock every STEWARD_AUDIT_CHECKPOINT_EVERY entries and on demand,
    and copied to a JSON file after commit (see governance/audit/checkpointing.py).
    """

    seq = models.PositiveBigIntegerField(unique=True)
    head_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=88)

    class Meta:
        app_label = "governance"
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"audit checkpoint #{self.seq}"

    def as_checkpoint(self) -> Checkpoint:
        return Checkpoint(
            seq=self.seq,
            head_hash=self.head_hash,
            created_at=self.created_at.isoformat(),
            key_id=self.key_id,
            signature=self.signature,
        )
