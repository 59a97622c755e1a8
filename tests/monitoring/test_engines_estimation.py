"""CBPE and DLE on synthetic data whose calibration is known, against scikit-learn metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from monitoring.engines import estimation as est


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _binary_day(rng: np.random.Generator, n: int, mean: float = 0.0, spread: float = 1.5):
    """Rows whose true P(y = 1 | x) is sigmoid(2x); the model scores sigmoid(3x): right
    ranking, over-confident scores that the reference calibration has to fix."""
    x = rng.normal(mean, spread, n)
    y = rng.random(n) < _sigmoid(2 * x)
    return _sigmoid(3 * x), y


@pytest.fixture(scope="module")
def calibration() -> est.Calibration:
    rng = np.random.default_rng(1)
    scores, y = _binary_day(rng, 5_000)
    return est.calibration_fit(scores, y)


def test_isotonic_calibration_is_used_only_where_it_lowers_the_error(calibration):
    assert calibration.used
    assert calibration.error_calibrated < calibration.error_raw
    rng = np.random.default_rng(2)
    x = rng.normal(0, 1.5, 5_000)
    calibrated = _sigmoid(2 * x)  # already calibrated: isotonic only adds noise
    kept = est.calibration_fit(calibrated, rng.random(5_000) < calibrated)
    assert not kept.used
    np.testing.assert_array_equal(kept.apply(calibrated), calibrated)


def test_calibration_error_matches_a_direct_computation():
    p = np.array([0.05, 0.15, 0.15, 0.95])
    y = np.array([0, 1, 0, 1])
    # bins 0 (0.05 vs 0), 1 (two rows, 0.3 vs 1), 9 (0.95 vs 1)
    assert est.calibration_error(p, y) == pytest.approx((0.05 + 0.7 + 0.05) / 4)


def test_binary_estimates_cover_realised_metrics_on_95_percent_of_days(calibration):
    rng = np.random.default_rng(3)
    covered = {name: 0 for name in ("accuracy", "precision", "recall", "f1", "roc_auc")}
    days = 60
    for _ in range(days):
        scores, y = _binary_day(rng, 500)
        hours = np.array_split(np.arange(500), 24)
        counts = est.merge_counts(
            est.binary_counts(scores[h], calibration=calibration, threshold=0.5) for h in hours
        )
        estimate = est.binary_estimate(counts)
        predicted = scores >= 0.5
        realised = {
            "accuracy": skm.accuracy_score(y, predicted),
            "precision": skm.precision_score(y, predicted),
            "recall": skm.recall_score(y, predicted),
            "f1": skm.f1_score(y, predicted),
            "roc_auc": skm.roc_auc_score(y, scores),
        }
        for name, value in realised.items():
            band = estimate[name]
            covered[name] += band["lower"] <= value <= band["upper"]
    for name, hits in covered.items():
        assert hits / days >= 0.95, (name, hits)


def test_merged_hours_equal_the_whole_day(calibration):
    rng = np.random.default_rng(4)
    scores, _ = _binary_day(rng, 1_000)
    whole = est.binary_counts(scores, calibration=calibration, threshold=0.4)
    parts = est.merge_counts(
        est.binary_counts(part, calibration=calibration, threshold=0.4)
        for part in np.array_split(scores, 7)
    )
    assert parts["n"] == whole["n"] and parts["predicted_positive"] == whole["predicted_positive"]
    for key in ("tp", "fp", "fn", "tn", "var_pp", "var_pn"):
        assert parts[key] == pytest.approx(whole[key])
    np.testing.assert_allclose(parts["auc_pos"], whole["auc_pos"])


def test_expected_auc_of_known_probabilities_matches_sklearn_on_expected_labels():
    # Two bins' worth of scores with probability 0 and 1: the expected labels are certain.
    counts = est.binary_counts(
        np.array([0.0, 0.0, 1.0, 1.0, 0.0, 1.0]), calibration=est.Calibration(), threshold=0.5
    )
    estimate = est.binary_estimate(counts)
    assert estimate["roc_auc"]["value"] == pytest.approx(1.0)
    assert estimate["accuracy"]["value"] == pytest.approx(1.0)


def test_covariate_shift_drop_is_detected_before_labels(calibration):
    """Inputs move towards the decision boundary: accuracy falls with no change of P(y | x).
    The estimate's band lies below the reference accuracy."""
    rng = np.random.default_rng(5)
    ref_scores, ref_y = _binary_day(rng, 5_000)
    reference_accuracy = skm.accuracy_score(ref_y, ref_scores >= 0.5)
    scores, y = _binary_day(rng, 2_000, spread=0.4)
    estimate = est.binary_estimate(
        est.binary_counts(scores, calibration=calibration, threshold=0.5)
    )
    realised = skm.accuracy_score(y, scores >= 0.5)
    assert realised < reference_accuracy - 0.1
    assert estimate["accuracy"]["upper"] < reference_accuracy
    assert estimate["accuracy"]["lower"] <= realised <= estimate["accuracy"]["upper"]


def _multiclass(rng: np.random.Generator, n: int, spread: float = 1.0):
    """Three classes with logits linear in one feature; the model predicts the argmax and
    sends its (calibrated) probability."""
    x = rng.normal(0, spread, n)
    logits = np.stack([-2 * x, np.zeros(n), 2 * x], axis=1)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    truth = np.array([rng.choice(3, p=row) for row in probs]).astype(str)
    predicted = probs.argmax(axis=1).astype(str)
    return predicted, probs.max(axis=1), truth


def test_multiclass_estimates_cover_realised_metrics():
    rng = np.random.default_rng(6)
    predicted, scores, truth = _multiclass(rng, 6_000)
    reference = est.multiclass_reference_fit(predicted, truth, scores)
    days, covered = 40, {"accuracy": 0, "precision": 0, "recall": 0, "f1": 0}
    for _ in range(days):
        predicted, scores, truth = _multiclass(rng, 600)
        counts = est.multiclass_counts(predicted, scores, reference=reference)
        estimate = est.multiclass_estimate(counts, reference=reference)
        realised = {
            "accuracy": skm.accuracy_score(truth, predicted),
            "precision": skm.precision_score(truth, predicted, average="macro", zero_division=0),
            "recall": skm.recall_score(truth, predicted, average="macro", zero_division=0),
            "f1": skm.f1_score(truth, predicted, average="macro", zero_division=0),
        }
        for name, value in realised.items():
            covered[name] += estimate[name]["lower"] <= value <= estimate[name]["upper"]
    for name, hits in covered.items():
        assert hits / days >= 0.95, (name, hits)


def _regression(rng: np.random.Generator, n: int, mean: float = 0.0):
    """y = 2a + noise whose spread grows with |a|; the model predicts 2a (right on average):
    its error depends on where the inputs are, which DLE has to learn."""
    a = rng.normal(mean, 1.0, n)
    colour = rng.choice(["red", "blue"], n)
    noise = rng.normal(0, 0.2 + 0.5 * np.abs(a) + (colour == "red") * 0.3, n)
    frame = pd.DataFrame({"a": a, "colour": colour})
    return frame, 2 * a, 2 * a + noise


def test_dle_estimates_cover_realised_mae_and_rmse_and_see_a_shift():
    rng = np.random.default_rng(7)
    frame, prediction, truth = _regression(rng, 3_000)
    model = est.loss_model_fit(
        frame, prediction, truth, features=["a", "colour"], categorical=["colour"]
    )
    days, covered = 40, {"mae": 0, "rmse": 0}
    for _ in range(days):
        rows, predicted, actual = _regression(rng, 500)
        counts = est.merge_counts(
            est.regression_counts(rows.iloc[h], predicted[h], model=model)
            for h in np.array_split(np.arange(500), 3)
        )
        estimate = est.regression_estimate(counts, model=model)
        realised = {
            "mae": skm.mean_absolute_error(actual, predicted),
            "rmse": skm.root_mean_squared_error(actual, predicted),
        }
        for name, value in realised.items():
            covered[name] += estimate[name]["lower"] <= value <= estimate[name]["upper"]
    assert covered["mae"] / days >= 0.95 and covered["rmse"] / days >= 0.95, covered
    reference_mae = skm.mean_absolute_error(truth, prediction)
    rows, predicted, actual = _regression(rng, 2_000, mean=1.0)  # inputs where errors are larger
    estimate = est.regression_estimate(
        est.regression_counts(rows, predicted, model=model), model=model
    )
    assert estimate["mae"]["lower"] > reference_mae
    assert (
        estimate["mae"]["lower"]
        <= skm.mean_absolute_error(actual, predicted)
        <= estimate["mae"]["upper"]
    )


CLASSES = ("0", "1", "2")


def _multiclass_scores(rng: np.random.Generator, n: int, spread: float = 1.0):
    """Three classes whose true probabilities are softmax(-2x, 0, 2x); the model sends every
    class's probability as softmax(-3x, 0, 3x) (right ranking, over-confident: the reference
    calibration of each class has to fix it), its argmax and top score."""
    x = rng.normal(0, spread, n)
    true_logits = np.stack([-2 * x, np.zeros(n), 2 * x], axis=1)
    true_p = np.exp(true_logits) / np.exp(true_logits).sum(axis=1, keepdims=True)
    model_logits = 1.5 * true_logits
    sent = np.exp(model_logits) / np.exp(model_logits).sum(axis=1, keepdims=True)
    u = rng.random(n)[:, None]
    truth = (u > np.cumsum(true_p, axis=1)).sum(axis=1).astype(str)
    predicted = sent.argmax(axis=1).astype(str)
    columns = {k: sent[:, i] for i, k in enumerate(CLASSES)}
    return predicted, sent.max(axis=1), truth, columns, sent


@pytest.fixture(scope="module")
def class_reference() -> est.MulticlassReference:
    rng = np.random.default_rng(8)
    predicted, scores, truth, columns, _ = _multiclass_scores(rng, 6_000)
    return est.multiclass_reference_fit(predicted, truth, scores, class_scores=columns)


def test_each_class_is_calibrated_one_vs_rest_on_the_reference(class_reference):
    assert set(class_reference.class_calibrations) == set(CLASSES)
    # The sent scores are over-confident: isotonic lowers every class's calibration error.
    for calibration in class_reference.class_calibrations.values():
        assert calibration.used
        assert calibration.error_calibrated < calibration.error_raw


def test_multiclass_roc_auc_estimate_covers_sklearns_macro_ovr_auc(class_reference):
    rng = np.random.default_rng(9)
    days, covered = 40, 0
    for _ in range(days):
        predicted, scores, truth, columns, sent = _multiclass_scores(rng, 600)
        hours = np.array_split(np.arange(600), 24)
        counts = est.merge_counts(
            est.multiclass_counts(
                predicted[h],
                scores[h],
                reference=class_reference,
                class_scores={k: v[h] for k, v in columns.items()},
            )
            for h in hours
        )
        band = est.multiclass_estimate(counts, reference=class_reference)["roc_auc"]
        realised = skm.roc_auc_score(
            truth, sent, multi_class="ovr", average="macro", labels=list(CLASSES)
        )
        covered += band["lower"] <= realised <= band["upper"]
    assert covered / days >= 0.95, covered


def test_class_auc_counts_of_merged_hours_equal_the_whole_day(class_reference):
    rng = np.random.default_rng(10)
    _, _, _, columns, _ = _multiclass_scores(rng, 1_000)
    whole = est.class_auc_counts(columns, 1_000, reference=class_reference)
    parts = est.merge_counts(
        est.class_auc_counts(
            {k: v[h] for k, v in columns.items()}, h.size, reference=class_reference
        )
        for h in np.array_split(np.arange(1_000), 7)
    )
    assert parts["n"] == whole["n"] == 1_000
    for k in CLASSES:
        np.testing.assert_allclose(parts["classes"][k]["pos"], whole["classes"][k]["pos"])
        np.testing.assert_allclose(parts["classes"][k]["neg"], whole["classes"][k]["neg"])


def test_expected_class_auc_of_certain_probabilities_matches_sklearn():
    # Probabilities of 0 and 1 make the expected labels certain: the expected AUC is the
    # realised one of those labels.
    sent = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 0, 1], [0, 1, 0]], float)
    truth = sent.argmax(axis=1).astype(str)
    columns = {k: sent[:, i] for i, k in enumerate(CLASSES)}
    reference = est.multiclass_reference_fit(truth, truth, sent.max(axis=1), class_scores=columns)
    counts = est.multiclass_counts(
        truth, sent.max(axis=1), reference=reference, class_scores=columns
    )
    band = est.multiclass_estimate(counts, reference=reference)["roc_auc"]
    expected = skm.roc_auc_score(truth, sent, multi_class="ovr", average="macro")
    assert band["value"] == pytest.approx(expected)


def test_no_multiclass_roc_auc_without_per_class_scores(class_reference):
    rng = np.random.default_rng(11)
    predicted, scores, truth, columns, _ = _multiclass_scores(rng, 600)
    plain = est.multiclass_reference_fit(predicted, truth, scores)
    counts = est.multiclass_counts(predicted, scores, reference=plain, class_scores=columns)
    assert "roc_auc" not in est.multiclass_estimate(counts, reference=plain)
    # An hour without them makes the merged day's AUC unknowable: none is estimated.
    with_scores = est.multiclass_counts(
        predicted[:300],
        scores[:300],
        reference=class_reference,
        class_scores={k: v[:300] for k, v in columns.items()},
    )
    without = est.multiclass_counts(predicted[300:], scores[300:], reference=class_reference)
    merged = est.merge_counts([with_scores, without])
    assert "roc_auc" not in est.multiclass_estimate(merged, reference=class_reference)
    assert "roc_auc" in est.multiclass_estimate(with_scores, reference=class_reference)


def test_class_scores_are_columns_only_when_every_row_carries_them():
    rows = [{"a": 0.2, "b": 0.8}, {"b": 0.6, "c": 0.4}]
    columns = est.complete_class_scores(pd.Series(rows), classes=["d"])
    assert sorted(columns) == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(columns["b"], [0.8, 0.6])
    np.testing.assert_array_equal(columns["c"], [0.0, 0.4])
    assert est.complete_class_scores(pd.Series([rows[0], None])) is None
    assert est.complete_class_scores(None) is None
