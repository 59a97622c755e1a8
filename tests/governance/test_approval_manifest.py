"""The release manifest's canonical form and hash (pure: no database)."""

from __future__ import annotations

import hashlib
import json

import pytest

from governance.approvals import manifest as mf

MODEL = {"kind": "model", "name": "model.joblib", "sha256": "a" * 64, "digest_source": "computed"}
IMAGE = {
    "kind": "image",
    "name": "serving-image",
    "sha256": "b" * 64,
    "digest_source": "pinned",
    "uri": "oci://r.example.org/x@sha256:" + "b" * 64,
}
TRAIN = {"relation": "trained_on", "name": "train", "number": 1, "sha256": "c" * 64}
SCHEMA = [{"name": "age", "type": "numeric"}]


def _manifest(artifacts=(MODEL, IMAGE), datasets=(TRAIN,), schema=SCHEMA, commit="abc"):
    return mf.build(
        model="loans",
        version=3,
        artifacts=list(artifacts),
        datasets=list(datasets),
        input_schema=schema,
        code_commit=commit,
    )


def test_the_digest_is_sha256_of_the_canonical_json():
    manifest = _manifest()
    expected = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    assert mf.canonical(manifest) == expected
    assert mf.digest(manifest) == hashlib.sha256(expected).hexdigest()


def test_the_order_rows_arrive_in_does_not_matter():
    assert mf.digest(_manifest(artifacts=(MODEL, IMAGE))) == mf.digest(
        _manifest(artifacts=(IMAGE, MODEL))
    )


@pytest.mark.parametrize(
    "changed",
    [
        _manifest(artifacts=(MODEL,)),  # an artifact removed
        _manifest(artifacts=(MODEL, IMAGE | {"name": "img2"})),  # renamed
        _manifest(artifacts=(MODEL, IMAGE | {"kind": "other"})),  # another kind
        _manifest(artifacts=(MODEL, IMAGE | {"sha256": "d" * 64})),  # other bytes
        _manifest(artifacts=(MODEL, IMAGE, MODEL | {"name": "m2"})),  # one added
        _manifest(datasets=()),  # trained on something else
        _manifest(datasets=(TRAIN | {"number": 2},)),
        _manifest(schema=[{"name": "age", "type": "integer"}]),
        _manifest(commit="def"),
    ],
)
def test_any_change_to_what_ships_changes_the_digest(changed):
    assert mf.digest(changed) != mf.digest(_manifest())


def test_only_computed_or_pinned_digests_are_trusted():
    declared = {"kind": "model", "name": "m2", "sha256": "e" * 64, "digest_source": "declared"}
    none = {"kind": "image", "name": "img", "sha256": "", "digest_source": "none"}
    assert mf.unverified(_manifest()) == []
    assert mf.unverified(_manifest(artifacts=(MODEL, declared, none))) == ["img", "m2"]


def test_the_legacy_digest_is_the_model_artifacts_only():
    assert mf.legacy_digest([("model.joblib", "a" * 64)]) == "a" * 64
    assert mf.legacy_digest([("m", "")]) == ""
    two = mf.legacy_digest([("b", "2" * 64), ("a", "1" * 64)])
    assert two == hashlib.sha256(f"a:{'1' * 64}\nb:{'2' * 64}\n".encode()).hexdigest()
