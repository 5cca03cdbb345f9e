"""The shared look of every figure: palette, rcParams, new axes, PNG files.

Every figure of the package is drawn inside :func:`style` on a plain
:class:`matplotlib.figure.Figure`, not managed by pyplot: such figures need no GUI
backend (PNG files are rendered with Agg), so drawing works on headless machines
and never changes the backend of a program that uses pyplot. Save with
:func:`save_figure`.
"""

import os
import secrets
import sys
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

__all__ = ["OKABE_ITO", "STYLE", "PNG_DPI", "ZOOM_SPAN", "style", "save_figure", "axes_or_new",
           "accuracy_window", "accuracy_limits"]

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

ZOOM_SPAN = 10.0
"""Percentage points of accuracy that a zoomed accuracy axis shows below its highest value."""


def accuracy_window(best: float, span: float = ZOOM_SPAN) -> tuple:
    """(low, high) in percent: ``span`` points below ``best`` (percent) and 0.15 ``span``
    above it, within 0-100."""
    return max(0.0, best - span), min(100.0, best + 0.15 * span)


def accuracy_limits(values, span: float = ZOOM_SPAN) -> tuple:
    """An accuracy axis (bottom, top) in percent for ``values`` (percent, every value the
    axis must show): :func:`accuracy_window` of the highest where all of them lie in it,
    so that tenths of a point show; else 0 to 100."""
    values = [float(value) for value in values]
    low, high = accuracy_window(max(values), span)
    return (low, high) if min(values) >= low else (0.0, 100.0)


def style():
    """Return a context manager that applies :data:`STYLE` to the figures made in it.

    Returns
    -------
    contextlib.AbstractContextManager
        ``matplotlib.rc_context(STYLE)``.
    """
    return matplotlib.rc_context(STYLE)


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


def axes_or_new(axes, figsize=None):
    """The Axes to draw on: ``axes``, or the Axes of a new figure when it is None.

    Parameters
    ----------
    axes : matplotlib.axes.Axes or None
    figsize : tuple of float, optional
        ``(width, height)`` of a new figure (inches); default the rcParams'.

    Returns
    -------
    matplotlib.axes.Axes
        ``axes``, or the only Axes of a new plain (non-pyplot) Figure made with
        the current rcParams (call inside :func:`style`).
    """
    if axes is not None:
        return axes
    return Figure(figsize=figsize).add_subplot()


def _close(fig):
    """Release a figure from pyplot, if pyplot is in use; other figures need nothing."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close(fig)
