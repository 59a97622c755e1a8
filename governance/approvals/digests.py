"""The digest an approval is bound to: the version's model artifact(s)."""

from __future__ import annotations

import hashlib

from registry.choices import ArtifactKind
from registry.models import ModelVersion


def model_digest(version: ModelVersion) -> str:
    """sha256 of the model artifact; with several, a digest over their sorted names and
    digests; empty when the version has no model artifact with a known digest."""
    rows = sorted(
        version.artifacts.filter(kind=ArtifactKind.MODEL)
        .exclude(sha256="")
        .values_list("name", "sha256")
    )
    if not rows:
        return ""
    if len(rows) == 1:
        return rows[0][1]
    manifest = "".join(f"{name}:{sha}\n" for name, sha in rows)
    return hashlib.sha256(manifest.encode()).hexdigest()
