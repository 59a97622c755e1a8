"""Serializers of the audit log API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from governance.audit.models import AuditEvent


class AuditEventSerializer(serializers.Serializer):
    """An entry exactly as the chain hashes it: pages of this endpoint, joined in `seq` order,
    verify offline with governance/audit/chain.py."""

    seq = serializers.IntegerField()
    created_at = serializers.CharField(help_text="ISO 8601, exactly as hashed")
    actor_id = serializers.IntegerField(allow_null=True)
    actor_name = serializers.CharField()
    action = serializers.CharField()
    target_type = serializers.CharField()
    target_id = serializers.CharField()
    target_repr = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    request_id = serializers.CharField()
    remote_addr = serializers.CharField()
    prev_hash = serializers.CharField()
    hash = serializers.CharField()

    def to_representation(self, instance: AuditEvent) -> dict[str, Any]:
        return instance.as_chain_entry()


class CheckpointSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    head_hash = serializers.CharField()
    created_at = serializers.CharField()
    key_id = serializers.CharField()
    signature = serializers.CharField(help_text="Ed25519, base64")


class AuditReportSerializer(serializers.Serializer):
    """The verdict on the whole log (governance.audit.verification.AuditReport)."""

    ok = serializers.BooleanField(source="verdict.ok")
    count = serializers.IntegerField(source="verdict.count")
    head_hash = serializers.CharField(source="verdict.head_hash")
    bad_seq = serializers.IntegerField(
        source="verdict.bad_seq",
        allow_null=True,
        help_text="the first entry that cannot be trusted",
    )
    reason = serializers.CharField(source="verdict.reason")
    window = serializers.ListField(
        child=serializers.IntegerField(),
        source="verdict.window",
        allow_null=True,
        help_text="first and last entry of a rewrite that a signed checkpoint caught",
    )
    signed_through = serializers.IntegerField(
        source="verdict.signed_through", help_text="last entry a verified checkpoint covers"
    )
    checkpoints = serializers.IntegerField(help_text="signed checkpoints found")
    checkpoint = CheckpointSerializer(source="latest", allow_null=True)
    notes = serializers.ListField(child=serializers.CharField())
