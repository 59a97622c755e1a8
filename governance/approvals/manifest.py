"""The release manifest an approval binds, in canonical form, and its hash. No Django.

A decision binds a manifest, not a choice of fields: everything that ships with a version
(each artifact with its kind, name, sha256 and where that digest comes from; the datasets it
was trained and validated on; its input schema; its code reference) goes into one list,
encoded canonically (sorted keys and rows, compact separators, UTF-8) and hashed with
SHA-256. Any change to any entry gives another hash, which voids what was decided on the old
one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

SCHEME = "manifest-v1"
# Requests opened before approvals bound the whole manifest: their digest covers the model
# artifacts only (kept so that what those reviewers decided still reads as it was).
LEGACY_SCHEME = "model-artifacts"
# Where a sha256 may come from for the artifact to be approvable.
TRUSTED_SOURCES = frozenset({"computed", "pinned"})


def build(
    *,
    model: str,
    version: int,
    artifacts: Iterable[Mapping[str, Any]],
    datasets: Iterable[Mapping[str, Any]],
    input_schema: list[dict[str, Any]],
    code_repository: str = "",
    code_commit: str = "",
    model_card: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest as a plain dict with rows in a fixed order.

    `artifacts`: {kind, name, sha256, digest_source, uri}; `datasets`: {relation, name,
    number, sha256}; `model_card`: {revision, sha256} of the version's latest model card
    revision, left out when the version has none (so manifests of versions without a card
    hash as they did before cards existed)."""
    built: dict[str, Any] = {
        "scheme": SCHEME,
        "model": model,
        "version": version,
        "artifacts": sorted(
            (
                {
                    "kind": a["kind"],
                    "name": a["name"],
                    "sha256": a["sha256"],
                    "digest_source": a["digest_source"],
                    "uri": a.get("uri", ""),
                }
                for a in artifacts
            ),
            key=lambda a: (a["kind"], a["name"]),
        ),
        "datasets": sorted(
            (
                {
                    "relation": d["relation"],
                    "name": d["name"],
                    "number": d["number"],
                    "sha256": d["sha256"],
                }
                for d in datasets
            ),
            key=lambda d: (d["relation"], d["name"], d["number"]),
        ),
        "input_schema": list(input_schema),
        "code": {"repository": code_repository, "commit": code_commit},
    }
    if model_card is not None:
        built["model_card"] = {
            "revision": model_card["revision"],
            "sha256": model_card["sha256"],
        }
    return built


def canonical(manifest: Mapping[str, Any]) -> bytes:
    """One byte string per manifest: sorted keys, no spaces, UTF-8."""
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(manifest: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical encoding, as 64 hexadecimal characters."""
    return hashlib.sha256(canonical(manifest)).hexdigest()


def unverified(manifest: Mapping[str, Any]) -> list[str]:
    """Names of the artifacts whose sha256 Steward neither computed nor found pinned."""
    return [a["name"] for a in manifest["artifacts"] if a["digest_source"] not in TRUSTED_SOURCES]


def has_model_artifact(manifest: Mapping[str, Any]) -> bool:
    return any(a["kind"] == "model" for a in manifest["artifacts"])


def legacy_digest(model_rows: Iterable[tuple[str, str]]) -> str:
    """The pre-manifest digest of (name, sha256) model-artifact rows with a digest: the one
    sha256, or a hash over sorted `name:sha256` lines; "" for none."""
    rows = sorted((name, sha) for name, sha in model_rows if sha)
    if not rows:
        return ""
    if len(rows) == 1:
        return rows[0][1]
    return hashlib.sha256("".join(f"{n}:{s}\n" for n, s in rows).encode()).hexdigest()
