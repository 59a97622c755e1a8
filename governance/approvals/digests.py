"""The manifest of a version as it stands, read from the database (the pure part is
`manifest.py`), and the digest a request of a given scheme is compared with."""

from __future__ import annotations

from typing import Any

from governance.approvals import manifest as mf
from governance.lineage.models import LineageEdge, NodeKind, Relation
from governance.modelcards.models import ModelCardRevision
from registry.choices import ArtifactKind
from registry.models import Dataset, ModelVersion


def version_manifest(version: ModelVersion) -> dict[str, Any]:
    """Everything that ships with `version`: artifacts, training and validation datasets,
    input schema, code reference, and the digest of its latest model card revision."""
    artifacts = [
        {
            "kind": a.kind,
            "name": a.name,
            "sha256": a.sha256,
            "digest_source": a.digest_source,
            "uri": a.uri,
        }
        for a in version.artifacts.order_by("pk")
    ]
    edges = LineageEdge.objects.filter(
        downstream_kind=NodeKind.VERSION,
        downstream_id=version.pk,
        upstream_kind=NodeKind.DATASET,
        relation__in=[Relation.TRAINED_ON, Relation.VALIDATED_WITH],
    ).values_list("upstream_id", "relation")
    found = Dataset.objects.in_bulk([pk for pk, _ in edges])
    datasets = [
        {"relation": rel, "name": d.name, "number": d.number, "sha256": d.sha256}
        for pk, rel in edges
        if (d := found.get(pk)) is not None
    ]
    model = version.model
    card = (
        ModelCardRevision.objects.filter(version=version)
        .order_by("-number")
        .values("number", "digest")
        .first()
    )
    return mf.build(
        model=model.slug,
        version=version.number,
        artifacts=artifacts,
        datasets=datasets,
        input_schema=version.input_schema,
        code_repository=version.code_repository,
        code_commit=version.code_commit,
        model_card={"revision": card["number"], "sha256": card["digest"]} if card else None,
    )


def manifest_digest(version: ModelVersion) -> str:
    return mf.digest(version_manifest(version))


def legacy_model_digest(version: ModelVersion) -> str:
    """The digest requests opened before manifests were bound: model artifacts only."""
    return mf.legacy_digest(
        version.artifacts.filter(kind=ArtifactKind.MODEL).values_list("name", "sha256")
    )


def current_digest(version: ModelVersion, scheme: str) -> str:
    """What a request (or decision) of `scheme` is compared with now."""
    if scheme == mf.LEGACY_SCHEME:
        return legacy_model_digest(version)
    return manifest_digest(version)
