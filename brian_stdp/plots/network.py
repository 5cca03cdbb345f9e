"""The state and activity of a spiking network: receptive fields, thresholds, spikes.

The functions draw on a given :class:`matplotlib.axes.Axes`, or on a new figure
(see :func:`brian_stdp.plots.theme.axes_or_new`) when ``axes`` is None, and
return the Axes they drew on. Spike times and thresholds arrive in SI units
(seconds, volts) and are shown in ms and mV.
"""

import math

import matplotlib
import numpy as np

from brian_stdp.plots.theme import axes_or_new, style

__all__ = ["plot_receptive_fields", "plot_patch_fields", "plot_raster", "plot_theta"]

TILE_GAP = 1
"""Width of the gap between receptive-field tiles (pixels)."""

GAP_COLOUR = "0.6"
"""Colour of the gaps and empty tiles in :func:`plot_receptive_fields` (grey)."""


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

    tiled, corners = _tile_canvas(n_shown, (height, width), TILE_GAP)
    for neuron, (top, left) in enumerate(corners):
        tiled[top : top + height, left : left + width] = weights[:, neuron].reshape(height, width)
    return _show_tiles(tiled, axes, cmap, f"Receptive fields ({n_shown} of {n_neurons} neurons)",
                       **kwds)


def _tile_canvas(n_tiles, tile_shape, gap):
    """A grey (NaN) canvas for ``n_tiles`` tiles of ``tile_shape`` in a near-square grid
    (``ceil(sqrt(n_tiles))`` columns, row-major, ``gap`` pixels apart), and the
    top-left (row, column) of each tile, shape (n_tiles, 2)."""
    height, width = tile_shape
    n_columns = math.ceil(math.sqrt(n_tiles))
    n_rows = math.ceil(n_tiles / n_columns)
    canvas = np.full((n_rows * (height + gap) - gap, n_columns * (width + gap) - gap), np.nan)
    corners = [((k // n_columns) * (height + gap), (k % n_columns) * (width + gap))
               for k in range(n_tiles)]
    return canvas, corners


def _show_tiles(tiled, axes, cmap, title, **kwds):
    """Draw a tiled weight image (NaN: gap colour) with one colour scale and its colorbar."""
    colormap = matplotlib.colormaps.get_cmap(cmap).with_extremes(bad=GAP_COLOUR)
    with style():
        axes = axes_or_new(axes, figsize=(6.0, 5.5))
        image = axes.imshow(tiled, cmap=colormap, interpolation="nearest", **kwds)
        axes.set_xticks([])
        axes.set_yticks([])
        axes.spines[:].set_visible(False)
        axes.set_title(title)
        axes.figure.colorbar(image, ax=axes, label="weight", shrink=0.8)
    return axes


FILTER_GAP = 3
"""Width of the gap between the filters' tiles in :func:`plot_patch_fields` (pixels)."""


def plot_patch_fields(weights, image_shape, corners, kernel, axes=None, n_max=None,
                      cmap="hot_r", **kwds):
    """Show the receptive fields of a locally connected layer, per filter and location.

    Neuron ``j`` is filter ``j % n_filters`` at location ``j // n_filters``, with
    ``n_filters = n_neurons // n_locations``. Each filter gets one tile; in it, the
    patch of every location is drawn at that location's place in the grid of locations
    (the patches in place on the input, pulled apart by :data:`TILE_GAP` so that
    overlapping patches stay whole). Tiles are laid in a near-square grid, separated by
    :data:`FILTER_GAP` pixels; gaps and empty tiles are grey. One colour scale.

    Parameters
    ----------
    weights : array_like, shape (n_input, n_neurons), float
        Weights from the input pixels (row-major over ``image_shape``) to the neurons;
        zero outside each neuron's patch.
    image_shape : tuple of int
        ``(height, width)`` of the input image.
    corners : array_like, shape (n_locations, 2), int
        Top-left pixel (row, column) of each location's patch, row-major over the grid
        of locations.
    kernel : tuple of int
        ``(rows, columns)`` of a patch (pixels).
    axes : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created when None.
    n_max : int, optional
        Show only the first ``n_max`` filters.
    cmap : str or matplotlib.colors.Colormap
        Colour map of the weights.
    **kwds
        Passed to :meth:`matplotlib.axes.Axes.imshow` (e.g. ``vmin``, ``vmax``).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on; ``axes.images[0]`` holds the tiled image.
    """
    weights = np.asarray(weights, dtype=np.float64)
    corners = np.asarray(corners, dtype=int).reshape(-1, 2)
    height, width = image_shape
    kh, kw = kernel
    n_locations = len(corners)
    if weights.ndim != 2 or weights.shape[0] != height * width:
        raise ValueError(f"weights must have shape (n_input, n_neurons) with n_input = "
                         f"{height}*{width} = {height * width}, got {weights.shape}")
    if n_locations < 1 or weights.shape[1] % n_locations:
        raise ValueError(f"{weights.shape[1]} neurons are not a multiple of {n_locations} "
                         f"locations")
    n_filters = weights.shape[1] // n_locations
    n_shown = n_filters if n_max is None else min(n_max, n_filters)
    rows_of = np.unique(corners[:, 0], return_inverse=True)[1].ravel()
    cols_of = np.unique(corners[:, 1], return_inverse=True)[1].ravel()
    grid_rows, grid_cols = rows_of.max() + 1, cols_of.max() + 1
    tile_h = grid_rows * (kh + TILE_GAP) - TILE_GAP
    tile_w = grid_cols * (kw + TILE_GAP) - TILE_GAP
    tiled, tile_corners = _tile_canvas(n_shown, (tile_h, tile_w), FILTER_GAP)
    images = weights.T.reshape(-1, height, width)
    for f, (top, left) in enumerate(tile_corners):
        for loc, (r0, c0) in enumerate(corners):
            y = top + rows_of[loc] * (kh + TILE_GAP)
            x = left + cols_of[loc] * (kw + TILE_GAP)
            tiled[y:y + kh, x:x + kw] = images[loc * n_filters + f, r0:r0 + kh, c0:c0 + kw]
    return _show_tiles(tiled, axes, cmap, f"Receptive fields: {n_shown} of {n_filters} filters, "
                       f"each at {grid_rows}x{grid_cols} locations", **kwds)


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
        axes = axes_or_new(axes)
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
        axes = axes_or_new(axes)
        axes.hist(theta_mv, **kwds)
        axes.set_xlabel("theta (mV)")
        axes.set_ylabel("neurons")
        axes.set_title(f"Adaptive thresholds (mean {theta_mv.mean():.2f} mV)")
    return axes
