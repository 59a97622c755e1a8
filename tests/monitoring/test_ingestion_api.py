"""The ingestion endpoints: formats, error reports, idempotency, permissions, the size cap.
Runs on SQLite (ORM path) and PostgreSQL (COPY path) alike."""

from __future__ import annotations

import json

import pytest

from governance.audit.models import AuditEvent
from monitoring.models import DeploymentActivity, GroundTruth, PredictionEvent
from registry.models import ModelVersion
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


def test_per_class_scores_are_stored_on_the_event_and_listed(api_as, owner, deployment):
    scores = {"approve": 0.75, "refer": 0.2, "decline": 0.05}
    rows = [event(1) | {"score": 0.75, "scores": scores}, event(2)]
    response = post_json(api_as(owner), url(deployment), rows)
    assert response.status_code == 200, response.content
    row = PredictionEvent.objects.get(deployment=deployment, request_id="req-1")
    assert row.prediction_scores == scores
    assert PredictionEvent.objects.get(request_id="req-2").prediction_scores is None
    listed = api_as(owner).get(url(deployment)).json()["results"]
    assert {r["request_id"]: r["prediction_scores"] for r in listed} == {
        "req-1": scores,
        "req-2": None,
    }


def test_bad_per_class_scores_get_400_naming_the_field_and_row(api_as, owner, deployment):
    rows = [
        event(1) | {"scores": {"approve": 0.5, "refer": 0.5}},
        event(2) | {"scores": {"approve": 0.5, "refer": 0.6}},
        event(3) | {"scores": {"approve": 1.5, "refer": -0.5}},
    ]
    response = post_json(api_as(owner), url(deployment), rows)
    assert response.status_code == 400
    reasons = {(e["row"], e["field"]): e["reason"] for e in response.json()["rejected"]}
    assert reasons == {
        (2, "scores"): "the probabilities sum to 1.1, not 1",
        (3, "scores"): "the probability of class 'approve' is outside [0, 1]",
    }
    assert stored(deployment) == []


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


def _refused(response, field: str) -> None:
    assert response.status_code == 400, response.content
    assert field in response.content.decode(), response.content


HOSTILE_ROWS = {
    # (body, the field the answer names)
    "features absent": (
        json.dumps([{k: v for k, v in event(1).items() if k != "features"}]),
        "features",
    ),
    "features a list": (json.dumps([event(1) | {"features": [1, 2]}]), "features"),
    "features a string": (json.dumps([event(1) | {"features": "age=3"}]), "features"),
    "features null": (json.dumps([event(1) | {"features": None}]), "features"),
    "a 5,000-digit number": (
        json.dumps([event(1)]).replace("52000.5", "9" * 5000),
        "JSON",
    ),
    "a lone surrogate in a feature": (
        json.dumps([event(1, region="x")]).replace('"x"', '"\\ud800"'),
        "region",
    ),
    "a lone surrogate in a feature name": (
        json.dumps([event(1) | {"features": {"x": 1}}]).replace('"x"', '"\\udfff"'),
        "features",
    ),
    "a lone surrogate in the request_id": (
        json.dumps([event(1) | {"request_id": "x"}]).replace('"x"', '"r\\ud800"'),
        "request_id",
    ),
    "a NUL in the error text": (
        json.dumps([event(1) | {"error": "a\u0000b"}]),
        "error",
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE_ROWS))
def test_hostile_rows_get_400_naming_the_field_and_nothing_is_stored(
    api_as, owner, deployment, case
):
    # Each of these was a 500 (pandas or the database refusing the value) or stored text
    # PostgreSQL cannot hold. Run on PostgreSQL too.
    body, field = HOSTILE_ROWS[case]
    line = body.strip()[1:-1]  # every case is one row: its NDJSON form is the object alone
    for data, fmt in ((body, "application/json"), (line, "application/x-ndjson")):
        _refused(api_as(owner).post(url(deployment), data=data, content_type=fmt), field)
    assert stored(deployment) == []


def test_an_integer_feature_past_64_bits_is_refused_naming_it(api_as, owner, model_a):
    schema = [{"name": "count", "type": "integer"}]
    deployment = factories.deployment(
        version=factories.model_version(model=model_a, input_schema=schema, feature_importance={})
    )
    row = event(1) | {"features": {"count": 2**70}}
    response = post_json(api_as(owner), url(deployment), [row])
    _refused(response, "count")
    assert "64-bit" in response.content.decode()
    assert stored(deployment) == []


def test_ground_truth_with_a_lone_surrogate_or_nul_gets_400_naming_the_field(
    api_as, owner, deployment
):
    for body, field in (
        ('[{"request_id": "a", "label": "\\udc00"}]', "label"),
        ('[{"request_id": "a\\u0000", "value": 1}]', "request_id"),
    ):
        response = api_as(owner).post(
            url(deployment, "ground-truth"), data=body, content_type="application/json"
        )
        _refused(response, field)
    assert not GroundTruth.objects.filter(deployment=deployment).exists()


def test_a_csv_nul_or_an_overlong_text_cell_is_refused_naming_the_column(api_as, owner, deployment):
    header = "request_id,timestamp,prediction,age,income,region\n"
    for line, field in (
        ("c1,2026-11-01T10:00:00Z,ap\x00prove,41,1000,south\n", "prediction"),
        (f"c1,2026-11-01T10:00:00Z,{'x' * 10_001},41,1000,south\n", "prediction"),
    ):
        response = api_as(owner).post(url(deployment), data=header + line, content_type="text/csv")
        _refused(response, field)
    assert stored(deployment) == []


def test_a_csv_row_shorter_than_the_header_lacks_its_last_features(api_as, owner, deployment):
    # pandas read the absent cells as empty (a null) and the row was stored without them.
    body = (
        "request_id,timestamp,age,income,region\n"
        "c1,2026-11-01T10:00:00Z,41,1000,south\n"
        "c2,2026-11-01T10:01:00Z,42\n"
        "c3,2026-11-01T10:02:00Z,43,,\n"
    )
    response = api_as(owner).post(
        url(deployment, on_error="skip"), data=body, content_type="text/csv"
    )
    assert response.status_code == 207, response.content
    assert response.json()["rejected"] == [
        {"row": 2, "field": "income", "reason": "missing feature"},
        {"row": 2, "field": "region", "reason": "missing feature"},
    ]
    assert stored(deployment) == ["c1", "c3"]  # an empty cell is a null, which is data


def test_an_optional_feature_may_be_absent_from_csv_and_json(api_as, owner, model_a):
    schema = [
        {"name": "age", "type": "numeric"},
        {"name": "note", "type": "text", "optional": True},
    ]
    response = api_as(owner).post(
        f"/api/v1/models/{model_a.slug}/versions/", {"input_schema": schema}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["input_schema"] == schema
    version = ModelVersion.objects.get(pk=response.json()["id"])
    deployment = factories.deployment(version=version)
    body = "request_id,timestamp,age\nc1,2026-11-01T10:00:00Z,41\n"
    response = api_as(owner).post(url(deployment), data=body, content_type="text/csv")
    assert response.status_code == 200, response.content
    short = "request_id,timestamp,age,note\nc2,2026-11-01T10:00:00Z,41\n"
    response = api_as(owner).post(url(deployment), data=short, content_type="text/csv")
    assert response.status_code == 200, response.content
    row = event(3) | {"features": {"age": 40}}
    assert post_json(api_as(owner), url(deployment), [row]).status_code == 200
    missing_age = event(4) | {"features": {"note": "hi"}}
    _refused(post_json(api_as(owner), url(deployment), [missing_age]), "age")
    assert stored(deployment) == ["c1", "c2", "req-3"]
