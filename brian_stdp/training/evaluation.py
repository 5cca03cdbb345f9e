"""Label neurons from their spike counts, classify images by vote, and score the result.

An unsupervised network learns features, not classes. After (or during) training,
each excitatory neuron is given the class it responds to most, and an image is
then classified by a vote of the neurons that spiked for it. This module holds
that labelling, the voting rules, and the usual metrics, in pure NumPy.

Conventions shared by every function:

* ``spike_counts`` is an ``(n_images, n_neurons)`` array of non-negative spike
  counts (integer or float) of the excitatory neurons, one row per image.
* ``labels`` are integer class indices in ``0 .. n_classes - 1``.
* The label ``-1`` means "none": a neuron that never spiked has no class, and an
  image that drew no vote gets the prediction ``-1``, which never equals a true
  label and so always counts as wrong.
* Ties are broken towards the lowest index (class or neuron).
"""

import dataclasses
import operator

import numpy as np

# The labelling rules a run can ask for, named in the model files' vocabulary: ``standard``
# (assign_labels with the all-activity and proportion-weighting votes) and ``last-winner``
# (the paper's last_winner_labels with predict_by_top_neuron, in addition).
from brian_stdp.model.files import LABELLINGS

__all__ = [
    "Assignment",
    "assign_labels",
    "all_activity",
    "proportion_weighting",
    "last_winner_labels",
    "predict_by_top_neuron",
    "accuracy",
    "confusion_matrix",
    "per_class_accuracy",
    "evaluate",
    "neuron_usage",
    "few_wins",
    "LABELLINGS",
]

NO_LABEL = -1
"""Label of a neuron without a class, and prediction for an image without a vote."""



@dataclasses.dataclass(frozen=True, eq=False)
class Assignment:
    """Class labels of the excitatory neurons, with the rates they were derived from.

    The arrays are stored as read-only copies.

    Attributes
    ----------
    labels : numpy.ndarray, shape (n_neurons,), int64
        Class of each neuron, or -1 for a neuron that never spiked.
    rates : numpy.ndarray, shape (n_neurons, n_classes), float64
        Mean spike count of each neuron per image of each class (spikes/image).
    proportions : numpy.ndarray, shape (n_neurons, n_classes), float64
        ``rates`` normalised to sum 1 over classes for each neuron; all zeros for
        a neuron that never spiked.
    """

    labels: np.ndarray
    rates: np.ndarray
    proportions: np.ndarray

    def __post_init__(self):
        labels = _read_only(np.array(self.labels, dtype=np.int64))
        rates = _read_only(np.array(self.rates, dtype=np.float64))
        proportions = _read_only(np.array(self.proportions, dtype=np.float64))
        if labels.ndim != 1:
            raise ValueError(
                f"Assignment.labels must be 1-D (n_neurons,), got shape {labels.shape}"
            )
        if rates.ndim != 2 or rates.shape[0] != labels.size:
            raise ValueError(
                f"Assignment.rates must have shape (n_neurons, n_classes) with "
                f"n_neurons={labels.size}, got {rates.shape}"
            )
        if proportions.shape != rates.shape:
            raise ValueError(
                f"Assignment.proportions must have the shape of rates {rates.shape}, "
                f"got {proportions.shape}"
            )
        _check_range(labels, NO_LABEL, rates.shape[1] - 1, "Assignment.labels")
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "rates", rates)
        object.__setattr__(self, "proportions", proportions)

    @property
    def n_neurons(self):
        """int: Number of labelled (or unlabelled) neurons."""
        return self.labels.size

    @property
    def n_classes(self):
        """int: Number of classes."""
        return self.rates.shape[1]


def assign_labels(spike_counts, labels, n_classes):
    """Give each neuron the class whose images make it spike most, on average.

    Parameters
    ----------
    spike_counts : array_like, shape (n_images, n_neurons), int or float
        Spike count of each neuron for each image.
    labels : array_like, shape (n_images,), int
        True class of each image, in ``0 .. n_classes - 1``.
    n_classes : int
        Number of classes. A class without images gets rate 0 for every neuron.

    Returns
    -------
    Assignment
        ``labels[i]`` is the class with the highest mean count of neuron ``i``
        (lowest class on ties), or -1 if the neuron never spiked on these images.

    Raises
    ------
    ValueError
        If the shapes disagree, a count is negative or not finite, or a label is
        out of range.
    """
    n_classes = _check_n_classes(n_classes)
    counts = _as_counts(spike_counts)
    labels = _as_labels(labels, n_classes, "labels")
    _check_same_length(counts, labels, "spike_counts", "labels")

    one_hot = _one_hot(labels, n_classes)  # (n_images, n_classes)
    images_per_class = one_hot.sum(axis=0)
    totals = counts.T @ one_hot  # (n_neurons, n_classes)
    rates = np.divide(
        totals, images_per_class, out=np.zeros_like(totals), where=images_per_class > 0
    )

    rate_sums = rates.sum(axis=1, keepdims=True)
    proportions = np.divide(rates, rate_sums, out=np.zeros_like(rates), where=rate_sums > 0)

    neuron_labels = np.argmax(rates, axis=1).astype(np.int64)
    neuron_labels[counts.sum(axis=0) == 0] = NO_LABEL
    return Assignment(labels=neuron_labels, rates=rates, proportions=proportions)


def all_activity(spike_counts, assignment, n_classes):
    """Classify images by the mean spike count of each class's neurons.

    The score of class ``c`` is the mean count over the neurons assigned to ``c``
    (0 for a class without neurons); the prediction is the class with the highest
    score (lowest class on ties).

    Parameters
    ----------
    spike_counts : array_like, shape (n_images, n_neurons), int or float
        Spike count of each neuron for each image.
    assignment : Assignment
        Neuron labels, e.g. from :func:`assign_labels`.
    n_classes : int
        Number of classes; must match ``assignment``.

    Returns
    -------
    numpy.ndarray, shape (n_images,), int64
        Predicted class of each image, or -1 where no assigned neuron spiked.
    """
    counts, n_classes = _check_votes(spike_counts, assignment, n_classes)
    membership = _one_hot(assignment.labels, n_classes)  # (n_neurons, n_classes)
    scores = _mean_over_members(counts @ membership, membership)
    return _argmax_or_none(scores)


def proportion_weighting(spike_counts, assignment, n_classes):
    """Classify images by spike counts weighted with each neuron's class proportions.

    The score of class ``c`` is the sum, over the neurons assigned to ``c``, of
    ``count * assignment.proportions[:, c]``, divided by the number of neurons
    assigned to ``c`` (0 for a class without neurons). The prediction is the class
    with the highest score (lowest class on ties).

    Parameters
    ----------
    spike_counts : array_like, shape (n_images, n_neurons), int or float
        Spike count of each neuron for each image.
    assignment : Assignment
        Neuron labels and proportions, e.g. from :func:`assign_labels`.
    n_classes : int
        Number of classes; must match ``assignment``.

    Returns
    -------
    numpy.ndarray, shape (n_images,), int64
        Predicted class of each image, or -1 where every score is zero.
    """
    counts, n_classes = _check_votes(spike_counts, assignment, n_classes)
    membership = _one_hot(assignment.labels, n_classes)  # (n_neurons, n_classes)
    scores = _mean_over_members(counts @ (membership * assignment.proportions), membership)
    return _argmax_or_none(scores)


def last_winner_labels(winners, labels, n_neurons):
    """Label each neuron with the class of the last training image it won.

    This is the labelling of Wolff et al. (2022): with winner-take-all dynamics
    one neuron "wins" each image, and later wins overwrite earlier ones.

    Parameters
    ----------
    winners : array_like, shape (n_images,), int
        Index of the neuron that won each image, in training order; -1 where no
        neuron won.
    labels : array_like, shape (n_images,), int
        True class of each image (non-negative).
    n_neurons : int
        Number of neurons.

    Returns
    -------
    numpy.ndarray, shape (n_neurons,), int64
        Class of each neuron, or -1 for a neuron that never won.
    """
    n_neurons = _check_positive_int(n_neurons, "n_neurons")
    winners = _as_int_vector(winners, "winners")
    labels = _as_int_vector(labels, "labels")
    _check_same_length(winners, labels, "winners", "labels")
    _check_range(winners, NO_LABEL, n_neurons - 1, "winners")
    _check_range(labels, 0, None, "labels")

    neuron_labels = np.full(n_neurons, NO_LABEL, dtype=np.int64)
    won = winners != NO_LABEL
    # np.unique on the reversed sequence finds each neuron's first occurrence
    # there, which is its last win in training order.
    neurons, first_from_end = np.unique(winners[won][::-1], return_index=True)
    neuron_labels[neurons] = labels[won][::-1][first_from_end]
    return neuron_labels


def predict_by_top_neuron(spike_counts, neuron_labels):
    """Classify each image by the label of its most active neuron.

    Parameters
    ----------
    spike_counts : array_like, shape (n_images, n_neurons), int or float
        Spike count of each neuron for each image.
    neuron_labels : array_like, shape (n_neurons,), int
        Class of each neuron, -1 for none (e.g. from :func:`last_winner_labels`).

    Returns
    -------
    numpy.ndarray, shape (n_images,), int64
        Label of the neuron with the most spikes (lowest neuron on ties); -1 for
        an image without spikes or whose top neuron has no label.
    """
    counts = _as_counts(spike_counts)
    neuron_labels = _as_int_vector(neuron_labels, "neuron_labels")
    if neuron_labels.size != counts.shape[1]:
        raise ValueError(
            f"neuron_labels has {neuron_labels.size} entries but spike_counts has "
            f"{counts.shape[1]} neurons (columns)"
        )
    _check_range(neuron_labels, NO_LABEL, None, "neuron_labels")
    if counts.shape[1] == 0:
        return np.full(counts.shape[0], NO_LABEL, dtype=np.int64)
    predictions = neuron_labels[np.argmax(counts, axis=1)]
    predictions[counts.sum(axis=1) == 0] = NO_LABEL
    return predictions


def accuracy(predictions, labels):
    """Fraction of images whose prediction equals the true label.

    Parameters
    ----------
    predictions : array_like, shape (n_images,), int
        Predicted classes; -1 (no prediction) counts as wrong.
    labels : array_like, shape (n_images,), int
        True classes.

    Returns
    -------
    float
        Accuracy in [0, 1].

    Raises
    ------
    ValueError
        If the lengths differ or there are no images.
    """
    predictions = _as_int_vector(predictions, "predictions")
    labels = _as_int_vector(labels, "labels")
    _check_same_length(predictions, labels, "predictions", "labels")
    if labels.size == 0:
        raise ValueError("accuracy is undefined for zero images")
    return float(np.mean(predictions == labels))


def confusion_matrix(predictions, labels, n_classes):
    """Count images per (true class, predicted class) pair.

    Parameters
    ----------
    predictions : array_like, shape (n_images,), int
        Predicted classes in ``-1 .. n_classes - 1``. Images predicted -1 are in no
        column, so a row can sum to less than the number of images of its class.
    labels : array_like, shape (n_images,), int
        True classes in ``0 .. n_classes - 1``.
    n_classes : int
        Number of classes.

    Returns
    -------
    numpy.ndarray, shape (n_classes, n_classes), int64
        ``matrix[true, predicted]`` image counts.
    """
    n_classes = _check_n_classes(n_classes)
    predictions = _as_labels(predictions, n_classes, "predictions", allow_none=True)
    labels = _as_labels(labels, n_classes, "labels")
    _check_same_length(predictions, labels, "predictions", "labels")
    predicted = predictions != NO_LABEL
    cells = labels[predicted] * n_classes + predictions[predicted]
    counts = np.bincount(cells, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes).astype(np.int64)


def per_class_accuracy(predictions, labels, n_classes):
    """Accuracy over the images of each true class.

    Parameters
    ----------
    predictions : array_like, shape (n_images,), int
        Predicted classes in ``-1 .. n_classes - 1``; -1 counts as wrong.
    labels : array_like, shape (n_images,), int
        True classes in ``0 .. n_classes - 1``.
    n_classes : int
        Number of classes.

    Returns
    -------
    numpy.ndarray, shape (n_classes,), float64
        Accuracy in [0, 1] per class; nan for a class without images.
    """
    n_classes = _check_n_classes(n_classes)
    predictions = _as_labels(predictions, n_classes, "predictions", allow_none=True)
    labels = _as_labels(labels, n_classes, "labels")
    _check_same_length(predictions, labels, "predictions", "labels")
    images = np.bincount(labels, minlength=n_classes)
    correct = np.bincount(labels[predictions == labels], minlength=n_classes)
    return np.divide(
        correct, images, out=np.full(n_classes, np.nan), where=images > 0, dtype=np.float64
    )


def evaluate(spike_counts, labels, assignment, n_classes):
    """Score a labelled network on a set of images, as a JSON-serialisable summary.

    Parameters
    ----------
    spike_counts : array_like, shape (n_images, n_neurons), int or float
        Spike count of each neuron for each image to classify.
    labels : array_like, shape (n_images,), int
        True class of each image, in ``0 .. n_classes - 1``.
    assignment : Assignment
        Neuron labels, e.g. from :func:`assign_labels` on training images.
    n_classes : int
        Number of classes; must match ``assignment``.

    Returns
    -------
    dict
        Built from Python ``int``, ``float``, ``list`` and ``None`` only:

        ``n_images`` : int
        ``accuracy_all_activity`` : float, in [0, 1]
        ``accuracy_proportion_weighting`` : float, in [0, 1]
        ``per_class_accuracy`` : list of float or None, length n_classes
            All-activity accuracy per class; None for a class without images.
        ``confusion_matrix`` : list of lists of int, n_classes x n_classes
            All-activity predictions, rows true class, columns predicted.
        ``silent_fraction`` : float
            Fraction of images that drew no spike from any neuron.
        ``mean_spikes_per_image`` : float
            Mean total spike count per image (spikes/image).

    Raises
    ------
    ValueError
        If the shapes disagree, a label is out of range, or there are no images.
    """
    counts, n_classes = _check_votes(spike_counts, assignment, n_classes)
    labels = _as_labels(labels, n_classes, "labels")
    _check_same_length(counts, labels, "spike_counts", "labels")
    if labels.size == 0:
        raise ValueError("cannot evaluate on zero images")

    by_activity = all_activity(counts, assignment, n_classes)
    by_proportion = proportion_weighting(counts, assignment, n_classes)
    spikes_per_image = counts.sum(axis=1)
    return {
        "n_images": int(labels.size),
        "accuracy_all_activity": accuracy(by_activity, labels),
        "accuracy_proportion_weighting": accuracy(by_proportion, labels),
        "per_class_accuracy": [
            None if np.isnan(value) else float(value)
            for value in per_class_accuracy(by_activity, labels, n_classes)
        ],
        "confusion_matrix": confusion_matrix(by_activity, labels, n_classes).tolist(),
        "silent_fraction": float(np.mean(spikes_per_image == 0)),
        "mean_spikes_per_image": float(np.mean(spikes_per_image)),
    }


def neuron_usage(winners, spike_counts):
    """Which neurons fire for a set of images: those that won training images, or others.

    A neuron that never won a training image (never fired an image's last spike)
    learned little, and an adaptive threshold mostly decays. A large share of the spikes
    from such neurons means that the vote rests on neurons that learned little, and that
    their inhibition silences the trained ones.

    Parameters
    ----------
    winners : array_like, shape (n_train_images,), int
        The neuron that won each training image, -1 where none did (as for
        :func:`last_winner_labels`).
    spike_counts : array_like, shape (n_images, n_neurons), int or float
        Spike counts of the images to describe (e.g. the test images).

    Returns
    -------
    dict
        Built from Python ``int`` and ``float`` only:

        ``never_won`` : int
            Neurons that won no training image.
        ``never_won_spike_share`` : float, in [0, 1]
            Fraction of all the spikes in ``spike_counts`` that those neurons fired
            (0 without any spike).
        ``top_neuron_spike_share`` : float, in [0, 1]
            Fraction fired by the single most active neuron.

    Raises
    ------
    ValueError
        If a winner is not a neuron index of ``spike_counts`` or -1.
    """
    counts = _as_counts(spike_counts)
    n_neurons = counts.shape[1]
    winners = _as_int_vector(winners, "winners")
    _check_range(winners, NO_LABEL, n_neurons - 1, "winners")
    won = np.zeros(n_neurons, dtype=bool)
    won[winners[winners != NO_LABEL]] = True
    per_neuron = counts.sum(axis=0)
    total = float(per_neuron.sum())
    return {
        "never_won": int(np.sum(~won)),
        "never_won_spike_share": float(per_neuron[~won].sum() / total) if total else 0.0,
        "top_neuron_spike_share": float(per_neuron.max() / total) if total else 0.0,
    }


def few_wins(winners, n_neurons, below):
    """The neurons that won fewer than ``below`` training images.

    They learned little; in a large layer after one epoch many of them have a low
    adaptive threshold, fire first on test images and silence the trained neurons
    (runs/NOTES.md, "Twice the learning rates at 6,400 neurons"). The runner's
    ``--silence-below`` keeps them silent in the label and test phases.

    Parameters
    ----------
    winners : array_like, shape (n_train_images,), int
        The neuron that won each training image, -1 where none did (as for
        :func:`neuron_usage`).
    n_neurons : int
        Neurons of the layer.
    below : int
        At least 0; 0 selects no neuron, 1 those that never won.

    Returns
    -------
    ndarray, shape (n_neurons,), bool
        True for each neuron with fewer than ``below`` wins.

    Raises
    ------
    ValueError
        If a winner is not a neuron index or -1, or ``below`` is negative.
    """
    n_neurons = _check_positive_int(n_neurons, "n_neurons")
    below = operator.index(below)
    if below < 0:
        raise ValueError(f"below must be at least 0, got {below}")
    winners = _as_int_vector(winners, "winners")
    _check_range(winners, NO_LABEL, n_neurons - 1, "winners")
    wins = np.bincount(winners[winners != NO_LABEL], minlength=n_neurons)
    return wins < below


def _one_hot(labels, n_classes):
    """Float64 (len(labels), n_classes) indicator matrix; rows of label -1 are all zero."""
    return (labels[:, np.newaxis] == np.arange(n_classes)).astype(np.float64)


def _mean_over_members(summed_scores, membership):
    """Divide (n_images, n_classes) summed scores by the neurons per class (0 if none)."""
    members = membership.sum(axis=0)
    return np.divide(
        summed_scores, members, out=np.zeros_like(summed_scores), where=members > 0
    )


def _argmax_or_none(scores):
    """Per-row argmax of (n_images, n_classes) scores; -1 for an all-zero row."""
    predictions = np.argmax(scores, axis=1).astype(np.int64)
    predictions[~np.any(scores > 0, axis=1)] = NO_LABEL
    return predictions


def _check_votes(spike_counts, assignment, n_classes):
    """Validate the inputs of a voting rule; return float64 counts and n_classes."""
    n_classes = _check_n_classes(n_classes)
    if not isinstance(assignment, Assignment):
        raise ValueError(f"assignment must be an Assignment, got {type(assignment).__name__}")
    if assignment.n_classes != n_classes:
        raise ValueError(
            f"n_classes={n_classes} but the assignment was made for "
            f"{assignment.n_classes} classes"
        )
    counts = _as_counts(spike_counts)
    if counts.shape[1] != assignment.n_neurons:
        raise ValueError(
            f"spike_counts has {counts.shape[1]} neurons (columns) but the assignment "
            f"labels {assignment.n_neurons} neurons"
        )
    return counts, n_classes


def _as_counts(spike_counts):
    """Return spike counts as a float64 (n_images, n_neurons) array, or raise ValueError."""
    counts = np.asarray(spike_counts)
    if counts.ndim != 2:
        raise ValueError(
            f"spike_counts must be 2-D (n_images, n_neurons), got shape {counts.shape}"
        )
    if not (np.issubdtype(counts.dtype, np.integer) or np.issubdtype(counts.dtype, np.floating)):
        raise ValueError(f"spike_counts must be integer or float, got dtype {counts.dtype}")
    counts = counts.astype(np.float64)
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError("spike_counts must be finite and non-negative")
    return counts


def _as_int_vector(values, name):
    """Return a 1-D integer array as int64, or raise ValueError naming it."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must be integers, got dtype {array.dtype}")
    return array.astype(np.int64)


def _as_labels(values, n_classes, name, allow_none=False):
    """Return a 1-D int64 array of classes in 0..n_classes-1 (or -1 if allow_none)."""
    array = _as_int_vector(values, name)
    _check_range(array, NO_LABEL if allow_none else 0, n_classes - 1, name)
    return array


def _check_range(array, low, high, name):
    """Raise ValueError unless low <= array <= high (high None: no upper bound)."""
    if array.size == 0:
        return
    smallest, largest = int(array.min()), int(array.max())
    if smallest < low or (high is not None and largest > high):
        allowed = f">= {low}" if high is None else f"in {low}..{high}"
        raise ValueError(f"{name} must be {allowed}, got values from {smallest} to {largest}")


def _check_same_length(first, second, first_name, second_name):
    """Raise ValueError unless the two arrays have the same length along axis 0."""
    if len(first) != len(second):
        raise ValueError(
            f"{first_name} has {len(first)} images but {second_name} has {len(second)}"
        )


def _check_n_classes(n_classes):
    """Return n_classes as a positive int, or raise ValueError."""
    return _check_positive_int(n_classes, "n_classes")


def _check_positive_int(value, name):
    """Return value as a positive int, or raise ValueError naming it."""
    try:
        number = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if number < 1:
        raise ValueError(f"{name} must be positive, got {number}")
    return number


def _read_only(array):
    """Mark a freshly copied array read-only and return it."""
    array.flags.writeable = False
    return array
