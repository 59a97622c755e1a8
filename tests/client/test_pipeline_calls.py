"""The rest of what a pipeline calls, against a live Steward: artifacts up and down with their
digests, a lineage edge by hand, checklist answers, submission, an approval decided through the
client, and the alerts list."""

from __future__ import annotations

import hashlib
import io

import pytest
from steward_client import BadRequest, NotFound

from tests.client.conftest import client_for, new_reviewer

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_version_from_upload_to_approval_through_the_client(steward, live_server, tmp_path):
    model = steward.create_model(name="Pipeline", task="binary", risk_tier="low")
    version = steward.create_version(model["slug"], input_schema=[{"name": "x", "type": "numeric"}])
    blob = b"weights " * 10_000
    artifact = steward.upload_artifact(version["id"], io.BytesIO(blob), kind="model", name="m.bin")
    assert artifact["sha256"] == hashlib.sha256(blob).hexdigest()
    copy = steward.download_artifact(artifact["id"], tmp_path / "copy.bin")
    assert copy.read_bytes() == blob

    dataset = steward.upload_dataset(
        model["slug"],
        io.BytesIO(b"x,y\n1,0\n2,1\n"),
        name="extra",
        kind="reference",
        filename="extra.csv",
    )
    assert dataset["row_count"] == 2
    steward.add_lineage_edge(
        upstream=("dataset", dataset["id"]),
        downstream=("version", version["id"]),
        relation="derived_from",
    )
    upstream = steward.lineage("version", version["id"], direction="upstream")
    assert "derived_from" in {edge["relation"] for edge in upstream["edges"]}

    readiness = steward.readiness(version["id"])
    answers = [
        {"item": item["key"], "answer": "yes", "evidence_text": f"see the wiki for {item['key']}"}
        for item in readiness["open_required_items"]
    ]
    if answers:
        steward.answer_checklist(version["id"], answers)
    assert steward.readiness(version["id"])["open_required_items"] == []
    with pytest.raises(BadRequest) as bad:
        steward.answer_checklist(version["id"], [{"item": "no-such-item", "answer": "yes"}])
    assert bad.value.fields

    request = steward.request_approval(version["id"], comment="ready")
    needed = request["progress"]["needed"]
    for i in range(needed):
        with client_for(live_server, new_reviewer(f"pipeline-reviewer-{i}")) as reviewer:
            reviewer.decide(request["id"], verdict="approve", comment="fine")
    assert steward.get_approval(request["id"])["state"] == "approved"
    assert steward.get_version(version["id"])["stage"] == "approved"
    assert isinstance(steward.alerts(), list)
    with pytest.raises(NotFound):
        steward.get_approval(999_999)
