"""Matplotlib figures of training and evaluation results, in one shared style.

The functions draw on a given :class:`matplotlib.axes.Axes`, or on a new figure
when ``axes`` is None, and return the Axes they drew on. New figures are plain
:class:`matplotlib.figure.Figure` objects, not managed by pyplot: they need no GUI
backend (PNG files are rendered with Agg), so the module works on headless
machines and never changes the backend of a program that uses pyplot. To show a
figure in a window or notebook, create the Axes with pyplot and pass it in.
Save with :func:`save_figure`.

Units follow the rest of the package: spike times and thresholds arrive in SI
units (seconds, volts) and are shown in ms and mV; accuracies arrive as
fractions in [0, 1] and are shown in percent.
"""

import math
import os
import secrets
import sys
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure

__all__ = [
    "STYLE",
    "style",
    "plot_receptive_fields",
    "plot_confusion",
    "plot_accuracy",
    "plot_per_class",
    "plot_raster",
    "plot_theta",
    "save_figure",
]

OKABE_ITO = [
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
]
"""Colour-blind-safe palette of Okabe & Ito (2008)."""

STYLE = {
    "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "axes.grid": False,
    "font.size": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 1.5,
    "lines.markersize": 5,
    "figure.constrained_layout.use": True,
    "figure.figsize": (6.0, 4.5),
    "savefig.dpi": 150,
}
"""rcParams of the shared style: no top/right spines, readable fonts, constrained
layout and the Okabe-Ito colour cycle."""

PNG_DPI = 150
"""Resolution of the PNG files written by :func:`save_figure` (dots per inch)."""

TILE_GAP = 1
"""Width of the gap between receptive-field tiles (pixels)."""

GAP_COLOUR = "0.6"
"""Colour of the gaps and empty tiles in :func:`plot_receptive_fields` (grey)."""


def style():
    """Return a context manager that applies :data:`STYLE` to the figures made in it.

    Returns
    -------
    contextlib.AbstractContextManager
        ``matplotlib.rc_context(STYLE)``.
    """
    return matplotlib.rc_context(STYLE)


def plot_receptive_fields(weights, image_shape, axes=None, n_max=None, cmap="hot_r", **kwds):
    """Show each neuron's input weights as an image, tiled into one picture.

    Neuron ``k`` goes to row ``k // n_columns``, column ``k % n_columns`` of a
    near-square grid, with ``n_columns = ceil(sqrt(n_shown))``. Tiles are
    separated by a gap of :data:`TILE_GAP` pixels; gaps and empty tiles are grey.
    All tiles share one colour scale, shown by a colorbar.

    Parameters
    ----------
    weights : array_like, shape (n_input, n_neurons), float
        Synaptic weights from the input pixels to the neurons; column ``k`` is
        neuron ``k``'s weights over the pixels in row-major (C) order.
    image_shape : tuple of int
        ``(height, width)`` of the input image; ``height * width == n_input``.
    axes : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created when None.
    n_max : int, optional
        Show only the first ``n_max`` neurons.
    cmap : str or matplotlib.colors.Colormap
        Colour map of the weights.
    **kwds
        Passed to :meth:`matplotlib.axes.Axes.imshow` (e.g. ``vmin``, ``vmax``).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on; ``axes.images[0]`` holds the tiled image, of shape
        ``(n_rows * height + (n_rows - 1) * gap, n_columns * width + (n_columns - 1) * gap)``.
    """
    weights = np.asarray(weights, dtype=np.float64)
    height, width = image_shape
    if weights.ndim != 2 or weights.shape[0] != height * width:
        raise ValueError(
            f"weights must have shape (n_input, n_neurons) with n_input = "
            f"{height}*{width} = {height * width}, got {weights.shape}"
        )
    n_neurons = weights.shape[1]
    n_shown = n_neurons if n_max is None else min(n_max, n_neurons)
    if n_shown < 1:
        raise ValueError(f"no neurons to show (n_neurons={n_neurons}, n_max={n_max})")

    n_columns = math.ceil(math.sqrt(n_shown))
    n_rows = math.ceil(n_shown / n_columns)
    tiled = np.full(
        (n_rows * (height + TILE_GAP) - TILE_GAP, n_columns * (width + TILE_GAP) - TILE_GAP),
        np.nan,
    )
    for neuron in range(n_shown):
        top = (neuron // n_columns) * (height + TILE_GAP)
        left = (neuron % n_columns) * (width + TILE_GAP)
        tiled[top : top + height, left : left + width] = weights[:, neuron].reshape(height, width)

    colormap = matplotlib.colormaps.get_cmap(cmap).with_extremes(bad=GAP_COLOUR)
    with style():
        axes = _axes_or_new(axes, figsize=(6.0, 5.5))
        image = axes.imshow(tiled, cmap=colormap, interpolation="nearest", **kwds)
        axes.set_xticks([])
        axes.set_yticks([])
        axes.spines[:].set_visible(False)
        axes.set_title(f"Receptive fields ({n_shown} of {n_neurons} neurons)")
        axes.figure.colorbar(image, ax=axes, label="weight", shrink=0.8)
    return axes


def plot_confusion(
    confusion, axes=None, class_names=None, normalize=True, *, n_images=None, **kwds
):
    """Draw a confusion matrix as a heatmap with the values written in the cells.

    Parameters
    ----------
    confusion : array_like, shape (n_classes, n_classes), int
        Image counts, rows true class and columns predicted class (as returned by
        :func:`brian_stdp.training.evaluation.confusion_matrix`).
    axes : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created when None.
    class_names : sequence of str, optional
        Tick labels, one per class; default the class indices.
    normalize : bool
        If True, show each cell as a percentage of its row (true class) sum;
        otherwise show the counts.
    n_images : int, optional
        Number of images the matrix was computed from. Images without a
        prediction are in no cell, so by default the accuracy in the title is
        over the images in the matrix; pass ``n_images`` to count the others
        as wrong, as :func:`brian_stdp.training.evaluation.accuracy` does.
    **kwds
        Passed to :meth:`matplotlib.axes.Axes.imshow` (default ``cmap="Blues"``).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    confusion = np.asarray(confusion)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1]:
        raise ValueError(f"confusion must be a square 2-D matrix, got shape {confusion.shape}")
    n_classes = confusion.shape[0]
    tick_labels = _class_names(class_names, n_classes)
    total = confusion.sum() if n_images is None else n_images
    accuracy = np.trace(confusion) / total if total > 0 else math.nan

    if normalize:
        row_sums = confusion.sum(axis=1, keepdims=True)
        values = np.divide(
            100.0 * confusion, row_sums, out=np.zeros(confusion.shape), where=row_sums > 0
        )
        colour_label, top = "% of true class", 100.0
    else:
        values = confusion
        colour_label, top = "images", max(confusion.max(), 1)

    kwds.setdefault("cmap", "Blues")
    kwds.setdefault("vmin", 0)
    kwds.setdefault("vmax", top)
    with style():
        axes = _axes_or_new(axes, figsize=(5.5, 4.5))
        image = axes.imshow(values, **kwds)
        font_size = max(5.0, min(9.0, 90.0 / n_classes))
        for (row, column), value in np.ndenumerate(values):
            dark = image.norm(value) > 0.5
            axes.text(
                column,
                row,
                f"{value:.0f}",
                ha="center",
                va="center",
                fontsize=font_size,
                color="white" if dark else "black",
            )
        axes.spines[:].set_visible(False)
        axes.set_xticks(range(n_classes), tick_labels)
        axes.set_yticks(range(n_classes), tick_labels)
        axes.set_xlabel("predicted class")
        axes.set_ylabel("true class")
        axes.set_title(f"Accuracy {100 * accuracy:.1f}%")
        axes.figure.colorbar(image, ax=axes, label=colour_label, shrink=0.8)
    return axes


def plot_accuracy(history, axes=None, **kwds):
    """Plot accuracies against the number of training images seen.

    Parameters
    ----------
    history : sequence of dict
        One dict per evaluation, with key ``"images_seen"`` (int) and one or more
        keys starting with ``"accuracy"`` (float, fraction in [0, 1]), e.g.
        ``"accuracy_all_activity"``. Other keys are ignored. A key missing from
        some entries is drawn through the entries that have it.
    axes : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created when None.
    **kwds
        Passed to :meth:`matplotlib.axes.Axes.plot` for every line (default
        ``marker="o"``).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on, one line per accuracy key, y in percent (0-100).
    """
    if not history:
        raise ValueError("history is empty: nothing to plot")
    if any("images_seen" not in entry for entry in history):
        raise ValueError('every history entry needs an "images_seen" key')
    keys = [key for entry in history for key in entry if key.startswith("accuracy")]
    keys = list(dict.fromkeys(keys))  # unique, in order of first appearance
    if not keys:
        raise ValueError('history has no key starting with "accuracy"')

    kwds.setdefault("marker", "o")
    with style():
        axes = _axes_or_new(axes)
        for key in keys:
            entries = [entry for entry in history if key in entry]
            images_seen = [entry["images_seen"] for entry in entries]
            percent = [100.0 * entry[key] for entry in entries]
            axes.plot(images_seen, percent, label=_readable(key), **kwds)
        axes.set_ylim(0, 100)
        axes.set_xlabel("training images seen")
        axes.set_ylabel("accuracy (%)")
        axes.set_title("Accuracy during training")
        axes.legend()
    return axes


def plot_per_class(per_class, axes=None, class_names=None, **kwds):
    """Bar chart of the accuracy of each class.

    Parameters
    ----------
    per_class : array_like, shape (n_classes,), float
        Accuracy of each class as a fraction in [0, 1] (as returned by
        :func:`brian_stdp.training.evaluation.per_class_accuracy`); nan or None for a
        class without images, which gets no bar.
    axes : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created when None.
    class_names : sequence of str, optional
        Tick labels, one per class; default the class indices.
    **kwds
        Passed to :meth:`matplotlib.axes.Axes.bar`.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on, y in percent (0-100).
    """
    per_class = np.asarray(per_class, dtype=np.float64)
    if per_class.ndim != 1:
        raise ValueError(f"per_class must be 1-D (n_classes,), got shape {per_class.shape}")
    n_classes = per_class.size
    tick_labels = _class_names(class_names, n_classes)
    with style():
        axes = _axes_or_new(axes)
        axes.bar(range(n_classes), np.nan_to_num(100.0 * per_class), **kwds)
        axes.set_xticks(range(n_classes), tick_labels)
        axes.set_ylim(0, 100)
        axes.set_xlabel("class")
        axes.set_ylabel("accuracy (%)")
        axes.set_title("Accuracy per class")
    return axes


def plot_raster(spike_indices, spike_times, axes=None, **kwds):
    """Spike raster: one dot per spike, neuron index against time.

    Parameters
    ----------
    spike_indices : array_like, shape (n_spikes,), int
        Index of the neuron of each spike.
    spike_times : array_like, shape (n_spikes,), float
        Time of each spike (s); shown in ms.
    axes : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created when None.
    **kwds
        Passed to :meth:`matplotlib.axes.Axes.plot` (defaults ``marker="."``,
        ``linestyle="none"``, ``markersize=2``).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    spike_indices = np.asarray(spike_indices)
    spike_times = np.asarray(spike_times, dtype=np.float64)
    if spike_indices.ndim != 1 or spike_indices.shape != spike_times.shape:
        raise ValueError(
            f"spike_indices and spike_times must be 1-D of equal length, got shapes "
            f"{spike_indices.shape} and {spike_times.shape}"
        )
    kwds.setdefault("marker", ".")
    kwds.setdefault("linestyle", "none")
    kwds.setdefault("markersize", 2)
    with style():
        axes = _axes_or_new(axes)
        axes.plot(1e3 * spike_times, spike_indices, **kwds)
        axes.set_xlabel("time (ms)")
        axes.set_ylabel("neuron index")
        axes.set_title(f"Spikes ({spike_times.size})")
    return axes


def plot_theta(theta, axes=None, **kwds):
    """Histogram of the neurons' adaptive threshold increments.

    Parameters
    ----------
    theta : array_like, shape (n_neurons,), float
        Adaptive threshold of each neuron (V); shown in mV.
    axes : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created when None.
    **kwds
        Passed to :meth:`matplotlib.axes.Axes.hist` (defaults ``bins=30``,
        ``edgecolor="white"``).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    theta_mv = 1e3 * np.asarray(theta, dtype=np.float64).ravel()
    if theta_mv.size == 0:
        raise ValueError("theta is empty: nothing to plot")
    kwds.setdefault("bins", 30)
    kwds.setdefault("edgecolor", "white")
    with style():
        axes = _axes_or_new(axes)
        axes.hist(theta_mv, **kwds)
        axes.set_xlabel("theta (mV)")
        axes.set_ylabel("neurons")
        axes.set_title(f"Adaptive thresholds (mean {theta_mv.mean():.2f} mV)")
    return axes


def save_figure(fig, path):
    """Save a figure as a PNG file atomically, then close it.

    The PNG is written at :data:`PNG_DPI` dots per inch to a temporary file in
    the destination folder, which then replaces ``path`` in one step, so a
    reader never sees a half-written file. The figure is closed (released by
    pyplot, if pyplot manages it) even when saving fails.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Figure to save, e.g. ``axes.figure`` of an Axes returned by a plot function.
    path : str or os.PathLike
        Destination file; its folder must exist.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "xb") as stream:
            fig.savefig(stream, format="png", dpi=PNG_DPI)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
        _close(fig)


def _axes_or_new(axes, figsize=None):
    """Return axes, or the Axes of a new (non-pyplot) figure in the current rcParams."""
    if axes is not None:
        return axes
    return Figure(figsize=figsize).add_subplot()


def _class_names(class_names, n_classes):
    """Return tick labels for n_classes classes, checking the length of class_names."""
    if class_names is None:
        return [str(index) for index in range(n_classes)]
    names = [str(name) for name in class_names]
    if len(names) != n_classes:
        raise ValueError(f"class_names has {len(names)} names for {n_classes} classes")
    return names


def _readable(key):
    """Legend label of a history key: "accuracy_all_activity" -> "all activity"."""
    label = key.removeprefix("accuracy").strip("_").replace("_", " ")
    return label or "accuracy"


def _close(fig):
    """Release a figure from pyplot, if pyplot is in use; other figures need nothing."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close(fig)
