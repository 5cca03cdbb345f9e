"""The figures of the SNN-ANN comparison (:mod:`brian_stdp.experiments.comparison`).

:func:`plot_fig1` (the study's Fig. 1: ANN accuracy against the epoch),
:func:`plot_fig4` (its Fig. 4: accuracy against neurons on equal data) and
:func:`plot_costs` (time, parameters and energy proxy against neurons) draw the
groups of :func:`brian_stdp.experiments.comparison.groups.group_points`; each returns a
Figure for :func:`brian_stdp.plots.theme.save_figure`. A figure line joins the
groups of one *series* (:attr:`brian_stdp.experiments.comparison.runs.ComparedRun.series`),
with the same colour and marker in every figure (:func:`series_styles`).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import ScalarFormatter

from brian_stdp.data.datasets import describe_selection
from brian_stdp.plots.theme import OKABE_ITO, style


def plot_fig1(groups: dict, dataset: str = "mnist"):
    """Fig. 1: ANN accuracy on the training and the test images against the epoch.

    One line per configuration on the full training set (mean over seeds, band
    from the lowest to the highest seed), accuracy in percent.

    Parameters
    ----------
    groups : dict
        As :func:`brian_stdp.experiments.comparison.groups.group_points` returns them.
    dataset : str
        The dataset whose ``all`` selection is drawn.

    Returns
    -------
    matplotlib.figure.Figure or None
        None when no such ANN runs exist.
    """
    selection = groups.get((dataset, "all"), {})
    anns = [group for key, group in selection.items() if key[0] == "ann"]
    if not anns:
        return None
    anns.sort(key=lambda group: (group.first.neurons, group.first.layers))
    with style():
        figure = Figure(figsize=(10.0, 4.2))
        axes_train, axes_test = figure.subplots(1, 2, sharey=True)
        for group in anns:
            for axes, attribute in ((axes_train, "train_accuracy_by_epoch"),
                                    (axes_test, "accuracy_by_epoch")):
                epochs = sorted(getattr(group.first, attribute))
                table = np.array([[100 * getattr(point, attribute)[epoch] for epoch in epochs]
                                  for point in group.points])
                label = (f"{group.first.architecture}"
                         f"{' (1 layer)' if group.first.layers == 1 else ''}"
                         f"{', ' + group.first.variant if group.first.variant else ''}")
                line, = axes.plot(epochs, table.mean(axis=0), marker="o", markersize=3,
                                  label=label,
                                  linestyle="--" if group.first.layers == 1 else "-")
                if len(group.points) > 1:
                    axes.fill_between(epochs, table.min(axis=0), table.max(axis=0),
                                      color=line.get_color(), alpha=0.2, linewidth=0)
        first = anns[0].first
        for axes, title in ((axes_train, f"training images ({first.train_images:,})"),
                            (axes_test, f"test images ({first.test_images:,})")):
            axes.set_xlabel("epoch")
            axes.set_title(f"Accuracy on the {title}")
        axes_train.set_ylabel("accuracy (%)")
        axes_test.legend(title="hidden units", loc="lower right")
        seeds = sorted({len(group.points) for group in anns})
        figure.suptitle(f"Fig. 1: dense ANNs, {dataset}, full training set; mean and range "
                        f"over {'/'.join(map(str, seeds))} seeds")
    return figure


def plot_fig4(groups: dict, selections, dataset: str = "mnist", anchors=()):
    """Fig. 4: test accuracy against neurons, one panel per data selection.

    ANN (hidden units) and SNN (excitatory neurons), after the first epoch
    (open markers, dotted) and at the best epoch (filled, solid); error bars
    from the lowest to the highest seed; accuracy in percent, neurons on a log-2 axis.
    Published figures (``anchors``), grey stars, on the panel of the full training set.

    Parameters
    ----------
    groups : dict
        As :func:`brian_stdp.experiments.comparison.groups.group_points` returns them.
    selections : sequence of str
        Data selections, one panel each (``all``, ``first<N>``, ``pc<K>``).
    dataset : str
    anchors : sequence
        Published figures with ``neurons`` and ``accuracy`` (a fraction) attributes
        (:data:`brian_stdp.experiments.comparison.anchors.ANCHORS`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    with style():
        figure = Figure(figsize=(5.0 * len(selections), 4.5))
        panels = np.atleast_1d(figure.subplots(1, len(selections), sharex=True,
                                               sharey=True))
        styles = series_styles(groups)
        for axes, data in zip(panels, selections):
            selection = groups.get((dataset, data), {})
            drawn = False
            for series, members in _series(selection).items():
                name = _series_label(series)
                for getter, line_style, suffix in (
                        (lambda p: p.accuracy_epoch1, dict(linestyle=":", mfc="white"),
                         "epoch 1"),
                        (lambda p: p.best_accuracy, dict(linestyle="-"), "best epoch")):
                    xs, ys, low, high = [], [], [], []
                    for group in members:
                        mean = group.mean(getter)
                        if mean is None:
                            continue
                        lo, hi = group.spread(getter)
                        xs.append(group.first.neurons)
                        ys.append(100 * mean)
                        low.append(100 * (mean - lo))
                        high.append(100 * (hi - mean))
                    if xs:
                        axes.errorbar(xs, ys, yerr=[low, high], capsize=2,
                                      label=f"{name}, {suffix}", **styles[series],
                                      **line_style)
                        drawn = True
            if data == "all" and anchors:
                axes.plot([a.neurons for a in anchors], [100 * a.accuracy for a in anchors],
                          linestyle="none", marker="*", markersize=9, color="0.45",
                          label="published figures")
                drawn = True
            _neuron_axis(axes)
            axes.set_title(f"{describe_selection(data)}")
            if not drawn:
                axes.text(0.5, 0.5, "no runs", transform=axes.transAxes, ha="center")
        figure.supxlabel("neurons (ANN: hidden units, SNN: excitatory neurons)")
        panels[0].set_ylabel("test accuracy (%)")
        panels[0].set_ylim(0, 100)
        handles = {}
        for axes in panels:
            for handle, label in zip(*axes.get_legend_handles_labels()):
                handles.setdefault(label, handle)
        if handles:
            labels = sorted(handles, key=lambda label: (not label.startswith("ANN"), label))
            figure.legend([handles[label] for label in labels], labels,
                          loc="outside right center")
            width, height = figure.get_size_inches()  # tall enough for the legend
            figure.set_size_inches(width, max(height, 1.5 + 0.24 * len(labels)))
        figure.suptitle(f"Fig. 4: SNN and ANN on equal data ({dataset})")
    return figure


def plot_costs(groups: dict, dataset: str = "mnist", data: str = "all"):
    """Training time per epoch, trainable parameters and energy proxy against neurons.

    Three panels, log scales, mean over the seeds: wall seconds per training
    epoch, trainable parameters, and per test image multiply-accumulates (ANN)
    or synaptic events (SNN).

    Parameters
    ----------
    groups : dict
        As :func:`brian_stdp.experiments.comparison.groups.group_points` returns them.
    dataset, data : str
        The dataset and data selection drawn.

    Returns
    -------
    matplotlib.figure.Figure
    """
    selection = groups.get((dataset, data), {})
    panels = (("training time per epoch (s)", lambda p: p.seconds_per_epoch),
              ("trainable parameters", lambda p: p.parameters),
              ("per test image: MAC (ANN),\nsynaptic events (SNN)",
               lambda p: p.energy_per_image))
    with style():
        figure = Figure(figsize=(16.0, 4.0))
        axes_row = figure.subplots(1, 3, sharex=True)
        styles = series_styles(groups)
        for series, members in _series(selection).items():
            for axes, (_, getter) in zip(axes_row, panels):
                pairs = [(group.first.neurons, group.mean(getter)) for group in members
                         if group.mean(getter) is not None]
                if pairs:
                    xs, ys = zip(*pairs)
                    axes.plot(xs, ys, label=_series_label(series), **styles[series])
        for axes, (label, _) in zip(axes_row, panels):
            _neuron_axis(axes)
            axes.set_yscale("log")
            axes.set_xlabel("neurons")
            axes.set_ylabel(label)
        handles, labels = axes_row[0].get_legend_handles_labels()
        if handles:  # beside the panels, not over the lines of the first
            figure.legend(handles, labels, loc="outside right center")
        figure.suptitle(f"Cost on {describe_selection(data)} ({dataset}); mean over seeds")
    return figure


#: SNN markers, one per pass through the palette: the families past its eighth colour
#: share a colour with an earlier one and differ from it in marker.
SNN_MARKERS = ("s", "^", "v", "P")

#: ANN markers (one hidden layer, more), one pair per pass through the palette.
ANN_MARKERS = (("D", "o"), ("d", "h"), ("<", ">"), ("X", "p"))


def series_styles(groups: dict) -> dict:
    """Colour and marker of every figure line, the same in every figure.

    A family (kind and name) takes the next colour of the shared palette; ANN
    lines with one and with two hidden layers but the same training settings
    share it and differ in marker. Past the palette's last colour the colours
    repeat with other markers, so no two families look alike.

    Parameters
    ----------
    groups : dict
        As :func:`brian_stdp.experiments.comparison.groups.group_points` returns them.

    Returns
    -------
    dict
        ``series`` (:attr:`~brian_stdp.experiments.comparison.runs.ComparedRun.series`)
        to ``{"color": str, "marker": str}``, for :meth:`~matplotlib.axes.Axes.plot`.
    """
    every = sorted({group.first.series for selection in groups.values()
                    for group in selection.values()})
    families = list(dict.fromkeys((kind, name) for kind, _, name in every))
    styles = {}
    for series in every:
        kind, layers, name = series
        index = families.index((kind, name))
        rounds, colour = divmod(index, len(OKABE_ITO))
        marker = (SNN_MARKERS[rounds % len(SNN_MARKERS)] if kind == "snn"
                  else ANN_MARKERS[rounds % len(ANN_MARKERS)][0 if layers == 1 else 1])
        styles[series] = {"color": OKABE_ITO[colour], "marker": marker}
    return styles


def _neuron_axis(axes) -> None:
    """Log-2 neuron axis with plain numbers (16, 32, ...) as tick labels."""
    axes.set_xscale("log", base=2)
    axes.xaxis.set_major_formatter(ScalarFormatter())


def _series(selection: dict) -> dict:
    """Groups of a selection per figure line, each line's groups sorted by neurons.

    For one (series, neurons) only the group with the most epochs (then most
    test images) is kept, so a line joins comparable runs.
    """
    lines = {}
    for group in selection.values():
        best = lines.setdefault(group.first.series, {})
        current = best.get(group.first.neurons)
        if current is None or (group.first.epochs, group.first.test_images) > (
                current.first.epochs, current.first.test_images):
            best[group.first.neurons] = group
    return {series: [members[n] for n in sorted(members)]
            for series, members in sorted(lines.items())}


def _series_label(series: tuple) -> str:
    """Legend label of a figure line, e.g. ``ANN, 2 hidden layers`` or ``SNN diehl_cook_2015``."""
    kind, layers, architecture = series
    if kind == "ann":
        return (f"ANN, {layers} hidden layer{'s' if layers > 1 else ''}"
                + (f" ({architecture})" if architecture else ""))
    return f"SNN {architecture}"
