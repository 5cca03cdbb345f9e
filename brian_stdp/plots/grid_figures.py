"""The figures of a grid of runs (:mod:`brian_stdp.experiments.grids`): accuracy against an axis.

Drawn from the grid's summary (mean and spread over the seeds, per setting and
evaluated epoch) into ``OUT/figures``; see :func:`make_grid_figures`.
"""

from __future__ import annotations

import math

from matplotlib.figure import Figure

from brian_stdp.model.files import model_label
from brian_stdp.plots.theme import (ZOOM_SPAN, accuracy_limits, accuracy_window, axes_or_new,
                                    save_figure, style)

#: Most epochs drawn as lines of one panel (the first, the last and evenly spaced ones).
MAX_EPOCH_LINES = 5


def make_grid_figures(grid, results: dict) -> list:
    """Accuracy against the grid's x-axis, mean and standard deviation over seeds.

    For every accuracy key: ``accuracy_vs_<x>_<key>.png`` with one panel per
    value of the kind's panel axis (the model of a spiking network, the
    optimizer of an ANN) and one line per evaluated epoch (at most
    :data:`MAX_EPOCH_LINES`: the first, the last and evenly spaced ones), and,
    when there are several panels, ``accuracy_vs_<x>_<key>_last_epoch.png``
    with their last epochs side by side. The accuracy axis runs from 0 to 100 %,
    or over :data:`ZOOM_SPAN` points where every mean ± s.d. of the figure fits
    in them (:func:`_accuracy_limits`). A grid with one x value and several
    panels (a comparison of model variants at one size) instead gets
    ``accuracy_by_<panel>_<key>.png``: one row per panel value, its last epoch's
    mean ± s.d. written beside it (:func:`plot_categories`). Error bars are one sample standard
    deviation over the seeds; the legend gives the number of seeds. An x-axis
    of numbers is drawn to scale (logarithmic over a decade or more), any
    other (e.g. ANN hidden layers) as categories in the grid file's order.
    An ``epochs`` x-axis draws every evaluated epoch at its place (a run
    scored after each epoch gives a line), one line per panel. Accuracies
    scored on a validation split (``--validation``) are labelled so.

    Parameters
    ----------
    grid : brian_stdp.experiments.grids.files.Grid
        The grid: its axes, x-axis, kind and output folder ``grid.out``.
    results : dict
        As :func:`brian_stdp.experiments.grids.results.write_results` returns it; its
        ``summary`` rows (accuracies as fractions in [0, 1]) are drawn, in percent.

    Returns
    -------
    list of Path
        The files written into ``grid.out / "figures"`` (none while no point has finished).
    """
    summary = results["summary"]
    if not summary:
        return []
    folder = grid.out / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    x, panel = grid.x_axis, grid.kind.panel_axis
    others = [key for key in grid.kind.axes if key not in (x, "seed", panel)
              and len({row[key] for row in summary}) > 1]
    ticks = _x_ticks(grid)
    numbers = [v for v in grid.axes.get(x, []) if isinstance(v, (int, float))]
    written = []
    for metric in dict.fromkeys(row["metric"] for row in summary):
        rows = [row for row in summary if row["metric"] == metric]
        panels = _in_grid_order(grid, panel, dict.fromkeys(row.get(panel) for row in rows))
        by_epoch = x == "epochs"  # every evaluated epoch at its place on the x-axis
        ylabel = _metric_label(grid, metric, results.get("rows", []))
        if len(panels) > 1 and not by_epoch and len({row.get(x) for row in rows}) == 1:
            groups = _last_epoch_groups(rows, panel, panels, others)
            title = f"{grid.path.name}: {rows[0].get(x)} {_x_words(x)}"
            written.append(_categories_figure(groups, title, ylabel,
                                              folder / f"accuracy_by_{panel}_{metric}.png"))
            continue
        epochs = sorted({row["epoch"] for row in rows})
        shown = _shown_epochs(epochs)
        position = _position(x, ticks, by_epoch)
        scale = epochs if by_epoch else numbers
        drawn = [row for row in rows if by_epoch or row["epoch"] in shown]
        limits = _accuracy_limits(drawn)
        with style():
            fig = Figure(figsize=(4.5 * len(panels), 4.0))
            axes_list = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
            for axes, value in zip(axes_list, panels):
                lines = {}
                for row in drawn:
                    if row.get(panel) == value:
                        label = ", ".join([f"{k} {row[k]}" for k in others]
                                          + ([] if by_epoch else [f"epoch {row['epoch']}"]))
                        lines.setdefault(label, []).append(row)
                for label, line in lines.items():
                    _errorbar(axes, position, line, label or "mean over seeds")
                _decorate(axes, x, ticks, f"{value}" if value is not None else "", scale,
                          limits, integers=by_epoch)
            axes_list[0].set_ylabel(ylabel)
            # one panel is too narrow for the title on one line
            joint = ": " if len(panels) > 1 else "\n"
            fig.suptitle(f"{grid.path.name}{joint}mean ± s.d. over seeds")
            written.append(_save(fig, folder / f"accuracy_vs_{x}_{metric}.png"))
            if len(panels) > 1 and not by_epoch:
                fig = Figure()
                axes = fig.add_subplot()
                last = _last_epoch_groups(rows, panel, panels, others)
                for label, line in last.items():
                    _errorbar(axes, position, line, f"{label}, epoch {line[0]['epoch']}")
                _decorate(axes, x, ticks, "last epoch", numbers,
                          _accuracy_limits([r for line in last.values() for r in line]))
                axes.set_ylabel(ylabel)
                written.append(_save(fig, folder / f"accuracy_vs_{x}_{metric}_last_epoch.png"))
    return written


def plot_categories(groups: dict, axes=None, span=ZOOM_SPAN, **kwds):
    """Mean ± s.d. of each group as a dot on its own row, its figures in a column beside it.

    The accuracy axis spans the ``span`` points below the best mean (so that
    differences of tenths of a point show); a group below that is drawn as a
    triangle at the left edge, its figure still in the column.

    Parameters
    ----------
    groups : dict
        Row label (str) -> summary rows of that label (``mean``, ``std`` as
        fractions in [0, 1], ``n_seeds``), drawn top to bottom in this order; a
        label with several rows is drawn as their first.
    axes : matplotlib.axes.Axes, optional
        Where to draw; a new figure's axes by default.
    span : float
        Percentage points shown below the best mean.
    **kwds
        Passed on to :meth:`~matplotlib.axes.Axes.errorbar`.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on, accuracy (%) along x.
    """
    axes = axes_or_new(axes)
    labels = list(groups)
    rows = [groups[label][0] for label in labels]
    low, high = accuracy_window(max(100 * row["mean"] for row in rows), span)
    for position, row in enumerate(rows):
        mean, spread = 100 * row["mean"], 100 * (row["std"] or 0.0)
        if mean < low:
            axes.plot([low], [position], marker="<", color="C1", clip_on=False)
        else:
            axes.errorbar([mean], [position], xerr=[spread], marker="o", capsize=3,
                          color="C0", **kwds)
        text = f"{mean:.2f}" + (f" ± {spread:.2f}" if row["n_seeds"] > 1 else "")
        axes.annotate(f"{text} % ({row['n_seeds']})", (1.02, position),
                      xycoords=("axes fraction", "data"), va="center")
    axes.annotate("mean ± s.d. (seeds)", (1.02, -0.6), xycoords=("axes fraction", "data"),
                  va="bottom", fontsize="small")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_ylim(len(labels) - 0.5, -0.5)  # the first group on top
    axes.set_xlim(low, high)
    axes.grid(axis="x", alpha=0.3)
    return axes


def _accuracy_limits(rows, span: float = ZOOM_SPAN) -> tuple:
    """The accuracy axis (bottom, top) in percent for summary ``rows`` (``mean``, ``std``
    as fractions): :func:`~brian_stdp.plots.theme.accuracy_limits` of every mean ± s.d."""
    spreads = [100 * (row["std"] or 0.0) for row in rows]
    return accuracy_limits([100 * row["mean"] + sign * d for row, d in zip(rows, spreads)
                            for sign in (1, -1)], span)


def _categories_figure(groups: dict, title: str, xlabel: str, path):
    """Save :func:`plot_categories` of ``groups`` (their epoch named where the groups'
    last epochs differ) as ``path`` and return the path."""
    if len({line[0]["epoch"] for line in groups.values()}) > 1:
        groups = {f"{label}, epoch {line[0]['epoch']}": line for label, line in groups.items()}
    with style():
        fig = Figure(figsize=(9.0, 1.4 + 0.4 * len(groups)))
        axes = plot_categories(groups, axes=fig.add_subplot())
        axes.set_xlabel(xlabel)
        axes.set_title(title)
        return _save(fig, path)


def _last_epoch_groups(rows, panel, panels, others) -> dict:
    """Each panel value's (and other varying axes') summary rows of its last evaluated
    epoch, labelled by the panel value (and those axes), in panel order."""
    groups = {}
    for value in panels:
        mine = [r for r in rows if r.get(panel) == value]
        last = max(r["epoch"] for r in mine)
        for row in (r for r in mine if r["epoch"] == last):
            label = ", ".join([str(value)] + [f"{k} {row[k]}" for k in others])
            groups.setdefault(label, []).append(row)
    return groups


def _x_words(x) -> str:
    """How an x-axis is named on a figure."""
    return {"neurons": "excitatory neurons", "per_class": "training images per class",
            "train": "training images", "epochs": "epochs",
            "hidden": "hidden layers (units)"}.get(x, x)


def _shown_values(grid, key) -> list:
    """An axis's values as the tables show them (model files by name), in the file's order."""
    shown = [grid.kind.display(key, v) for v in grid.axes.get(key, [])]
    return [model_label(v) if key == "model" else v for v in shown]


def _in_grid_order(grid, key, values) -> list:
    """``values`` of an axis in the grid file's order (values it does not list last)."""
    listed = _shown_values(grid, key)
    return sorted(values, key=lambda v: listed.index(v) if v in listed else len(listed))


def _shown_epochs(epochs: list) -> set:
    """The epochs drawn as lines: all, or the first, the last and evenly spaced ones."""
    if len(epochs) <= MAX_EPOCH_LINES:
        return set(epochs)
    step = (len(epochs) - 1) / (MAX_EPOCH_LINES - 1)
    return {epochs[round(i * step)] for i in range(MAX_EPOCH_LINES)}


def _x_ticks(grid) -> dict | None:
    """Positions of the x-axis values when they are categories (not numbers), else None."""
    values = _shown_values(grid, grid.x_axis)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return None
    return {value: position for position, value in enumerate(values)}


def _metric_label(grid, metric: str, rows: list) -> str:
    """The y-axis label of ``metric``: "validation accuracy" where every finished row
    was scored on a validation split, else the kind's label (test accuracy)."""
    scored = {row.get("scored_on") for row in rows if row.get("status") == "finished"}
    return grid.kind.metric_label(metric, "validation" if scored == {"validation"} else "test")


def _position(x, ticks, by_epoch):
    """Where a summary row goes on the x-axis: its evaluated epoch (``by_epoch``), its
    category's position (``ticks``) or its x-axis value."""
    if by_epoch:
        return lambda row: row["epoch"]
    return (lambda row: row[x]) if ticks is None else (lambda row: ticks[row[x]])


def _errorbar(axes, position, rows, label):
    """One line of summary rows: mean ± s.d. in percent at ``position(row)``."""
    rows = sorted(rows, key=position)
    xs = [position(r) for r in rows]
    means = [100 * r["mean"] for r in rows]
    spread = [100 * (r["std"] or 0.0) for r in rows]
    seeds = sorted({r["n_seeds"] for r in rows})
    axes.errorbar(xs, means, yerr=spread, marker="o", capsize=3,
                  label=f"{label} (n = {'-'.join(str(s) for s in (seeds[0], seeds[-1]))} seeds)"
                  if len(seeds) > 1 else f"{label} (n = {seeds[0]})")


def _decorate(axes, x, ticks, title, numbers=(), limits=(0.0, 100.0), integers=False):
    """Axis labels, limits and ticks: categories at their positions, or ``numbers`` to scale
    (each one a tick where ``integers``); ``limits`` of the accuracy axis in percent."""
    if integers:
        axes.set_xticks(numbers)
    elif ticks is not None:
        axes.set_xticks(list(ticks.values()), list(ticks))
        axes.set_xlim(-0.5, len(ticks) - 0.5)
    elif numbers and min(numbers) > 0 and max(numbers) / min(numbers) >= 10:
        axes.set_xscale("log")
        labelled, last = [], None
        for value in sorted(numbers, reverse=True):  # the largest always labelled
            show = last is None or math.log10(last / value) >= 0.15  # no overlap (800, 1000)
            labelled.append(str(value) if show else "")
            last = value if show else last
        axes.set_xticks(sorted(numbers, reverse=True), labelled)
        axes.minorticks_off()
    axes.set_xlabel(_x_words(x))
    axes.set_ylim(*limits)
    axes.set_title(title)
    axes.legend()


def _save(fig, path):
    """Save ``fig`` as ``path`` (see :func:`save_figure`) and return the path."""
    save_figure(fig, path)
    return path
