"""The ingestion endpoints: formats, error reports, idempotency, permissions, the size cap.
Runs on SQLite (ORM path) and PostgreSQL (COPY path) alike."""

from __future__ import annotations

import json

import pytest

from governance.audit.models import AuditEvent
from monitoring.models import DeploymentActivity, GroundTruth, PredictionEvent
from tests import factories


@pytest.fixture
def deployment(model_a):
    return factories.deployment(version=factories.model_version(model=model_a))


def url(deployment, kind: str = "predictions", on_error: str | None = None) -> str:
    suffix = f"?on_error={on_error}" if on_error else ""
    return f"/api/v1/deployments/{deployment.pk}/{kind}/{suffix}"


def event(n: int, **features: object) -> dict[str, object]:
    return {
        "request_id": f"req-{n}",
        "timestamp": f"2026-11-01T10:{n % 60:02d}:00Z",
        "prediction": "approve",
        "score": 0.25 + n / 1000,
        "latency_ms": 12.5,
        "cache_hit": False,
        "cpu": 0.4,
        "memory": 256.0,
        "features": {"age": 30 + n, "income": 52000.5, "region": "north"} | features,
    }


def post_json(client, target: str, rows: list[dict[str, object]]):
    return client.post(target, data=json.dumps(rows), content_type="application/json")


def stored(deployment) -> list[str]:
    return sorted(
        PredictionEvent.objects.filter(deployment=deployment).values_list("request_id", flat=True)
    )


def test_owner_posts_a_json_array_and_every_row_is_stored(api_as, owner, deployment):
    response = post_json(api_as(owner), url(deployment), [event(1), event(2), event(3)])
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == 3
    assert response.json()["rejected"] == []
    assert stored(deployment) == ["req-1", "req-2", "req-3"]
    row = PredictionEvent.objects.get(deployment=deployment, request_id="req-2")
    assert row.features == {"age": 32, "income": 52000.5, "region": "north"}
    assert row.prediction_label == "approve" and row.prediction_score == pytest.approx(0.252)
    assert row.cache_hit is False and row.status == "ok" and row.error == ""


def test_owner_posts_ndjson_and_every_row_is_stored(api_as, owner, deployment):
    body = "\n".join(json.dumps(event(n)) for n in range(5)) + "\n"
    response = api_as(owner).post(url(deployment), data=body, content_type="application/x-ndjson")
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == 5
    assert len(stored(deployment)) == 5


def test_owner_posts_csv_with_features_as_columns(api_as, owner, deployment):
    body = (
        "request_id,timestamp,prediction,score,latency_ms,status,error,age,income,region\n"
        "c1,2026-11-01T10:00:00Z,approve,0.9,8,ok,,41,1000,south\n"
        "c2,2026-11-01T10:01:00Z,,,30,error,model timed out,42,2000,north\n"
    )
    response = api_as(owner).post(url(deployment), data=body, content_type="text/csv")
    assert response.status_code == 200, response.content
    failed = PredictionEvent.objects.get(deployment=deployment, request_id="c2")
    assert failed.status == "error" and failed.error == "model timed out"
    assert failed.prediction_label is None and failed.prediction_score is None
    assert failed.features == {"age": 42, "income": 2000.0, "region": "north"}


def test_bad_rows_are_reported_with_row_numbers_and_reasons(api_as, owner, deployment):
    missing = event(2)
    del missing["features"]["income"]
    rows = [
        event(1),
        missing,
        event(3, colour="red"),
        event(4, age="forty"),
        event(5, region="east"),
        event(6) | {"timestamp": "last tuesday"},
        event(1),
    ]
    response = post_json(api_as(owner), url(deployment), rows)
    assert response.status_code == 400
    body = response.json()
    reasons = {(e["row"], e["field"]): e["reason"] for e in body["rejected"]}
    assert reasons == {
        (2, "income"): "missing feature",
        (3, "colour"): "not in the version's input schema",
        (4, "age"): "not a number: 'forty'",
        (5, "region"): "not one of the declared categories: 'east'",
        (6, "timestamp"): "not an ISO 8601 timestamp: 'last tuesday'",
        (7, "request_id"): "repeats the request_id of row 1",
    }
    assert body["rejected_rows"] == 6 and body["accepted"] == 0


def test_reject_mode_stores_nothing_and_audits_nothing(api_as, owner, deployment):
    before = AuditEvent.objects.count()
    response = post_json(api_as(owner), url(deployment), [event(1), event(2, age="x")])
    assert response.status_code == 400
    assert stored(deployment) == []
    assert AuditEvent.objects.count() == before


def test_skip_mode_stores_the_valid_rows_and_returns_the_rejects(api_as, owner, deployment):
    rows = [event(1), event(2, age="x"), event(3)]
    response = post_json(api_as(owner), url(deployment, on_error="skip"), rows)
    assert response.status_code == 207
    body = response.json()
    assert body["accepted"] == 2 and body["rejected_rows"] == 1
    assert body["rejected"] == [{"row": 2, "field": "age", "reason": "not a number: 'x'"}]
    assert stored(deployment) == ["req-1", "req-3"]


def test_the_same_batch_posted_twice_is_stored_once(api_as, owner, deployment):
    client, rows = api_as(owner), [event(n) for n in range(10)]
    first = post_json(client, url(deployment), rows)
    second = post_json(client, url(deployment), [*rows, event(10)])
    assert first.json()["accepted"] == 10
    assert second.json()["accepted"] == 1 and second.json()["duplicates"] == 10
    assert len(stored(deployment)) == 11


def test_activity_totals_count_stored_predictions_once_and_span_their_times(
    api_as, owner, deployment
):
    client = api_as(owner)
    post_json(client, url(deployment), [event(n) for n in (5, 6, 7)])
    post_json(client, url(deployment), [event(n) for n in (2, 5, 9)])  # 5 is a duplicate
    activity = DeploymentActivity.objects.get(deployment=deployment)
    assert activity.predictions == PredictionEvent.objects.filter(deployment=deployment).count()
    assert activity.predictions == 5
    assert activity.first_prediction_at.isoformat() == "2026-11-01T10:02:00+00:00"
    assert activity.last_prediction_at.isoformat() == "2026-11-01T10:09:00+00:00"


def test_each_accepted_batch_leaves_one_audit_entry_with_counts(api_as, owner, deployment):
    post_json(api_as(owner), url(deployment), [event(n) for n in range(4)])
    entry = AuditEvent.objects.filter(action="monitoring.predictions.ingested").get()
    assert entry.target_id == str(deployment.pk)
    assert entry.after["accepted"] == 4 and entry.after["duplicates"] == 0


def test_ground_truth_may_arrive_before_or_after_and_joins_on_request_id(api_as, owner, deployment):
    client = api_as(owner)
    early = [{"request_id": "req-1", "label": "approve", "timestamp": "2026-11-02T00:00:00Z"}]
    assert post_json(client, url(deployment, "ground-truth"), early).status_code == 200
    post_json(client, url(deployment), [event(1), event(2)])
    late = [{"request_id": "req-2", "label": "decline"}, {"request_id": "req-1", "label": "x"}]
    response = post_json(client, url(deployment, "ground-truth"), late)
    assert response.json()["accepted"] == 1 and response.json()["duplicates"] == 1
    joined = dict(
        PredictionEvent.objects.filter(deployment=deployment)
        .order_by("request_id")
        .values_list("request_id", "prediction_label")
    )
    truth = dict(
        GroundTruth.objects.filter(deployment=deployment).values_list("request_id", "label")
    )
    assert {rid: (joined[rid], truth[rid]) for rid in joined} == {
        "req-1": ("approve", "approve"),
        "req-2": ("approve", "decline"),
    }


def test_owner_lists_predictions_newest_first(api_as, owner, deployment):
    client = api_as(owner)
    post_json(client, url(deployment), [event(1), event(3), event(2)])
    response = client.get(url(deployment))
    assert response.status_code == 200
    assert [r["request_id"] for r in response.json()["results"]] == ["req-3", "req-2", "req-1"]


def test_reviewer_gets_403_when_posting(api_as, reviewer, deployment):
    response = post_json(api_as(reviewer), url(deployment), [event(1)])
    assert response.status_code == 403
    assert stored(deployment) == []


def test_reviewer_may_list_predictions(api_as, reviewer, deployment):
    assert api_as(reviewer).get(url(deployment)).status_code == 200


def test_outsider_gets_404_for_predictions_and_ground_truth(api_as, outsider, deployment):
    client = api_as(outsider)
    assert post_json(client, url(deployment), [event(1)]).status_code == 404
    assert client.get(url(deployment)).status_code == 404
    assert (
        post_json(client, url(deployment, "ground-truth"), [{"request_id": "a"}]).status_code == 404
    )


def test_a_grant_on_another_model_does_not_open_this_deployment(api_as, owner, model_b):
    other = factories.deployment(version=factories.model_version(model=model_b))
    assert post_json(api_as(owner), url(other), [event(1)]).status_code == 404


def test_a_batch_over_the_row_cap_gets_413(api_as, owner, deployment, settings):
    settings.STEWARD_MAX_BATCH_ROWS = 3
    response = post_json(api_as(owner), url(deployment), [event(n) for n in range(4)])
    assert response.status_code == 413
    assert "at most 3" in response.json()["detail"]
    assert stored(deployment) == []


def test_an_unknown_content_type_gets_415_and_bad_json_gets_400(api_as, owner, deployment):
    client = api_as(owner)
    assert client.post(url(deployment), data="x", content_type="text/plain").status_code == 415
    bad = client.post(url(deployment), data="[{", content_type="application/json")
    assert bad.status_code == 400 and "not valid JSON" in bad.json()["detail"]


def test_a_failure_while_storing_leaves_nothing_behind(api_as, owner, deployment, monkeypatch):
    from governance import audit

    def broken(**kwargs):
        raise RuntimeError("audit unavailable")

    monkeypatch.setattr(audit, "record", broken)
    client = api_as(owner)
    client.raise_request_exception = True
    with pytest.raises(RuntimeError):
        post_json(client, url(deployment), [event(1), event(2)])
    assert stored(deployment) == []


def test_ground_truth_in_csv_is_stored_and_listed(api_as, owner, deployment):
    client = api_as(owner)
    body = "request_id,label,value,timestamp\ng1,approve,,2026-11-03T00:00:00Z\ng2,,12.5,\n"
    response = client.post(url(deployment, "ground-truth"), data=body, content_type="text/csv")
    assert response.status_code == 200, response.content
    listed = client.get(url(deployment, "ground-truth")).json()["results"]
    assert {(r["request_id"], r["label"], r["value"]) for r in listed} == {
        ("g1", "approve", None),
        ("g2", None, 12.5),
    }


def test_unknown_top_level_fields_are_rejected_by_name(api_as, owner, deployment):
    response = post_json(api_as(owner), url(deployment), [event(1) | {"colour": "red"}])
    assert response.status_code == 400
    assert response.json()["rejected"] == [{"row": 1, "field": "colour", "reason": "unknown field"}]


def test_a_body_over_the_upload_limit_gets_413(api_as, owner, deployment, settings):
    settings.STEWARD_MAX_UPLOAD_BYTES = 100
    response = post_json(api_as(owner), url(deployment), [event(n) for n in range(5)])
    assert response.status_code == 413
