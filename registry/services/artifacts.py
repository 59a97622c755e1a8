"""Writes on artifacts: uploads with server-side digests, external URIs, freezing."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from governance import audit, lineage
from governance.lineage.models import Relation
from registry import hooks
from registry.actors import Actor
from registry.choices import Action
from registry.errors import FrozenError
from registry.models import Artifact, ModelVersion
from registry.models.artifact import pinned_digest
from registry.services.common import require_object
from registry.services.files import check_upload_size, digest_upload, removed_on_failure

URI_SCHEMES = ("s3", "gs", "az", "abfss", "hdfs", "http", "https", "oci", "docker", "git")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def _ensure_not_frozen(version: ModelVersion) -> None:
    if version.is_frozen:
        raise FrozenError(
            f"{version} is approved: its artifacts are frozen as they were reviewed. "
            "Register a new version to change them."
        )


def _locked_version(version: ModelVersion, actor: Actor) -> ModelVersion:
    require_object(actor, Action.CHANGE, version)
    version = ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
    _ensure_not_frozen(version)
    return version


def _check_name_free(version: ModelVersion, name: str) -> None:
    if not name:
        raise ValidationError({"name": "an artifact needs a name"})
    if version.artifacts.filter(name=name).exists():
        raise ValidationError({"name": f"{version} already has an artifact named {name!r}"})


def _after_create(artifact: Artifact, actor: Actor) -> Artifact:
    audit.record(
        actor=actor,
        action="registry.artifact.added",
        target=artifact,
        after=audit.snapshot(artifact) | {"sha256": artifact.sha256, "size": artifact.size},
    )
    lineage.link(
        upstream=artifact.version, downstream=artifact, relation=Relation.PRODUCED_BY, actor=actor
    )
    hooks.fire(hooks.MANIFEST_CHANGED, version=artifact.version, actor=actor)
    return artifact


@transaction.atomic
def artifact_upload(
    *,
    version: ModelVersion,
    actor: Actor,
    upload: UploadedFile[Any],
    kind: str,
    name: str = "",
    description: str = "",
) -> Artifact:
    """Store an uploaded file; its sha256 and size are computed here, never taken from the
    client. If anything fails the file is removed and no row remains."""
    version = _locked_version(version, actor)
    check_upload_size(upload)
    name = (name or upload.name or "").strip()
    _check_name_free(version, name)
    sha256, size = digest_upload(upload)
    artifact = Artifact(
        version=version,
        name=name,
        kind=kind,
        sha256=sha256,
        size=size,
        content_type=(getattr(upload, "content_type", "") or "")[:120],
        description=description,
        created_by=actor,
    )
    with removed_on_failure(lambda: artifact.file):
        artifact.file.save(upload.name or name, upload, save=False)
        artifact.full_clean()
        artifact.save()
        return _after_create(artifact, actor)


@transaction.atomic
def artifact_link(
    *,
    version: ModelVersion,
    actor: Actor,
    uri: str,
    kind: str,
    name: str = "",
    sha256: str = "",
    size: int | None = None,
    description: str = "",
) -> Artifact:
    """Record an artifact that lives elsewhere (object store, registry, repository).

    Steward cannot read the bytes behind a URI, so a sha256 sent with it stays the client's
    word ("declared"), which an approval does not accept. A content-addressed reference
    (`oci://host/repo@sha256:<hex>`) is different: whoever pulls it gets those bytes or an
    error, so its digest is taken from the URI ("pinned")."""
    version = _locked_version(version, actor)
    parsed = urlparse(uri)
    if parsed.scheme not in URI_SCHEMES or not (parsed.netloc or parsed.path):
        raise ValidationError(
            {"uri": f"must be a URI with one of the schemes {', '.join(URI_SCHEMES)}"}
        )
    if sha256 and not SHA256_RE.match(sha256):
        raise ValidationError({"sha256": "must be 64 lower-case hexadecimal characters"})
    pinned = pinned_digest(uri)
    if pinned and sha256 and sha256 != pinned:
        raise ValidationError({"sha256": "differs from the digest the uri pins (@sha256:…)"})
    sha256 = sha256 or pinned
    name = (name or parsed.path.rsplit("/", 1)[-1] or parsed.netloc).strip()
    _check_name_free(version, name)
    artifact = Artifact(
        version=version,
        name=name,
        kind=kind,
        uri=uri,
        sha256=sha256,
        size=size,
        description=description,
        created_by=actor,
    )
    artifact.full_clean()
    artifact.save()
    return _after_create(artifact, actor)


@transaction.atomic
def artifact_update(*, artifact: Artifact, actor: Actor, **changes: Any) -> Artifact:
    """Change an artifact's name, kind or description; refused once the version is approved."""
    _locked_version(artifact.version, actor)
    artifact = Artifact.objects.select_for_update().get(pk=artifact.pk)
    allowed = {"name", "kind", "description"}
    if set(changes) - allowed:
        raise ValidationError({k: "cannot be changed" for k in set(changes) - allowed})
    before = audit.snapshot(artifact, fields=changes)
    for key, value in changes.items():
        setattr(artifact, key, value)
    artifact.full_clean()
    artifact.save()
    audit.record(
        actor=actor,
        action="registry.artifact.updated",
        target=artifact,
        before=before,
        after=audit.snapshot(artifact, fields=changes),
    )
    hooks.fire(hooks.MANIFEST_CHANGED, version=artifact.version, actor=actor)
    return artifact


@transaction.atomic
def artifact_delete(*, artifact: Artifact, actor: Actor) -> None:
    """Remove an artifact and its file; refused once the version is approved."""
    version = _locked_version(artifact.version, actor)
    before = audit.snapshot(artifact) | {"sha256": artifact.sha256}
    stored_name = artifact.file.name if artifact.file else ""
    storage = artifact.file.storage
    audit.record(actor=actor, action="registry.artifact.deleted", target=artifact, before=before)
    artifact.delete()
    hooks.fire(hooks.MANIFEST_CHANGED, version=version, actor=actor)
    if stored_name:
        transaction.on_commit(lambda: storage.delete(stored_name))
