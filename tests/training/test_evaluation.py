"""Tests of brian_stdp.training.evaluation against small hand-computed examples."""

import dataclasses
import json

import numpy as np
import pytest

from brian_stdp.training.evaluation import (Assignment, accuracy, all_activity, assign_labels,
                                            confusion_matrix, evaluate, last_winner_labels,
                                            neuron_usage, per_class_accuracy,
                                            predict_by_top_neuron, proportion_weighting)

pytestmark = pytest.mark.codegen_independent

N_CLASSES = 3

# Training images: 6 images (two per class) x 5 neurons.
# Neuron 0 prefers class 0, neuron 1 class 1, neuron 2 ties classes 1 and 2,
# neuron 3 prefers class 2, neuron 4 never spikes.
TRAIN_COUNTS = np.array(
    [
        [4, 0, 0, 0, 0],  # class 0
        [2, 0, 1, 1, 0],  # class 0
        [0, 3, 1, 0, 0],  # class 1
        [0, 1, 1, 0, 0],  # class 1
        [1, 0, 2, 3, 0],  # class 2
        [1, 0, 0, 1, 0],  # class 2
    ]
)
TRAIN_LABELS = np.array([0, 0, 1, 1, 2, 2])

EXPECTED_RATES = np.array(
    [
        [3.0, 0.0, 1.0],
        [0.0, 2.0, 0.0],
        [0.5, 1.0, 1.0],
        [0.5, 0.0, 2.0],
        [0.0, 0.0, 0.0],
    ]
)
EXPECTED_PROPORTIONS = np.array(
    [
        [0.75, 0.0, 0.25],
        [0.0, 1.0, 0.0],
        [0.2, 0.4, 0.4],
        [0.2, 0.0, 0.8],
        [0.0, 0.0, 0.0],
    ]
)
EXPECTED_NEURON_LABELS = np.array([0, 1, 1, 2, -1])

# Test images: a silent image, an image where only the unlabelled neuron spikes,
# and two ordinary images.
TEST_COUNTS = np.array(
    [
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 5],
        [1, 0, 0, 2, 0],
        [0, 2, 2, 0, 0],
    ]
)
TEST_LABELS = np.array([0, 1, 2, 2])


@pytest.fixture
def assignment():
    return assign_labels(TRAIN_COUNTS, TRAIN_LABELS, N_CLASSES)


def test_assign_labels_rates_proportions_and_labels(assignment):
    np.testing.assert_allclose(assignment.rates, EXPECTED_RATES)
    np.testing.assert_allclose(assignment.proportions, EXPECTED_PROPORTIONS)
    np.testing.assert_array_equal(assignment.labels, EXPECTED_NEURON_LABELS)
    assert assignment.labels.dtype == np.int64
    assert assignment.rates.dtype == np.float64
    assert assignment.proportions.dtype == np.float64
    assert (assignment.n_neurons, assignment.n_classes) == (5, 3)


def test_assign_labels_accepts_float_counts():
    result = assign_labels(TRAIN_COUNTS.astype(np.float32), TRAIN_LABELS.astype(np.uint8), 3)
    np.testing.assert_allclose(result.rates, EXPECTED_RATES)
    np.testing.assert_array_equal(result.labels, EXPECTED_NEURON_LABELS)


def test_assign_labels_class_without_images_has_zero_rate():
    result = assign_labels(TRAIN_COUNTS, TRAIN_LABELS, 4)
    np.testing.assert_allclose(result.rates[:, :3], EXPECTED_RATES)
    np.testing.assert_array_equal(result.rates[:, 3], [0.0, 0.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(result.proportions[:, :3], EXPECTED_PROPORTIONS)
    np.testing.assert_array_equal(result.labels, EXPECTED_NEURON_LABELS)


def test_assign_labels_tie_goes_to_lowest_class():
    counts = np.array([[2, 1], [2, 1], [0, 1]])
    result = assign_labels(counts, np.array([2, 1, 0]), 3)
    np.testing.assert_allclose(result.rates, [[0.0, 2.0, 2.0], [1.0, 1.0, 1.0]])
    np.testing.assert_array_equal(result.labels, [1, 0])


def test_assignment_is_frozen_and_read_only(assignment):
    with pytest.raises(dataclasses.FrozenInstanceError):
        assignment.labels = np.zeros(5, dtype=np.int64)
    with pytest.raises(ValueError):
        assignment.rates[0, 0] = 1.0


def test_assignment_rejects_inconsistent_shapes():
    with pytest.raises(ValueError, match="rates"):
        Assignment(labels=[0, 1], rates=np.zeros((3, 2)), proportions=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="proportions"):
        Assignment(labels=[0, 1], rates=np.zeros((2, 2)), proportions=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="Assignment.labels"):
        Assignment(labels=[0, 2], rates=np.zeros((2, 2)), proportions=np.zeros((2, 2)))


def test_all_activity_on_training_images(assignment):
    # Image 5 scores 1 for classes 0 and 2: the tie goes to class 0.
    predictions = all_activity(TRAIN_COUNTS, assignment, N_CLASSES)
    np.testing.assert_array_equal(predictions, [0, 0, 1, 1, 2, 0])
    assert predictions.dtype == np.int64


def test_all_activity_silent_images_predict_minus_one(assignment):
    predictions = all_activity(TEST_COUNTS, assignment, N_CLASSES)
    np.testing.assert_array_equal(predictions, [-1, -1, 2, 1])


def test_all_activity_class_without_neurons_scores_zero():
    only_class_1 = Assignment(
        labels=[1, 1], rates=[[0.0, 1.0, 0.0]] * 2, proportions=[[0.0, 1.0, 0.0]] * 2
    )
    predictions = all_activity(np.array([[2, 0], [0, 0]]), only_class_1, 3)
    np.testing.assert_array_equal(predictions, [1, -1])


def test_proportion_weighting_on_training_images(assignment):
    # Image 5: class 0 scores 1 * 0.75, class 2 scores 1 * 0.8, so class 2 wins.
    predictions = proportion_weighting(TRAIN_COUNTS, assignment, N_CLASSES)
    np.testing.assert_array_equal(predictions, [0, 0, 1, 1, 2, 2])
    assert predictions.dtype == np.int64


def test_proportion_weighting_silent_images_predict_minus_one(assignment):
    predictions = proportion_weighting(TEST_COUNTS, assignment, N_CLASSES)
    np.testing.assert_array_equal(predictions, [-1, -1, 2, 1])


def test_proportion_weighting_divides_by_neurons_per_class(assignment):
    # Class 1 has two neurons: (1 * 1.0 + 4 * 0.4) / 2 = 1.3 beats class 0's 1 * 0.75 = 0.75
    # but loses to class 2's 2 * 0.8 = 1.6.
    predictions = proportion_weighting(np.array([[1, 1, 4, 2, 0]]), assignment, N_CLASSES)
    np.testing.assert_array_equal(predictions, [2])
    predictions = proportion_weighting(np.array([[1, 1, 4, 1, 0]]), assignment, N_CLASSES)
    np.testing.assert_array_equal(predictions, [1])


def test_last_winner_labels_later_wins_overwrite_earlier():
    winners = np.array([2, 0, 2, -1, 1, 0])
    labels = np.array([1, 3, 4, 0, 2, 5])
    result = last_winner_labels(winners, labels, 4)
    np.testing.assert_array_equal(result, [5, 2, 4, -1])
    assert result.dtype == np.int64


def test_last_winner_labels_without_wins():
    np.testing.assert_array_equal(last_winner_labels([-1, -1], [0, 1], 3), [-1, -1, -1])


def test_neuron_usage_splits_the_spikes_by_training_wins():
    # Neurons 0 and 2 won training images; 1 and 3 never did.
    winners = np.array([2, -1, 0, 2])
    counts = np.array([[1, 6, 0, 0], [0, 2, 1, 0]])
    usage = neuron_usage(winners, counts)
    assert usage == {"never_won": 2, "never_won_spike_share": 0.8,
                     "top_neuron_spike_share": 0.8}
    assert all(type(value) in (int, float) for value in usage.values())


def test_neuron_usage_without_wins_or_spikes():
    usage = neuron_usage([], np.zeros((3, 5), dtype=np.uint16))
    assert usage == {"never_won": 5, "never_won_spike_share": 0.0,
                     "top_neuron_spike_share": 0.0}


def test_neuron_usage_rejects_a_winner_outside_the_layer():
    with pytest.raises(ValueError, match=r"winners must be in -1\.\.1"):
        neuron_usage([0, 2], np.ones((1, 2)))


def test_predict_by_top_neuron():
    counts = np.array([[0, 3, 3, 1], [0, 0, 0, 0], [5, 1, 0, 0], [0, 0, 0, 2]])
    neuron_labels = np.array([2, 1, 0, -1])
    predictions = predict_by_top_neuron(counts, neuron_labels)
    # Row 0 ties neurons 1 and 2: neuron 1 wins. Row 1 is silent. Row 3's top
    # neuron has no label.
    np.testing.assert_array_equal(predictions, [1, -1, 2, -1])
    assert predictions.dtype == np.int64


def test_accuracy():
    assert accuracy([-1, -1, 2, 1], TEST_LABELS) == 0.25
    assert accuracy(TRAIN_LABELS, TRAIN_LABELS) == 1.0


def test_confusion_matrix():
    matrix = confusion_matrix([0, 0, 1, 1, 2, 0], TRAIN_LABELS, N_CLASSES)
    np.testing.assert_array_equal(matrix, [[2, 0, 0], [0, 2, 0], [1, 0, 1]])
    assert matrix.dtype == np.int64


def test_confusion_matrix_leaves_out_missing_predictions():
    matrix = confusion_matrix([-1, -1, 2, 1], TEST_LABELS, N_CLASSES)
    np.testing.assert_array_equal(matrix, [[0, 0, 0], [0, 0, 0], [0, 1, 1]])


def test_per_class_accuracy():
    result = per_class_accuracy([-1, -1, 2, 1], TEST_LABELS, N_CLASSES)
    np.testing.assert_array_equal(result, [0.0, 0.0, 0.5])
    assert result.dtype == np.float64


def test_per_class_accuracy_is_nan_for_class_without_images():
    result = per_class_accuracy([0, 0, 1, 1, 2, 0], TRAIN_LABELS, 4)
    np.testing.assert_array_equal(result, [1.0, 1.0, 0.5, np.nan])


def test_evaluate_on_training_images(assignment):
    result = evaluate(TRAIN_COUNTS, TRAIN_LABELS, assignment, N_CLASSES)
    assert result == {
        "n_images": 6,
        "accuracy_all_activity": pytest.approx(5 / 6),
        "accuracy_proportion_weighting": 1.0,
        "per_class_accuracy": [1.0, 1.0, 0.5],
        "confusion_matrix": [[2, 0, 0], [0, 2, 0], [1, 0, 1]],
        "silent_fraction": 0.0,
        "mean_spikes_per_image": pytest.approx(22 / 6),
    }


def test_evaluate_is_json_serialisable():
    # A fourth class without images has per-class accuracy None, not nan.
    four_classes = assign_labels(TRAIN_COUNTS, TRAIN_LABELS, 4)
    result = evaluate(TEST_COUNTS, TEST_LABELS, four_classes, 4)
    assert json.loads(json.dumps(result, allow_nan=False)) == {
        "n_images": 4,
        "accuracy_all_activity": 0.25,
        "accuracy_proportion_weighting": 0.25,
        "per_class_accuracy": [0.0, 0.0, 0.5, None],
        "confusion_matrix": [[0, 0, 0, 0], [0, 0, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0]],
        "silent_fraction": 0.25,
        "mean_spikes_per_image": 3.0,
    }


@pytest.mark.parametrize(
    ("counts", "labels", "message"),
    [
        (TRAIN_COUNTS[0], TRAIN_LABELS, "2-D"),
        (TRAIN_COUNTS, TRAIN_LABELS[:5], "6 images but labels has 5"),
        (TRAIN_COUNTS, np.array([0, 0, 1, 1, 2, 3]), r"labels must be in 0\.\.2"),
        (TRAIN_COUNTS, np.array([0, 0, 1, 1, 2, -1]), r"labels must be in 0\.\.2"),
        (TRAIN_COUNTS, TRAIN_LABELS.astype(float), "integers"),
        (-TRAIN_COUNTS, TRAIN_LABELS, "non-negative"),
    ],
)
def test_assign_labels_rejects_bad_input(counts, labels, message):
    with pytest.raises(ValueError, match=message):
        assign_labels(counts, labels, N_CLASSES)


@pytest.mark.parametrize("n_classes", [0, 2.5])
def test_assign_labels_rejects_bad_n_classes(n_classes):
    with pytest.raises(ValueError, match="n_classes"):
        assign_labels(TRAIN_COUNTS, TRAIN_LABELS, n_classes)


@pytest.mark.parametrize("vote", [all_activity, proportion_weighting])
def test_votes_reject_mismatched_shapes(assignment, vote):
    with pytest.raises(ValueError, match="4 neurons"):
        vote(TRAIN_COUNTS[:, :4], assignment, N_CLASSES)
    with pytest.raises(ValueError, match="n_classes=4"):
        vote(TRAIN_COUNTS, assignment, 4)


def test_evaluate_rejects_mismatched_labels(assignment):
    with pytest.raises(ValueError, match="6 images but labels has 4"):
        evaluate(TRAIN_COUNTS, TEST_LABELS, assignment, N_CLASSES)


def test_last_winner_labels_rejects_bad_input():
    with pytest.raises(ValueError, match=r"winners must be in -1\.\.3"):
        last_winner_labels([0, 4], [1, 1], 4)
    with pytest.raises(ValueError, match="2 images but labels has 1"):
        last_winner_labels([0, 1], [1], 4)


def test_predict_by_top_neuron_rejects_mismatched_labels():
    with pytest.raises(ValueError, match="3 entries but spike_counts has 4 neurons"):
        predict_by_top_neuron(np.zeros((2, 4)), [0, 1, 2])


def test_metrics_reject_bad_input():
    with pytest.raises(ValueError, match="3 images but labels has 2"):
        accuracy([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match="zero images"):
        accuracy([], [])
    with pytest.raises(ValueError, match=r"predictions must be in -1\.\.2"):
        confusion_matrix([0, 3], [0, 1], 3)
    with pytest.raises(ValueError, match=r"labels must be in 0\.\.2"):
        per_class_accuracy([0, 1], [0, -1], 3)
