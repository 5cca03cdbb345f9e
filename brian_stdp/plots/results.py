"""Classification results: accuracy during training, confusion matrix, accuracy per class.

The functions draw on a given :class:`matplotlib.axes.Axes`, or on a new figure
(see :func:`brian_stdp.plots.theme.axes_or_new`) when ``axes`` is None, and
return the Axes they drew on. Accuracies arrive as fractions in [0, 1] and are
shown in percent.
"""

import math

import numpy as np
from matplotlib.ticker import StrMethodFormatter

from brian_stdp.plots.theme import accuracy_limits, axes_or_new, style

__all__ = ["plot_accuracy", "plot_confusion", "plot_per_class"]


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
        axes = axes_or_new(axes, figsize=(5.5, 4.5))
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
        The Axes drawn on, one line per accuracy key, y in percent: the
        :data:`~brian_stdp.plots.theme.ZOOM_SPAN` points below the highest value where
        every value lies in them (so that tenths of a point between epochs show), else
        0-100 (:func:`~brian_stdp.plots.theme.accuracy_limits`).
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
        axes = axes_or_new(axes)
        drawn = []
        for key in keys:
            entries = [entry for entry in history if key in entry]
            images_seen = [entry["images_seen"] for entry in entries]
            percent = [100.0 * entry[key] for entry in entries]
            axes.plot(images_seen, percent, label=_readable(key), **kwds)
            drawn += percent
        axes.set_ylim(*accuracy_limits(drawn))
        axes.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
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
        axes = axes_or_new(axes)
        axes.bar(range(n_classes), np.nan_to_num(100.0 * per_class), **kwds)
        axes.set_xticks(range(n_classes), tick_labels)
        axes.set_ylim(0, 100)
        axes.set_xlabel("class")
        axes.set_ylabel("accuracy (%)")
        axes.set_title("Accuracy per class")
    return axes


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
