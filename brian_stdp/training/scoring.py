"""A run's scores, from what the trainer recorded: the neurons' labels, each epoch's test
result, and the contents of ``state.npz`` and ``metrics.json``.

Plain functions of the trainer's records; nothing here simulates. Shared arguments:

records : dict
    ``records["train"]`` holds, for every training image of every epoch in a row
    (shape ``(epochs * n_train,)``), its output ``spikes``, its ``presentations`` and its
    ``winner`` (neuron of its last winning spike, -1: none); ``records["label"]`` and
    ``records["test"]`` hold the spike ``counts`` of each image (shape
    ``(n_images, n_neurons)``) and its ``presentations``. A run that trains a finished
    run's network further also has ``records[EARLIER_TRAINING]["winner"]``: the winners of
    that network's earlier training (:mod:`brian_stdp.training.continuation`).
images : RunImages
    The run's image selection (:func:`brian_stdp.training.selection.select_images`).
"""

from __future__ import annotations

import numpy as np

from brian_stdp.training import evaluation
from brian_stdp.training.selection import Phase, RunImages

#: State key of the adaptive thresholds (volt), saved as ``theta`` too.
THETA_KEY = "exc.theta"

#: Added to the adaptive threshold (volt) of a silenced neuron: far beyond any input's reach.
SILENCE = 1.0

#: The record kind of the winners of a network's training before this run (``winner``,
#: shape (epochs_before * n_train,)): :mod:`brian_stdp.training.continuation`.
EARLIER_TRAINING = "train_before"

#: Training images at each end of the run that ``metrics.json``'s activity figures average.
ACTIVITY_WINDOW = 1000


def label_assignment(records: dict, images: RunImages) -> evaluation.Assignment:
    """Each neuron's class from the label phase's spike counts (the standard labelling)."""
    labels = images.train_set.labels[images.label_idx]
    return evaluation.assign_labels(records["label"]["counts"], labels,
                                    images.train_set.n_classes)


def test_result(records: dict, images: RunImages, spec, epoch: int, labelling: str,
                n_neurons: int, silence_below: int = 0) -> dict:
    """The history row of a test phase: :func:`evaluation.evaluate` of its counts, the
    epoch and images seen (of the network's whole training: ``epoch`` is this run's, and
    a run that continues another counts ``images.epochs_before`` more), images the
    protocol gave up on, which neurons fired the test spikes
    (:func:`evaluation.neuron_usage`, against the training images won so far), the
    paper's last-winner evaluation when ``labelling`` is ``"last-winner"``, and for
    ``silence_below`` K > 0 how many neurons the phase kept silent
    (``silenced_neurons``, :func:`silenced_neurons`)."""
    rec = records["test"]
    labels = images.test_set.labels[images.test_idx]
    result = evaluation.evaluate(rec["counts"], labels, label_assignment(records, images),
                                 images.test_set.n_classes)
    protocol = spec.protocol
    gave_up = ((rec["presentations"] >= protocol.max_presentations)
               & (rec["counts"].sum(axis=1) < protocol.min_spikes))
    n_train = len(images.train_idx)
    trained = images.epochs_before + epoch  # epochs of the network's whole training
    result.update(epoch=trained, images_seen=trained * n_train, gave_up=int(np.sum(gave_up)),
                  neuron_usage=evaluation.neuron_usage(
                      winners_until(records, epoch, n_train), rec["counts"]))
    if labelling == "last-winner":
        result.update(last_winner_evaluation(records, images, n_neurons, epoch))
    if silence_below:
        result["silenced_neurons"] = int(silenced_neurons(records, images, epoch,
                                                          silence_below, n_neurons).sum())
    return result


def training_winners(records: dict) -> np.ndarray:
    """The neuron that won each training image so far, all epochs in a row, -1 where none
    did; shape (epochs * n_train,); empty for a run without training."""
    if "train" not in records:
        return np.empty(0, dtype=np.int64)
    return records["train"]["winner"].astype(np.int64)


def winners_until(records: dict, epoch: int, n_train: int) -> np.ndarray:
    """The neuron that won each training image up to the end of epoch ``epoch`` of this
    run, the network's earlier training (``train_before``) first; -1 where none did."""
    earlier = records.get(EARLIER_TRAINING, {}).get("winner", np.empty(0, dtype=np.int64))
    return np.concatenate([np.asarray(earlier, dtype=np.int64),
                           training_winners(records)[:epoch * n_train]])


def silenced_neurons(records: dict, images: RunImages, epoch: int, below: int,
                     n_neurons: int) -> np.ndarray:
    """The neurons that the label and test phases of ``epoch`` keep silent: those that won
    fewer than ``below`` training images in the first ``epoch`` epochs, those of the
    network's earlier training included (:func:`winners_until`, :func:`evaluation.few_wins`);
    shape (n_neurons,), bool (all False for ``below`` 0)."""
    return evaluation.few_wins(winners_until(records, epoch, len(images.train_idx)),
                               n_neurons, below)


def silence(state: dict, silenced: np.ndarray) -> dict:
    """A copy of the network ``state`` in which the ``silenced`` neurons (bool, shape
    (n_neurons,)) cannot fire: their adaptive threshold raised by :data:`SILENCE`.
    ``state`` is left as it was."""
    if THETA_KEY not in state:
        raise KeyError(f"the network state has no adaptive threshold {THETA_KEY}")
    out = dict(state)
    out[THETA_KEY] = np.where(silenced, state[THETA_KEY] + SILENCE, state[THETA_KEY])
    return out


def last_winner_labels(records: dict, images: RunImages, n_neurons: int,
                       epochs: int) -> np.ndarray:
    """Each neuron's label from the training images it won last (the paper's rule), over
    the first ``epochs`` epochs of this run (not the network's earlier training); shape
    (n_neurons,), -1 for a neuron that never won."""
    n = len(images.train_idx)
    winners = training_winners(records)[:epochs * n]
    labels = np.concatenate([images.train_set.labels[images.stream(Phase("train", e))[1]]
                             for e in range(1, epochs + 1)])
    return evaluation.last_winner_labels(winners, labels, n_neurons)


def last_winner_evaluation(records: dict, images: RunImages, n_neurons: int,
                           epoch: int) -> dict:
    """The paper's evaluation of the test counts (last-winner labels, most active neuron),
    as entries of a history row."""
    counts = records["test"]["counts"]
    labels = images.test_set.labels[images.test_idx]
    neuron_labels = last_winner_labels(records, images, n_neurons, epoch)
    predictions = evaluation.predict_by_top_neuron(counts, neuron_labels)
    n_classes = images.test_set.n_classes
    per_class = evaluation.per_class_accuracy(predictions, labels, n_classes)
    return {
        "accuracy_last_winner": evaluation.accuracy(predictions, labels),
        "labelled_neurons_last_winner": int(np.sum(neuron_labels >= 0)),
        "per_class_accuracy_last_winner": [None if np.isnan(v) else float(v)
                                           for v in per_class],
        "confusion_matrix_last_winner": evaluation.confusion_matrix(
            predictions, labels, n_classes).tolist(),
    }


def learned_synapses(spec) -> str | None:
    """Name of the synapses whose weights a run learns (saved as ``weights``): the
    normalised ones, else the STDP ones; None for a model with neither."""
    return spec.protocol.normalise or (spec.stdp.synapses if spec.stdp else None)


def trained_arrays(state: dict, records: dict, images: RunImages, spec, handles,
                   labelling: str, n_neurons: int, epochs: int, silence_below: int = 0) -> dict:
    """What ``state.npz`` holds: the final network state (``state/NAME``), the learned
    weight matrix ``weights`` (n_source, n_target), ``theta`` (n_neurons,) in volts, the
    neurons' labels with the rates and proportions they came from, and ``image_shape``;
    for ``silence_below`` K > 0, ``silenced`` (n_neurons,) bool: the neurons that the
    label and test phases kept silent (:func:`silenced_neurons`; ``theta`` is as trained).

    ``handles`` are the session's :class:`~brian_stdp.backends.network.NetworkHandles`
    (the synapse indices of the learned weights)."""
    assignment = label_assignment(records, images)
    syn_name = learned_synapses(spec)
    trained = {f"state/{key}": value for key, value in state.items()}
    if syn_name:
        synapses = spec.synapses[syn_name]
        pre, post = handles.synapse_indices[syn_name]
        weights = np.zeros((handles.size(synapses.source), handles.size(synapses.target)))
        weights[pre, post] = state[f"{syn_name}.w"]
        trained["weights"] = weights
    trained.update(assignment=assignment.labels, rates=assignment.rates,
                   proportions=assignment.proportions,
                   image_shape=np.array(images.train_set.shape))
    if THETA_KEY in state:
        trained["theta"] = state[THETA_KEY]
    if labelling == "last-winner":
        trained["assignment_last_winner"] = last_winner_labels(records, images, n_neurons,
                                                               epochs)
    if silence_below:
        trained["silenced"] = silenced_neurons(records, images, epochs, silence_below,
                                               n_neurons)
    return trained


def run_metrics(config, spec, images: RunImages, history: list, timing: dict,
                records: dict, labelling: str, neurons_requested: int) -> dict:
    """``metrics.json``: the last epoch's evaluation, the ``history`` of every test phase,
    the training activity over its first and last :data:`ACTIVITY_WINDOW` images, and
    ``timing`` with the training speed (images/s).

    ``epochs`` counts the network's whole training, as the history rows do
    (:func:`test_result`): for a run that continued another (``images.epochs_before`` E >
    0, recorded as ``epochs_before``), E more than this run's own."""
    before = images.epochs_before
    final = history[-1]
    train_rec = records["train"]
    spikes = train_rec["spikes"]
    n_window = min(ACTIVITY_WINDOW, len(spikes))
    metrics = {
        "model": spec.name, "neurons": config.neurons, "dataset": config.dataset,
        "train_images": len(images.train_idx), "epochs": before + config.epochs,
        **({"epochs_before": before} if before else {}),
        "label_images": len(images.label_idx), "test_images": len(images.test_idx),
        "scored_on": images.scored_on,
        "accuracy_all_activity": final["accuracy_all_activity"],
        "accuracy_proportion_weighting": final["accuracy_proportion_weighting"],
        "per_class_accuracy": final["per_class_accuracy"],
        "confusion_matrix": final["confusion_matrix"],
        "silent_test_fraction": final["silent_fraction"],
        **({"neuron_usage": final["neuron_usage"]} if "neuron_usage" in final else {}),
        **({"silenced_neurons": final["silenced_neurons"]}
           if "silenced_neurons" in final else {}),
        "history": history,
        "activity": {
            "spikes_per_image_first": float(spikes[:n_window].mean()),
            "spikes_per_image_last": float(spikes[-n_window:].mean()),
            "window_images": n_window,
            "shown_again_fraction": float(np.mean(train_rec["presentations"] > 1)),
            "mean_presentations": float(train_rec["presentations"].mean()),
            "max_presentations_reached": int(np.sum(
                train_rec["presentations"] >= spec.protocol.max_presentations)),
        },
        "labelled_neurons": int(np.sum(label_assignment(records, images).labels >= 0)),
        "labelling": labelling,
        **({"neurons_requested": neurons_requested}
           if neurons_requested != config.neurons else {}),
        "timing": timing,
        "train_images_per_second": images_per_second(timing, "train"),
    }
    if labelling == "last-winner":
        metrics["accuracy_last_winner"] = final["accuracy_last_winner"]
        metrics["labelled_neurons_last_winner"] = final["labelled_neurons_last_winner"]
    return metrics


def images_per_second(timing: dict, kind: str) -> float | None:
    """Simulation speed of the phases of one kind (``"train"``, ``"label"``, ``"test"``)
    over all their epochs, in images per second of simulation; None before any ran."""
    phases = [entry for name, entry in timing.items() if name.startswith(kind + "-")]
    seconds = sum(entry["seconds"] for entry in phases)
    return sum(entry["images"] for entry in phases) / seconds if seconds else None
