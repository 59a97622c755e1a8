"""Packed summaries (arrays as base64 of little-endian bytes): the same stored and merged
results as the plain JSON form, rows stored before the binary format still read, and every
corrupt packed summary a 400 naming its field (never a 500)."""

from __future__ import annotations

import base64
import json
import zlib

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from steward_client.summary_mode import hourly_summaries

from monitoring.models import PostedSummary, StaleHour
from monitoring.rollups.posted import features_of
from monitoring.rollups.posted_blobs import is_blob
from tests.monitoring.test_summaries_ingest import (
    assert_same_performance,
    decided,
    deploy,
    drift,
    events,
    hourly_rows,
    labelled_events,
    layouts,
    monitor,
    performance,
    post_ground_truth,
    post_hours,
    post_raw,
    post_summaries,
    start_hour,
    version,
)

pytestmark = pytest.mark.django_db
__all__ = ["version"]  # the fixture, shared with the plain form's tests


def test_packed_and_plain_bodies_give_the_same_rows_drift_health_and_performance(
    api_as, owner, version, settings
):
    settings.STEWARD_DRIFT_EXACT_MAX_ROWS = 0  # both on the summary path, as posted hours are
    client = api_as(owner)
    plain = deploy(version, "plain", decision_threshold="0.4")
    packed = deploy(version, "packed", decision_threshold="0.4")
    raw = deploy(version, "raw", decision_threshold="0.4")
    start = start_hour()
    frame = labelled_events(start)
    decision = decided(plain, owner)
    decided(packed, owner)
    decided(raw, owner)
    given = layouts(client, version)
    post_hours(client, plain, frame, given, packed=False, **decision)
    post_hours(client, packed, frame, given, packed=True, **decision)
    post_raw(client, raw, frame)
    post_ground_truth(client, raw, frame)
    stored = {
        deployment: [
            features_of(row.features)
            for row in PostedSummary.objects.filter(deployment=deployment).order_by("hour")
        ]
        for deployment in (plain, packed)
    }
    assert stored[packed] == stored[plain] and len(stored[plain]) == 3
    for deployment in (plain, packed, raw):
        monitor(deployment, start)
    assert hourly_rows(packed) == hourly_rows(plain)
    assert hourly_rows(packed) == hourly_rows(raw)
    assert drift(packed) == drift(plain)
    assert drift(packed)["income"][3] is True  # the shift is seen, not a vacuous equality
    assert performance(packed) == performance(plain)
    assert_same_performance(performance(packed), performance(raw))


def test_rows_stored_as_zlib_json_before_the_binary_format_are_still_read(api_as, owner, version):
    client = api_as(owner)
    old, new = deploy(version, "old-rows"), deploy(version, "new-rows")
    start = start_hour()
    frame = events(start)
    given = layouts(client, version)
    post_hours(client, old, frame, given)
    post_hours(client, new, frame, given)
    for row in PostedSummary.objects.filter(deployment=old):
        assert is_blob(bytes(row.features))
        # As rows were written before: the plain dicts without layouts, zlib-compressed JSON.
        row.features = zlib.compress(orjson.dumps(features_of(row.features)), 1)
        row.save(update_fields=["features"])
    assert not any(
        is_blob(bytes(f))
        for f in PostedSummary.objects.values_list("features", flat=True).filter(deployment=old)
    )
    monitor(old, start)
    monitor(new, start)
    assert hourly_rows(old) == hourly_rows(new)
    assert len(hourly_rows(old)[0]) == 3 * 4


def _b64(array: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.asarray(array, dtype=dtype).tobytes()).decode()


def _counts(summary: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(summary["counts"]), "<i8").copy()


def _bad_base64(summary: dict) -> None:
    summary["counts"] = summary["counts"][:-4] + "!@#$"


def _wrong_length(summary: dict) -> None:
    summary["counts"] = _b64(_counts(summary)[:-1], "<i8")


def _ragged_bytes(summary: dict) -> None:
    summary["counts"] = base64.b64encode(base64.b64decode(summary["counts"])[:-3]).decode()


def _negative_count(summary: dict) -> None:
    counts = _counts(summary)
    counts[np.argmax(counts)] *= -1
    summary["counts"] = _b64(counts, "<i8")


def _sum_mismatch(summary: dict) -> None:
    counts = _counts(summary)
    counts[0] += 1  # one fault alone: count and missing still add up to the hour's count
    summary["counts"] = _b64(counts, "<i8")


def _sample_unpaired(summary: dict) -> None:
    values = np.frombuffer(base64.b64decode(summary["sample"]["values"]), "<f8")
    summary["sample"]["values"] = _b64(values[:-1], "<f8")


def _sample_not_finite(summary: dict) -> None:
    values = np.frombuffer(base64.b64decode(summary["sample"]["values"]), "<f8").copy()
    values[0] = np.nan
    summary["sample"]["values"] = _b64(values, "<f8")


def _other_encoding(summary: dict) -> None:
    summary["encoding"] = "gzip"


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (_bad_base64, "counts is not valid base64"),
        (_wrong_length, "counts must hold"),
        (_ragged_bytes, "counts decodes to"),
        (_negative_count, "counts must be non-negative integers"),
        (_sum_mismatch, "count must equal the sum of counts"),
        (_sample_unpaired, "the sample must pair values with priorities"),
        (_sample_not_finite, "the sample's values must be finite"),
        (_other_encoding, "encoding must be 'packed' or absent"),
    ],
)
def test_a_corrupt_packed_summary_answers_400_naming_the_field(
    api_as, owner, version, corrupt, message
):
    client = api_as(owner)
    deployment = deploy(version, "corrupt")
    given = layouts(client, version)
    hours = hourly_summaries(events(start_hour()), given)
    assert hours[1]["features"]["income"]["encoding"] == "packed"
    corrupt(hours[1]["features"]["income"])
    body = {"format": 1, "layout_digest": given["digest"], "hours": hours}
    response = post_summaries(client, deployment, body)
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert [error["field"] for error in errors] == ["hours[1].features.income"]
    assert errors[0]["message"].startswith(message), errors[0]["message"]
    assert not PostedSummary.objects.exists() and not StaleHour.objects.exists()


def test_a_corrupt_packed_categorical_summary_answers_400_naming_the_field(api_as, owner, version):
    client = api_as(owner)
    deployment = deploy(version, "corrupt-categorical")
    given = layouts(client, version)
    hours = hourly_summaries(events(start_hour()), given)
    region = hours[0]["features"]["region"]
    region["counts"] = _b64(_counts(region) + 1, "<i8")
    body = {"format": 1, "layout_digest": given["digest"], "hours": hours}
    response = post_summaries(client, deployment, body)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "field": "hours[0].features.region",
            "message": f"counts plus missing must equal the hour's count ({hours[0]['count']})",
        }
    ]


def test_counts_whose_int64_sum_wraps_to_the_right_total_are_refused(api_as, owner, version):
    """Four counts raised by 2**62 each add 2**64: an int64 sum wraps back to the true count,
    the exact sum does not."""
    client = api_as(owner)
    deployment = deploy(version, "wrapping")
    given = layouts(client, version)
    hours = hourly_summaries(events(start_hour()), given)
    income = hours[0]["features"]["income"]
    counts = _counts(income)
    counts[:4] += 2**62
    assert int(counts.sum()) == income["count"]  # numpy's int64 sum is fooled
    income["counts"] = _b64(counts, "<i8")
    body = {"format": 1, "layout_digest": given["digest"], "hours": hours}
    response = post_summaries(client, deployment, body)
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == [
        {"field": "hours[0].features.income", "message": "count must equal the sum of counts"}
    ]


def test_faults_in_several_summaries_of_an_hour_are_each_named(api_as, owner, version):
    """The arrays of an hour are checked together; each faulty summary is still named, with
    its own fault, and the sound ones are not."""
    client = api_as(owner)
    deployment = deploy(version, "several")
    given = layouts(client, version)
    hours = hourly_summaries(events(start_hour()), given)
    _negative_count(hours[1]["features"]["income"])
    _sample_not_finite(hours[1]["features"]["age"])
    region = hours[1]["features"]["region"]
    region["counts"] = _b64(_counts(region) + 1, "<i8")
    _sum_mismatch(hours[2]["features"]["age"])
    body = {"format": 1, "layout_digest": given["digest"], "hours": hours}
    response = post_summaries(client, deployment, body)
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == [
        {"field": "hours[1].features.age", "message": "the sample's values must be finite"},
        {"field": "hours[1].features.income", "message": "counts must be non-negative integers"},
        {
            "field": "hours[1].features.region",
            "message": f"counts plus missing must equal the hour's count ({hours[1]['count']})",
        },
        {"field": "hours[2].features.age", "message": "count must equal the sum of counts"},
    ]
    assert not PostedSummary.objects.exists()


# --- fuzzing: a malformed packed summary is a 400, never a 500 ---------------------------------

FIELDS = (
    "counts",
    "count",
    "missing",
    "invalid",
    "sum",
    "m2",
    "min",
    "max",
    "sample",
    "sample.values",
    "sample.priorities",
    "encoding",
    "unseen_examples",
)
HOSTILE = st.one_of(
    st.binary(max_size=300).map(lambda raw: base64.b64encode(raw).decode()),
    st.text(max_size=20),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.none(),
    st.booleans(),
    st.lists(st.integers(min_value=-3, max_value=3), max_size=5),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@pytest.fixture
def packed_hours(api_as, owner, version):
    client = api_as(owner)
    given = layouts(client, version)
    deployment = deploy(version, "fuzzed")
    return client, deployment, given, hourly_summaries(events(start_hour()), given)


@settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    feature=st.sampled_from(["age", "income", "region", "prediction"]),
    field=st.sampled_from(FIELDS),
    value=HOSTILE,
)
def test_a_malformed_packed_summary_is_refused_with_400_never_500(
    packed_hours, feature, field, value
):
    client, deployment, given, hours = packed_hours
    entry = orjson.loads(orjson.dumps(hours[0]))
    summary = entry["prediction"] if feature == "prediction" else entry["features"][feature]
    if field.startswith("sample.") and isinstance(summary.get("sample"), dict):
        summary["sample"][field.removeprefix("sample.")] = value
    else:
        summary[field] = value
    body = {"format": 1, "layout_digest": given["digest"], "hours": [entry]}
    response = client.post(
        f"/api/v1/deployments/{deployment.pk}/summaries/",
        data=json.dumps(body),  # orjson cannot write integers beyond 64 bits
        content_type="application/json",
    )
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400 and "errors" not in response.json():
        assert response.json()["detail"].startswith("invalid JSON")  # orjson's 64-bit bound
    elif response.status_code == 400:
        where = "hours[0].prediction" if feature == "prediction" else f"hours[0].features.{feature}"
        assert [error["field"] for error in response.json()["errors"]] == [where]
