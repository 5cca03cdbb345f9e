"""The figures of a run directory (into the folder the caller names, ``RUN_DIR/figures``),
drawn from its saved state and metrics.

:func:`make_run_figures` draws a spiking-network run (:mod:`brian_stdp.run`),
:func:`make_ann_figures` a Keras baseline run (:mod:`brian_stdp.ann`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from brian_stdp.plots.network import plot_patch_fields, plot_receptive_fields, plot_theta
from brian_stdp.plots.results import plot_accuracy, plot_confusion, plot_per_class
from brian_stdp.plots.theme import save_figure


def make_run_figures(folder, trained: dict, metrics: dict, patches: dict | None = None) -> list:
    """Draw every figure of a finished spiking-network run into ``folder``.

    ``receptive_fields.png`` (per filter and location for a patch layout) and
    ``theta.png`` (when ``trained`` holds them),
    ``confusion.png``, ``per_class_accuracy.png`` and, for more than one
    evaluation, ``accuracy.png``.

    Parameters
    ----------
    folder : path
        Where the figures go (created if missing): a run's ``RUN_DIR/figures``.
    trained : dict of str to ndarray
        The contents of ``state.npz`` (``weights`` (n_input, n_neurons),
        ``theta`` (n_neurons,) in volts, ``image_shape`` (2,)).
    metrics : dict
        The contents of ``metrics.json``.
    patches : dict, optional
        The output layer's patch layout: ``corners`` (n_locations, 2) and ``kernel``
        (2,), as :func:`~brian_stdp.plots.network.plot_patch_fields` takes them.

    Returns
    -------
    list of Path
        The files written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []

    def save(axes, name):
        path = folder / name
        save_figure(axes.figure, path)
        written.append(path)

    if "weights" in trained and patches:
        save(plot_patch_fields(trained["weights"], tuple(trained["image_shape"]),
                               patches["corners"], tuple(patches["kernel"]), n_max=100),
             "receptive_fields.png")
    elif "weights" in trained:
        save(plot_receptive_fields(trained["weights"], tuple(trained["image_shape"])),
             "receptive_fields.png")
    n_test = metrics["test_images"]
    save(plot_confusion(np.array(metrics["confusion_matrix"]), n_images=n_test),
         "confusion.png")
    save(plot_per_class(np.array(metrics["per_class_accuracy"], dtype=float)),
         "per_class_accuracy.png")
    if len(metrics["history"]) > 1:
        save(plot_accuracy(metrics["history"]), "accuracy.png")
    if "theta" in trained:
        save(plot_theta(trained["theta"]), "theta.png")
    return written


def make_ann_figures(folder, metrics: dict) -> list:
    """Draw ``accuracy.png``, ``confusion.png`` and ``per_class_accuracy.png`` of an ANN run.

    Parameters
    ----------
    folder : path
        Where the figures go (created if missing): the run's ``RUN_DIR/figures``.
    metrics : dict
        The contents of the run's ``metrics.json``
        (see :func:`brian_stdp.ann.baseline.train`); ``accuracy.png`` shows its
        ``accuracy_train`` and ``accuracy_test`` after every epoch.

    Returns
    -------
    list of Path
        The files written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    history = [{key: value for key, value in entry.items()
                if key in ("images_seen", "accuracy_train", "accuracy_test")}
               for entry in metrics["history"]]
    for name, axes in (
            ("accuracy.png", plot_accuracy(history)),
            ("confusion.png", plot_confusion(np.array(metrics["confusion_matrix"]),
                                             n_images=metrics["test_images"])),
            ("per_class_accuracy.png",
             plot_per_class(np.array(metrics["per_class_accuracy"], dtype=float)))):
        save_figure(axes.figure, folder / name)
        written.append(folder / name)
    return written
