"""The pure side of ingestion: parsing and vectorised validation, no database."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from monitoring.ingestion.parsing import (
    GROUND_TRUTH_FIELDS,
    PREDICTION_FIELDS,
    ParseError,
    UnsupportedFormat,
    parse_batch,
)
from monitoring.ingestion.validation import validate_ground_truth, validate_predictions
from registry import limits

SCHEMA = [
    {"name": "age", "type": "integer"},
    {"name": "income", "type": "numeric"},
    {"name": "region", "type": "categorical", "categories": ["north", "south"]},
    {"name": "member", "type": "boolean"},
    {"name": "signed_up", "type": "datetime"},
    {"name": "note", "type": "text"},
]


def row(n: int, **features: object) -> dict[str, object]:
    base = {
        "age": 30 + n,
        "income": 1000.5,
        "region": "north",
        "member": True,
        "signed_up": "2026-01-02T03:04:05Z",
        "note": "hi",
    }
    return {
        "request_id": f"r{n}",
        "timestamp": "2026-11-01T10:00:00Z",
        "prediction": "yes",
        "score": 0.7,
        "features": base | features,
    }


def predictions(rows: list[dict[str, object]], content_type: str = "application/json"):
    body = json.dumps(rows).encode()
    batch = parse_batch(body, content_type=content_type, reserved=PREDICTION_FIELDS, nested=True)
    return validate_predictions(batch, SCHEMA)


def errors_of(report) -> set[tuple[int, str]]:
    return {(e["row"], e["field"]) for e in report.error_list()}


def test_valid_rows_come_back_typed_with_features_as_json():
    report = predictions([row(1), row(2)])
    assert report.error_list() == []
    assert list(report.valid["request_id"]) == ["r1", "r2"]
    features = json.loads(report.valid["features"].iloc[0])
    assert features["age"] == 31 and features["member"] is True and features["region"] == "north"
    assert str(report.valid["timestamp"].dtype) == "datetime64[us, UTC]" or "UTC" in str(
        report.valid["timestamp"].dtype
    )


def test_each_kind_of_bad_value_is_reported_with_its_row_and_field():
    rows = [
        row(1),
        row(2, age="old"),
        row(3, age=3.5),
        row(4, income="lots"),
        row(5, region="east"),
        row(6, member="maybe"),
        row(7, signed_up="yesterday"),
        row(8, income=True),
    ]
    report = predictions(rows)
    assert errors_of(report) == {
        (2, "age"),
        (3, "age"),
        (4, "income"),
        (5, "region"),
        (6, "member"),
        (7, "signed_up"),
        (8, "income"),
    }
    assert list(report.valid["request_id"]) == ["r1"]


def test_missing_and_extra_features_are_named():
    missing = row(1)
    del missing["features"]["income"]
    extra = row(2, colour="red")
    report = predictions([missing, extra])
    reasons = {(e["row"], e["field"]): e["reason"] for e in report.error_list()}
    assert reasons == {
        (1, "income"): "missing feature",
        (2, "colour"): "not in the version's input schema",
    }


def test_null_feature_values_are_allowed_as_missing_data():
    report = predictions([row(1, income=None, region=None)])
    assert report.error_list() == []
    assert json.loads(report.valid["features"].iloc[0])["income"] is None


def test_bad_request_ids_timestamps_and_repeats_are_rejected():
    no_id = row(1)
    del no_id["request_id"]
    bad_time = row(2) | {"timestamp": "not a time"}
    no_time = row(3)
    del no_time["timestamp"]
    report = predictions([no_id, bad_time, no_time, row(4), row(4)])
    reasons = {(e["row"], e["field"]): e["reason"] for e in report.error_list()}
    assert reasons[(1, "request_id")] == "missing request_id"
    assert reasons[(2, "timestamp")].startswith("not an ISO 8601 timestamp")
    assert reasons[(3, "timestamp")] == "missing timestamp"
    assert reasons[(5, "request_id")] == "repeats the request_id of row 4"
    assert list(report.valid["request_id"]) == ["r4"]


def test_ndjson_rows_are_numbered_by_line():
    lines = [json.dumps(row(1)), "", json.dumps(row(2, age="x"))]
    body = "\n".join(lines).encode()
    batch = parse_batch(
        body, content_type="application/x-ndjson", reserved=PREDICTION_FIELDS, nested=True
    )
    report = validate_predictions(batch, SCHEMA)
    assert errors_of(report) == {(3, "age")}


def test_csv_reads_every_value_as_text_and_types_it_from_the_schema():
    body = (
        "request_id,timestamp,prediction,score,age,income,region,member,signed_up,note,cache_hit\n"
        "a,2026-11-01T10:00:00,yes,0.5,40,12.5,south,false,2026-01-01,x,true\n"
        "b,2026-11-01T10:00:00,no,0.1,4x,12.5,south,0,2026-01-01,y,\n"
    ).encode("ascii")
    batch = parse_batch(body, content_type="text/csv", reserved=PREDICTION_FIELDS, nested=True)
    report = validate_predictions(batch, SCHEMA)
    assert errors_of(report) == {(2, "age")}
    valid = report.valid.iloc[0]
    assert valid["cache_hit"] is True or bool(valid["cache_hit"]) is True
    assert json.loads(valid["features"])["member"] is False


def test_a_csv_without_a_declared_column_reports_it_on_every_row():
    body = b"request_id,timestamp,age\na,2026-11-01T10:00:00Z,3\n"
    batch = parse_batch(body, content_type="text/csv", reserved=PREDICTION_FIELDS, nested=True)
    report = validate_predictions(batch, SCHEMA)
    assert {field for _, field in errors_of(report)} == {
        "income",
        "region",
        "member",
        "signed_up",
        "note",
    }


def test_unreadable_bodies_and_unknown_formats_raise():
    with pytest.raises(ParseError):
        parse_batch(b"[{", content_type="application/json", reserved=PREDICTION_FIELDS, nested=True)
    with pytest.raises(UnsupportedFormat):
        parse_batch(b"x", content_type="text/plain", reserved=PREDICTION_FIELDS, nested=True)


def test_ground_truth_needs_a_label_or_a_value():
    body = json.dumps(
        [{"request_id": "a", "label": "yes"}, {"request_id": "b"}, {"request_id": "c", "value": 2}]
    ).encode()
    batch = parse_batch(
        body, content_type="application/json", reserved=GROUND_TRUTH_FIELDS, nested=False
    )
    now = pd.Timestamp("2026-11-22T00:00:00Z")
    report = validate_ground_truth(batch, received_at=now)
    assert errors_of(report) == {(2, "label")}
    assert list(report.valid["request_id"]) == ["a", "c"]
    assert (report.valid["timestamp"] == now).all()


def test_per_class_scores_are_optional_and_stored_as_a_json_object():
    with_scores = row(1) | {"scores": {"yes": 0.7, "no": 0.2, "maybe": 0.1}}
    report = predictions([with_scores, row(2)])
    assert report.error_list() == []
    stored = report.valid["prediction_scores"].tolist()
    assert json.loads(stored[0]) == {"yes": 0.7, "no": 0.2, "maybe": 0.1}
    assert pd.isna(stored[1])  # stored as NULL


def test_bad_per_class_scores_are_refused_naming_the_field_and_row():
    rows = [
        row(1) | {"scores": {"yes": 0.7, "no": 0.3}},
        row(2) | {"scores": {"yes": 0.7, "no": 0.2}},
        row(3) | {"scores": {"yes": 1.2, "no": -0.2}},
        row(4) | {"scores": {"yes": "high", "no": 0.3}},
        row(5) | {"scores": [0.7, 0.3]},
        row(6) | {"scores": {}},
        row(7) | {"scores": {"yes": True, "no": 0.0}},
        row(8) | {"scores": {"yes": 0.7 + 5e-7, "no": 0.3}},
        # More classes than the cap on a stored event's scores (registry/limits.py).
        row(9) | {"scores": {f"c{k}": 1 / (limits.ITEMS + 1) for k in range(limits.ITEMS + 1)}},
    ]
    report = predictions(rows)
    reasons = {(e["row"], e["field"]): e["reason"] for e in report.error_list()}
    assert reasons == {
        (2, "scores"): "the probabilities sum to 0.9, not 1",
        (3, "scores"): "the probability of class 'yes' is outside [0, 1]",
        (4, "scores"): "the probability of class 'yes' is not a number",
        (5, "scores"): "must be an object {class: probability} with at least one class",
        (6, "scores"): "must be an object {class: probability} with at least one class",
        (7, "scores"): "the probability of class 'yes' is not a number",
        (9, "scores"): f"at most {limits.ITEMS} entries (this has {limits.ITEMS + 1})",
    }
    assert list(report.valid["request_id"]) == ["r1", "r8"]  # within 1e-6 of 1 is fine


def test_per_class_scores_in_csv_are_a_json_cell():
    body = (
        "request_id,timestamp,prediction,score,scores,age,income,region,member,signed_up,note\n"
        'c1,2026-11-01T10:00:00Z,a,0.6,"{""a"": 0.6, ""b"": 0.4}",1,2,north,true,'
        "2026-01-01T00:00:00Z,x\n"
        "c2,2026-11-01T10:00:00Z,a,0.6,not json,1,2,north,true,2026-01-01T00:00:00Z,x\n"
    )
    batch = parse_batch(
        body.encode(), content_type="text/csv", reserved=PREDICTION_FIELDS, nested=True
    )
    report = validate_predictions(batch, SCHEMA)
    assert report.error_list() == [
        {"row": 2, "field": "scores", "reason": "not a JSON object of class probabilities"}
    ]
    assert json.loads(report.valid["prediction_scores"].iloc[0]) == {"a": 0.6, "b": 0.4}
