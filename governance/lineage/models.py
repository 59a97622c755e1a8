"""Typed edges between the things a model is made of and what is made from it."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class NodeKind(models.TextChoices):
    DATASET = "dataset", "Dataset"
    VERSION = "version", "Model version"
    ARTIFACT = "artifact", "Artifact"
    DEPLOYMENT = "deployment", "Deployment"
    REPORT = "report", "Report"


class Relation(models.TextChoices):
    # Read each as "downstream <relation> upstream".
    TRAINED_ON = "trained_on", "trained on"
    VALIDATED_WITH = "validated_with", "validated with"
    DERIVED_FROM = "derived_from", "derived from"
    PRODUCED_BY = "produced_by", "produced by"
    DEPLOYED_FROM = "deployed_from", "deployed from"
    ROLLED_BACK_FROM = "rolled_back_from", "rolled back from"
    REPORTS_ON = "reports_on", "reports on"


class LineageEdge(models.Model):
    """`downstream` was made from `upstream` in the way `relation` names."""

    upstream_kind = models.CharField(max_length=20, choices=NodeKind.choices)
    upstream_id = models.BigIntegerField()
    downstream_kind = models.CharField(max_length=20, choices=NodeKind.choices)
    downstream_id = models.BigIntegerField()
    relation = models.CharField(max_length=30, choices=Relation.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        app_label = "governance"
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "upstream_kind",
                    "upstream_id",
                    "downstream_kind",
                    "downstream_id",
                    "relation",
                ],
                name="lineage_edge_unique",
            ),
            models.CheckConstraint(
                condition=~(
                    models.Q(upstream_kind=models.F("downstream_kind"))
                    & models.Q(upstream_id=models.F("downstream_id"))
                ),
                name="lineage_edge_not_self",
            ),
        ]
        indexes = [
            models.Index(fields=["upstream_kind", "upstream_id"]),
            models.Index(fields=["downstream_kind", "downstream_id"]),
        ]

    def __str__(self) -> str:
        return (
            f"{self.downstream_kind}:{self.downstream_id} {self.relation} "
            f"{self.upstream_kind}:{self.upstream_id}"
        )
