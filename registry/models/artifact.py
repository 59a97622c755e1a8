"""Artifacts: the files (or external URIs) a version is made of."""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models

from registry.choices import ArtifactKind, DigestSource
from registry.querysets import RestrictedQuerySet

# Schemes whose references name content by digest: the registry and the client that pulls
# `oci://host/repo@sha256:<hex>` check the bytes against it, so that reference cannot change.
CONTENT_ADDRESSED_SCHEMES = ("oci", "docker")
PINNED_DIGEST_RE = re.compile(r"@sha256:([0-9a-f]{64})$")


def pinned_digest(uri: str) -> str:
    """The sha256 a content-addressed URI pins (`oci://…@sha256:<hex>`), else ""."""
    scheme = uri.split("://", 1)[0] if "://" in uri else ""
    match = PINNED_DIGEST_RE.search(uri)
    return match.group(1) if scheme in CONTENT_ADDRESSED_SCHEMES and match else ""


def artifact_upload_to(instance: Artifact, filename: str) -> str:
    version = instance.version
    return f"artifacts/{version.model.slug}/v{version.number}/{filename}"


class Artifact(models.Model):
    """A stored file with its server-computed sha256 and size, or an external URI.
    Frozen once its version is approved."""

    version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.CASCADE, related_name="artifacts"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=ArtifactKind.choices)
    file = models.FileField(upload_to=artifact_upload_to, max_length=400, blank=True)
    uri = models.CharField(max_length=500, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=120, blank=True)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    permission_path = "version__model"
    # Set by registry.selectors.version_artifacts: the URI when a browser can open it, else "".
    web_url: str

    class Meta:
        ordering = ["version_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["version", "name"], name="artifact_name_per_version"),
            models.CheckConstraint(
                condition=(models.Q(file="") & ~models.Q(uri=""))
                | (~models.Q(file="") & models.Q(uri="")),
                name="artifact_file_xor_uri",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} · {self.name}"

    @property
    def is_external(self) -> bool:
        return not self.file

    @property
    def digest_source(self) -> str:
        """Computed (an uploaded file, hashed by Steward), pinned (a content-addressed URI
        whose digest is the recorded one), declared (a client's word) or none."""
        if not self.sha256:
            return DigestSource.NONE
        if self.file:
            return DigestSource.COMPUTED
        if pinned_digest(self.uri) == self.sha256:
            return DigestSource.PINNED
        return DigestSource.DECLARED
