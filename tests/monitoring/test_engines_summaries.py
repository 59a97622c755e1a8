"""Mergeable summaries: merge laws, round trips, digests and the counts themselves."""

from __future__ import annotations

import base64
import binascii
import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from steward_client.summaries import (
    CategoricalLayout,
    CategoricalSummary,
    NumericLayout,
    NumericSummary,
    bytes_of_b64,
    categorical_summaries,
    merge,
    merge_all,
    summary_from_dict,
    summary_from_packed,
    to_packed,
)

FAST = settings(max_examples=60, deadline=None)

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
maybe_missing = st.one_of(finite, st.just(float("nan")), st.just(float("inf")))
numbers = st.lists(maybe_missing, min_size=0, max_size=60)
labels = st.lists(st.one_of(st.sampled_from("abcdefgh"), st.none()), max_size=60)


def _layout(rng_seed: int = 0, n_bins: int = 20, sample_size: int = 8) -> NumericLayout:
    reference = np.random.default_rng(rng_seed).normal(size=500)
    return NumericLayout.from_reference(reference, n_bins=n_bins, sample_size=sample_size)


def _numeric(values: list[float], layout: NumericLayout, start: int) -> NumericSummary:
    keys = np.arange(start, start + len(values), dtype=np.uint64)
    return NumericSummary.build(np.asarray(values, dtype=float), layout, row_keys=keys)


def assert_numeric_equal(a: NumericSummary, b: NumericSummary) -> None:
    """Counts, sample and extremes exactly; sum and second moment to rounding."""
    assert a.layout == b.layout
    np.testing.assert_array_equal(a.counts, b.counts)
    assert (a.count, a.missing, a.invalid) == (b.count, b.missing, b.invalid)
    assert (a.minimum, a.maximum) == (b.minimum, b.maximum)
    np.testing.assert_array_equal(a.sample_values, b.sample_values)
    np.testing.assert_array_equal(a.sample_priorities, b.sample_priorities)
    assert a.total == pytest.approx(b.total, rel=1e-9, abs=1e-6)
    assert a.m2 == pytest.approx(b.m2, rel=1e-9, abs=1e-3)


@FAST
@given(numbers, numbers, numbers)
def test_numeric_merge_is_associative_and_equals_the_concatenation(x, y, z):
    layout = _layout()
    a, b, c = _numeric(x, layout, 0), _numeric(y, layout, len(x)), _numeric(z, layout, 10_000)
    left = merge(merge(a, b), c)
    right = merge(a, merge(b, c))
    assert_numeric_equal(left, right)
    keys = np.concatenate(
        [np.arange(len(x)), np.arange(len(x), len(x) + len(y)), np.arange(10_000, 10_000 + len(z))]
    ).astype(np.uint64)
    whole = NumericSummary.build(np.asarray(x + y + z, dtype=float), layout, row_keys=keys)
    assert_numeric_equal(left, whole)
    assert_numeric_equal(merge(a, b), merge(b, a))


@FAST
@given(numbers)
def test_numeric_summary_counts_match_numpy(values):
    array = np.asarray(values, dtype=float)
    good = array[np.isfinite(array)]
    layout = _layout()
    summary = NumericSummary.build(array, layout)
    expected = np.bincount(layout.slots(good), minlength=layout.n_slots)
    np.testing.assert_array_equal(summary.counts, expected)
    assert summary.count == good.size
    assert summary.missing == array.size - good.size
    assert summary.counts.sum() == good.size
    if good.size:
        assert summary.total == pytest.approx(good.sum(), rel=1e-9, abs=1e-6)
        assert summary.std == pytest.approx(np.std(good), rel=1e-7, abs=1e-6)
        assert (summary.minimum, summary.maximum) == (good.min(), good.max())
        assert summary.sum_of_squares == pytest.approx(np.sum(good**2), rel=1e-7, abs=1e-3)


@FAST
@given(st.lists(finite, min_size=1, max_size=40))
def test_numeric_slots_alternate_between_intervals_and_edges(values):
    layout = NumericLayout.from_reference(np.array([0.0, 1.0, 1.0, 2.0, 5.0]), n_bins=4)
    assert layout.edges == (0.0, 1.0, 2.0, 5.0) and layout.discrete
    slots = layout.slots(np.asarray(values))
    for value, slot in zip(values, slots, strict=True):
        edges = layout.edges
        expected = sum(2 for e in edges if e < value) + (1 if value in edges else 0)
        assert slot == expected


@FAST
@given(numbers)
def test_numeric_summary_round_trips_through_json(values):
    summary = _numeric(values, _layout(), 0)
    data = json.loads(json.dumps(summary.to_dict(), allow_nan=False))
    again = summary_from_dict(data)
    assert again == summary
    assert again.digest() == summary.digest()


any_float = st.floats(allow_nan=False, allow_infinity=False)
counts_of = st.lists(st.integers(min_value=0, max_value=2**63 - 1), max_size=12)


@st.composite
def packable_numeric(draw: st.DrawFn) -> NumericSummary:
    """A numeric summary with arbitrary contents (not necessarily consistent): every int64
    count, every finite float, every uint64 priority, an empty sample, count 0, no min/max."""
    layout = NumericLayout(tuple(sorted(draw(st.sets(any_float, max_size=5)))), sample_size=6)
    size = draw(st.integers(min_value=0, max_value=6))
    extremes = draw(st.one_of(st.none(), st.tuples(any_float, any_float)))
    return NumericSummary(
        layout=layout,
        counts=np.asarray(draw(counts_of), dtype=np.int64),
        count=draw(st.integers(min_value=0, max_value=2**63 - 1)),
        missing=draw(st.integers(min_value=0, max_value=2**40)),
        invalid=draw(st.integers(min_value=0, max_value=2**40)),
        total=draw(any_float),
        m2=draw(any_float),
        minimum=None if extremes is None else extremes[0],
        maximum=None if extremes is None else extremes[1],
        sample_values=np.asarray(draw(st.lists(any_float, min_size=size, max_size=size)), float),
        sample_priorities=np.asarray(
            draw(st.lists(st.integers(0, 2**64 - 1), min_size=size, max_size=size)), np.uint64
        ),
    )


@FAST
@given(packable_numeric(), st.booleans())
def test_a_numeric_summary_round_trips_exactly_through_its_packed_form(summary, layout):
    data = json.loads(json.dumps(to_packed(summary, layout=layout), allow_nan=False))
    assert data["encoding"] == "packed" and isinstance(data["counts"], str)
    again = summary_from_packed(data, None if layout else summary.layout)
    assert again == summary
    assert again.digest() == summary.digest()
    for got, sent in (
        (again.counts, summary.counts),
        (again.sample_values, summary.sample_values),
        (again.sample_priorities, summary.sample_priorities),
    ):
        assert got.dtype == sent.dtype and got.tobytes() == sent.tobytes()  # bit for bit
    assert summary_from_dict(data, summary.layout) == summary


@FAST
@given(counts_of, st.integers(0, 2**40), st.lists(st.text(max_size=5), max_size=10))
def test_a_categorical_summary_round_trips_exactly_through_its_packed_form(counts, missing, unseen):
    layout = CategoricalLayout(tuple("abc"[: max(len(counts) - 1, 0)]), complete=False)
    summary = CategoricalSummary(layout, np.asarray(counts, np.int64), missing, tuple(unseen))
    data = json.loads(json.dumps(to_packed(summary, layout=True)))
    again = summary_from_packed(data)
    assert again == summary and again.digest() == summary.digest()
    assert summary_from_dict(data, layout) == summary


@pytest.mark.parametrize(
    ("text", "why"),
    [("AAAA!AAAAAA=", "base64"), ("AAAAAAAAAAA", "base64"), ("AAAAAA==", "multiple of 8")],
)
def test_packed_counts_that_are_not_whole_base64_int64_are_refused(text, why):
    layout = CategoricalLayout(("a",))
    summary = CategoricalSummary(layout, np.asarray([1, 2], np.int64), 0, ())
    data = {**to_packed(summary), "counts": text}
    with pytest.raises(ValueError, match=why):
        summary_from_packed(data, layout)


def test_digest_changes_with_the_data():
    layout = _layout()
    a = NumericSummary.build(np.array([0.1, 0.2]), layout)
    b = NumericSummary.build(np.array([0.1, 0.3]), layout)
    assert a.digest() != b.digest()
    assert len(a.digest()) == 64


def test_reference_layout_uses_quantiles_with_fine_tails_for_continuous_data():
    reference = np.random.default_rng(3).normal(size=100_000)
    layout = NumericLayout.from_reference(reference, n_bins=100)
    assert not layout.discrete
    ordered = np.sort(reference)
    assert layout.edges[0] == ordered[0] and layout.edges[-1] == ordered[-1]
    assert ordered[49_999] in layout.edges  # the median: ceil(0.5 n)-th value
    assert len(layout.edges) > 101  # tail quantiles added


def test_bounded_sample_is_bounded_and_merges_to_the_whole_sample():
    layout = NumericLayout.from_reference(np.arange(1000.0), sample_size=16)
    data = np.random.default_rng(1).normal(size=5000)
    keys = np.arange(5000, dtype=np.uint64)
    whole = NumericSummary.build(data, layout, row_keys=keys)
    parts = [
        NumericSummary.build(data[i : i + 700], layout, row_keys=keys[i : i + 700])
        for i in range(0, 5000, 700)
    ]
    merged = merge_all(parts)
    assert whole.sample_values.size == 16
    assert_numeric_equal(merged, whole)


def test_merging_different_layouts_is_refused():
    a = NumericSummary.build(np.ones(3), _layout(0))
    b = NumericSummary.build(np.ones(3), _layout(1))
    with pytest.raises(ValueError, match="different layouts"):
        merge(a, b)


def test_object_values_that_are_not_numbers_count_as_invalid():
    values = np.array([1, "2.5", "abc", None, float("nan")], dtype=object)
    summary = NumericSummary.build(values, _layout())
    assert (summary.count, summary.missing, summary.invalid) == (2, 3, 1)


def _categorical(values: list[str | None], layout: CategoricalLayout) -> CategoricalSummary:
    return CategoricalSummary.build(np.asarray(values, dtype=object), layout)


@FAST
@given(labels, labels, labels)
def test_categorical_merge_is_associative_and_equals_the_concatenation(x, y, z):
    layout = CategoricalLayout.from_reference(np.array(list("abcde")), max_categories=4)
    a, b, c = (_categorical(v, layout) for v in (x, y, z))
    left, right = merge(merge(a, b), c), merge(a, merge(b, c))
    assert left == right
    assert left == _categorical(x + y + z, layout)
    assert merge(a, b) == merge(b, a)


@FAST
@given(labels)
def test_categorical_summary_counts_and_round_trip(values):
    layout = CategoricalLayout.from_reference(np.array(list("aabbc")))
    summary = _categorical(values, layout)
    present = [v for v in values if v is not None]
    assert summary.missing == len(values) - len(present)
    for i, category in enumerate(layout.categories):
        assert summary.counts[i] == present.count(category)
    assert summary.other == sum(v not in "abc" for v in present)
    again = summary_from_dict(json.loads(json.dumps(summary.to_dict(), allow_nan=False)))
    assert again == summary and again.digest() == summary.digest()


def test_categorical_layout_keeps_the_most_frequent_and_says_when_it_truncated():
    values = np.array(["a"] * 5 + ["b"] * 3 + ["c"] * 3 + ["d"])
    layout = CategoricalLayout.from_reference(values, max_categories=2)
    assert layout.categories == ("a", "b") and not layout.complete
    assert CategoricalLayout.from_reference(values).complete


def test_merge_all_of_many_hourly_summaries_equals_one_build():
    layout = _layout()
    data = np.random.default_rng(5).normal(size=7200)
    keys = np.arange(7200, dtype=np.uint64)
    hours = [
        NumericSummary.build(
            data[h * 10 : (h + 1) * 10], layout, row_keys=keys[h * 10 : (h + 1) * 10]
        )
        for h in range(720)
    ]
    assert_numeric_equal(merge_all(hours), NumericSummary.build(data, layout, row_keys=keys))


many_labels = st.lists(
    st.one_of(
        st.sampled_from(["a", "b", "c", "z", "y", "", "é", "x" * 20]),
        st.text(max_size=3),
        st.none(),
        st.just(float("nan")),
    ),
    max_size=80,
)


@FAST
@given(many_labels, st.lists(st.integers(min_value=0, max_value=80), max_size=6))
def test_categorical_summaries_of_many_slices_equal_one_build_per_slice(values, cuts):
    layout = CategoricalLayout.from_reference(np.array(list("aabbc")), max_categories=2)
    edges = sorted({0, len(values), *[c for c in cuts if c <= len(values)]})
    bounds = list(itertools.pairwise(edges))
    array = np.asarray(values, dtype=object)
    built = categorical_summaries(array, bounds, layout)
    assert built is not None and len(built) == len(bounds)
    for (start, end), summary in zip(bounds, built, strict=True):
        expected = CategoricalSummary.build(array[start:end], layout)
        assert summary.to_dict() == expected.to_dict()
        assert summary.digest() == expected.digest()


def test_categorical_summaries_leave_non_string_values_to_the_per_slice_build():
    layout = CategoricalLayout.from_reference(np.array(list("ab")))
    mixed = np.asarray(["a", 1, 1.0, True, None], dtype=object)
    assert categorical_summaries(mixed, [(0, 5)], layout) is None


# --- base64 of packed arrays: the fast decoder is never more lenient than strict binascii -----

B64_TEXT = st.one_of(
    st.binary(max_size=40).map(lambda raw: base64.b64encode(raw).decode()),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefgh0123456789+/=-_ \n*é", max_size=16),
)


@FAST
@given(raw=st.binary(max_size=80).map(lambda raw: raw[: len(raw) - len(raw) % 8]))
def test_packed_base64_round_trips_whole_items(raw):

    assert bytes_of_b64(base64.b64encode(raw).decode()) == raw


@settings(max_examples=400, deadline=None)
@given(text=B64_TEXT)
def test_packed_base64_accepts_only_what_strict_binascii_accepts(text):
    try:
        decoded = bytes_of_b64(text, itemsize=1)
    except ValueError:
        return
    assert decoded == binascii.a2b_base64(text, strict_mode=True)


def test_packed_base64_refuses_what_is_not_strict_base64():
    for text in ("AAA", "AA=A", "A A=", "AAAA\n", "AA==AA==", "é", "AAAA=", b"AAAA"):
        with pytest.raises(ValueError):
            bytes_of_b64(text, itemsize=1)
