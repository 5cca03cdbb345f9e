"""The comparison's outputs: tables, figures and a Markdown report written into one folder.

:func:`make_report` writes ``report.md``, ``points.csv`` (one row per run),
``summary.csv`` (one row per architecture and selection), and the figures
``fig1_ann_accuracy.png``, ``fig4_accuracy_vs_neurons.png`` and
``cost_vs_neurons.png`` (drawn by :mod:`brian_stdp.plots.comparison_figures`).
The report covers one dataset, the study's two selections (:data:`REQUIRED_SELECTIONS`)
first, and names the points they lack (:func:`missing_points`); on MNIST it sets the
published figures (:mod:`~brian_stdp.experiments.comparison.anchors`) beside the runs.
"""

from __future__ import annotations

from pathlib import Path

from brian_stdp.data.datasets import describe_selection
from brian_stdp.errors import ConfigError
from brian_stdp.experiments.comparison.anchors import ANCHORS, anchor_table
from brian_stdp.experiments.comparison.groups import group_points
from brian_stdp.experiments.comparison.runs import LAST_WINNER
from brian_stdp.training import rundir


#: SNN sizes (excitatory neurons) of the study's Fig. 3 (10, then 50 doubled up to 1000).
PAPER_SNN_NEURONS = (10, 50, 100, 200, 400, 800, 1000)

#: Training-data selections every report covers, missing points named: the study's 800
#: SNN images (80 per class) and the full training set.
REQUIRED_SELECTIONS = ("pc80", "all")

FIGURES = ("fig1_ann_accuracy.png", "fig4_accuracy_vs_neurons.png", "cost_vs_neurons.png")

POINT_COLUMNS = ("kind", "architecture", "variant", "neurons", "layers", "dataset", "data", "seed",
                 "epochs", "train_images", "test_images", "accuracy_epoch1", "best_accuracy",
                 "best_epoch", "seconds_per_epoch", "parameters", "energy_per_image",
                 "energy_unit", "run_dir")

SUMMARY_COLUMNS = ("dataset", "data", "kind", "architecture", "variant", "neurons", "layers",
                   "seeds", "epochs", "train_images", "test_images", "accuracy_epoch1_mean",
                   "accuracy_epoch1_std", "best_accuracy_mean", "best_accuracy_std",
                   "best_epochs", "seconds_per_epoch_mean", "parameters",
                   "energy_per_image_mean", "energy_unit")


def point_rows(points) -> list:
    """One dict per run, with :data:`POINT_COLUMNS`."""
    return [{column: (str(getattr(point, column)) if column == "run_dir"
                      else getattr(point, column)) for column in POINT_COLUMNS}
            for point in points]


def summary_rows(groups: dict) -> list:
    """One dict per group, with :data:`SUMMARY_COLUMNS`."""
    rows = []
    for (dataset, data), selection in groups.items():
        for group in selection.values():
            first = group.first
            rows.append({
                "dataset": dataset, "data": data, "kind": first.kind,
                "architecture": first.architecture, "variant": first.variant,
                "neurons": first.neurons,
                "layers": first.layers, "seeds": " ".join(map(str, group.seeds)),
                "epochs": first.epochs, "train_images": first.train_images,
                "test_images": first.test_images,
                "accuracy_epoch1_mean": group.mean(lambda p: p.accuracy_epoch1),
                "accuracy_epoch1_std": group.std(lambda p: p.accuracy_epoch1),
                "best_accuracy_mean": group.mean(lambda p: p.best_accuracy),
                "best_accuracy_std": group.std(lambda p: p.best_accuracy),
                "best_epochs": " ".join(str(p.best_epoch) for p in group.points),
                "seconds_per_epoch_mean": group.mean(lambda p: p.seconds_per_epoch),
                "parameters": first.parameters,
                "energy_per_image_mean": group.mean(lambda p: p.energy_per_image),
                "energy_unit": first.energy_unit,
            })
    return rows


def _percent(mean, std=None) -> str:
    if mean is None:
        return "n/a"
    return f"{100 * mean:.2f}" + (f" ± {100 * std:.2f}" if std is not None else "")


def _number(value, digits=3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return f"{value:,}"
    if value >= 1e4:
        return f"{value:.{digits}g}".replace("e+0", "e").replace("e+", "e")
    return f"{value:,.{digits}g}" if value < 100 else f"{value:,.0f}"


def _selection_table(selection: dict) -> list:
    lines = ["| kind | architecture | neurons | seeds | epochs | train / test images | "
             "accuracy after epoch 1 (%) | best accuracy (%) (epoch) | time per epoch (s) | "
             "parameters | energy proxy per image |",
             "| --- | --- | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    for group in selection.values():
        first = group.first
        epoch1 = _percent(group.mean(lambda p: p.accuracy_epoch1),
                          group.std(lambda p: p.accuracy_epoch1))
        best = _percent(group.mean(lambda p: p.best_accuracy),
                        group.std(lambda p: p.best_accuracy))
        best_epochs = ",".join(map(str, sorted({point.best_epoch for point in group.points})))
        variant = f" ({first.variant})" if first.variant else ""
        energy = group.mean(lambda p: p.energy_per_image)
        lines.append(
            f"| {first.kind.upper()} | {first.architecture}{variant} | {first.neurons} | "
            f"{','.join(map(str, group.seeds))} | {first.epochs} | "
            f"{first.train_images:,} / {first.test_images:,} | {epoch1} | "
            f"{best} ({best_epochs}) | {_number(group.mean(lambda p: p.seconds_per_epoch))} | "
            f"{_number(first.parameters)} | "
            f"{_number(energy)}{f' {first.energy_unit}' if energy is not None else ''} |")
    return lines


def _note_lines(points) -> list:
    """``"`run_dir`: note"`` for every note of ``points``, sorted; the points of a
    grid's table (``run_dir`` ``<grid>/results.json#<point>``) under the table,
    once per note, with how many points it concerns."""
    runs = {}
    for point in points:
        source = str(point.run_dir).partition("#")[0]
        for note in point.notes:
            runs.setdefault((source, note), set()).add(str(point.run_dir))
    return sorted(f"`{source}`: {note}" + (f" ({len(names)} points)" if len(names) > 1 else "")
                  for (source, note), names in runs.items())


def expected_seeds(groups) -> list:
    """The seeds that at least half of ``groups`` ran, ascending.

    A group that ran more seeds than the others (to measure its spread better) does not make
    the others lack them; a seed most groups ran is missing where a group lacks it.
    """
    groups = list(groups)
    counts = {}
    for group in groups:
        for seed in set(group.seeds):
            counts[seed] = counts.get(seed, 0) + 1
    return sorted(seed for seed, n in counts.items() if 2 * n >= len(groups))


def missing_points(groups: dict, dataset: str, data: str) -> list:
    """Sentences naming what a required selection lacks (empty when nothing is missing)."""
    selection = groups.get((dataset, data), {})
    kinds = {key[0] for key in selection}
    missing = []
    for kind in ("ann", "snn"):
        if kind not in kinds:
            missing.append(f"no {kind.upper()} run on {describe_selection(data)} among the "
                           f"inputs")
    snn_neurons = {key[2] for key in selection if key[0] == "snn"}
    without = [n for n in PAPER_SNN_NEURONS if n not in snn_neurons]
    if snn_neurons and without:
        missing.append("no SNN of the study's sizes " + ", ".join(map(str, without))
                       + " neurons")
    expected = expected_seeds(selection.values())
    names = [_group_name(group) for group in selection.values()]
    for group, name in zip(selection.values(), names):
        absent = [seed for seed in expected if seed not in group.seeds]
        if absent:
            if names.count(name) > 1:  # the same network trained for other epoch counts
                name += f", {group.first.epochs} epochs"
            missing.append(f"{name}: seed{'s' if len(absent) > 1 else ''} "
                           + ", ".join(map(str, absent)))
    for group, name in zip(selection.values(), names):
        if any(point.accuracy_epoch1 is None for point in group.points):
            missing.append(f"{name}: not evaluated after epoch 1 (only after "
                           f"epoch {group.first.epochs})")
    return missing


def _group_name(group) -> str:
    """``"SNN diehl_cook_2015 400"``: kind, architecture and neurons of a group."""
    return f"{group.first.kind.upper()} {group.first.architecture} {group.first.neurons}"


def make_report(points, out, inputs, command: str = "", empty_inputs=()) -> Path:
    """Write tables, figures and ``report.md`` into ``out``; return the report's path.

    Parameters
    ----------
    points : list of ComparedRun
        At least one.
    out : path
        Folder for the report, figures and tables (created).
    inputs : sequence of path
        The folders the points came from (named in the report).
    command : str
        The command line that made the report (named in the report).
    empty_inputs : sequence of path
        Inputs that held no finished run yet (named in the report).
    """
    if not points:
        raise ConfigError("nothing to compare: no finished runs in the inputs")
    from brian_stdp.plots.comparison_figures import plot_costs, plot_fig1, plot_fig4
    from brian_stdp.plots.theme import save_figure

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    groups = group_points(points)
    rundir.save_csv(out / "points.csv", point_rows(points), POINT_COLUMNS)
    rundir.save_csv(out / "summary.csv", summary_rows(groups), SUMMARY_COLUMNS)
    datasets = sorted({point.dataset for point in points})
    dataset = "mnist" if "mnist" in datasets else datasets[0]
    selections = list(REQUIRED_SELECTIONS) + sorted(
        data for (ds, data) in groups if ds == dataset and data not in REQUIRED_SELECTIONS)

    figure_notes = []
    fig1 = plot_fig1(groups, dataset)
    if fig1 is None:
        figure_notes.append("Fig. 1 not drawn: no ANN runs on the full training set.")
        (out / FIGURES[0]).unlink(missing_ok=True)
    else:
        save_figure(fig1, out / FIGURES[0])
    anchors = ANCHORS if dataset == "mnist" else ()  # published figures are MNIST's
    save_figure(plot_fig4(groups, list(REQUIRED_SELECTIONS), dataset, anchors),
                out / FIGURES[1])
    save_figure(plot_costs(groups, dataset, "all"), out / FIGURES[2])

    lines = [f"# SNN and ANN on equal data ({dataset})", "",
             f"Made by `{command or 'python -m brian_stdp.compare'}` from "
             f"{sum(p.variant != LAST_WINNER for p in points)} runs in: "
             f"{', '.join(f'`{path}`' for path in inputs)}.", "",
             "Neurons: ANN hidden units (all hidden layers), SNN excitatory neurons. "
             "Accuracy: on each run's test images (SNN: all-activity voting; rows marked "
             f"'{LAST_WINNER}' evaluate the same runs with the study's labelling: each "
             "neuron takes the label of the last training image it won, the most active "
             "neuron decides); mean ± "
             "standard deviation over the seeds. The best epoch is chosen on the test "
             "images, as in the study, so it flatters both kinds. Energy proxy per test "
             "image: ANN multiply-accumulates of one forward pass; SNN synaptic events "
             "(input spikes × neurons + excitatory spikes × 1 + inhibitory spikes × "
             "(neurons − 1), one inhibitory spike assumed per excitatory spike because "
             "inhibitory spikes are not recorded). Time per epoch: wall seconds on one "
             "core (ANN: TensorFlow on the CPU; SNN: Brian2 `cpp_standalone`), other "
             "jobs sharing the machine.", ""]
    if fig1 is not None:
        lines += ["## Fig. 1: dense ANNs on the full training set", "",
                  f"![Fig. 1]({FIGURES[0]})", ""]
        lines += _selection_table({key: group for key, group in
                                   groups.get((dataset, "all"), {}).items()
                                   if key[0] == "ann"}) + [""]
    lines += ["## Fig. 4: accuracy against neurons on equal data", "",
              f"![Fig. 4]({FIGURES[1]})", ""]
    for data in selections:
        lines += [f"### Training on {describe_selection(data)}", ""]
        selection = groups.get((dataset, data), {})
        if selection:
            lines += _selection_table(selection) + [""]
        missing = missing_points(groups, dataset, data) if data in REQUIRED_SELECTIONS else []
        if missing:
            lines += ["Missing: " + "; ".join(missing) + ".", ""]
    if anchors:
        lines += ["## Against published figures", "",
                  "Each published MNIST accuracy beside every run here of the same "
                  "network family and size on the full training set, one line per model "
                  "file and epoch: after one epoch, and where the published network was "
                  "trained for more epochs ('as published') after every later epoch the run "
                  "was evaluated after too, none picked by its test accuracy "
                  "(a variant changes what its header says; each was chosen on a "
                  "validation split, runs/README.md).", ""]
        lines += anchor_table(groups.get((dataset, "all"), {}), anchors) + [""]
    lines += ["## Cost against neurons (full training set)", "",
              f"![cost]({FIGURES[2]})", ""]
    notes = _note_lines([point for point in points if point.dataset == dataset])
    others = sorted({point.dataset for point in points} - {dataset})
    if others:
        figure_notes.append(f"Runs on {', '.join(others)} are only in `points.csv` and "
                            f"`summary.csv`; this report covers {dataset}.")
    figure_notes += [f"`{path}` holds no finished run yet." for path in empty_inputs]
    if notes or figure_notes:
        lines += ["## Notes", ""] + [f"- {note}" for note in figure_notes + notes] + [""]
    lines += ["Tables: `points.csv` (one row per run), `summary.csv` (one row per "
              "architecture and data selection).", ""]
    path = out / "report.md"
    rundir.save_text(path, "\n".join(lines))
    return path
