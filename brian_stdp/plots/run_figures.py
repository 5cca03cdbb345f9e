"""The figures of a run directory, drawn from its saved state and metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from brian_stdp.plots import axes as plots
from brian_stdp.training.rundir import FIGURES


def make_run_figures(run_dir, trained: dict, metrics: dict) -> list:
    """Draw every figure of a finished run into ``RUN_DIR/figures``.

    Parameters
    ----------
    run_dir : path
    trained : dict of str to ndarray
        The contents of ``state.npz`` (``weights`` (n_input, n_neurons),
        ``theta`` (n_neurons,) in volts, ``image_shape`` (2,)).
    metrics : dict
        The contents of ``metrics.json``.

    Returns
    -------
    list of Path
        The files written.
    """
    folder = Path(run_dir) / FIGURES
    folder.mkdir(parents=True, exist_ok=True)
    written = []

    def save(axes, name):
        path = folder / name
        plots.save_figure(axes.figure, path)
        written.append(path)

    if "weights" in trained:
        save(plots.plot_receptive_fields(trained["weights"], tuple(trained["image_shape"])),
             "receptive_fields.png")
    n_test = metrics["test_images"]
    save(plots.plot_confusion(np.array(metrics["confusion_matrix"]), n_images=n_test),
         "confusion.png")
    save(plots.plot_per_class(np.array(metrics["per_class_accuracy"], dtype=float)),
         "per_class_accuracy.png")
    if len(metrics["history"]) > 1:
        save(plots.plot_accuracy(metrics["history"]), "accuracy.png")
    if "theta" in trained:
        save(plots.plot_theta(trained["theta"]), "theta.png")
    return written
