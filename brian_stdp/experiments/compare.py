"""SNN against ANN on equal data: the study's Fig. 1 and Fig. 4, with cost figures and a report.

    python -m brian_stdp.compare runs/ann_fig1 runs/ann_pc80 runs/grid_fig3 runs/diehl_cook_400 --out runs/compare

Every argument is a run directory (``config.json`` + ``metrics.json``) or a
folder searched recursively for them (a grid's results). Each run is read as
a :class:`ComparedRun`: an ANN run of :mod:`brian_stdp.ann` or an SNN run of
:mod:`brian_stdp.run` / :mod:`brian_stdp.sweep`. Runs are grouped by dataset
and training-data selection (``all``, ``first<N>``, ``pc<K>`` for K per
class), and within a selection by architecture; seeds are averaged.

A grid of :mod:`brian_stdp.sweep` keeps its runs under ``<grid>/points/`` and
their numbers in ``<grid>/results.json``. Where a finished SNN point's folder is
gone (``points/`` is not kept in the repository), its row of ``results.json``
is read instead (:func:`load_grid_points`): the same accuracies and counts,
the time per epoch derived from the recorded training speed, no energy proxy
(the table does not record input spikes). A point whose folder holds a
finished run is read from the folder only. ANN grids must keep their folders.

What is compared, for each architecture:

- **neurons**: ANN hidden units (all hidden layers together), SNN excitatory neurons;
- **accuracy after one epoch** and **at the best epoch** on the run's test images
  (SNN: all-activity voting, and for runs that recorded it the study's
  last-winner labelling as a series of its own; the best epoch is chosen on the
  test images, as in the study, so it is an optimistic figure for both kinds);
- **training time per epoch** (wall seconds; ANN: median epoch, SNN: mean of its
  training phases, compilation excluded);
- **trainable parameters** (ANN: weights and biases; SNN: the plastic
  input-to-excitatory weights plus one adaptive threshold per neuron; the fixed
  excitatory-inhibitory weights are not counted);
- **an energy proxy per test image**: ANN multiply-accumulates of one forward
  pass; SNN synaptic events, ``input spikes x neurons`` (all-to-all input
  synapses) ``+ excitatory spikes x 1`` (one-to-one to the inhibitory layer)
  ``+ inhibitory spikes x (neurons - 1)`` (all-but-self inhibition), from the
  input spikes and excitatory spikes the run recorded in its last test phase.
  Inhibitory spikes are not recorded; each inhibitory neuron is driven only by
  its excitatory partner (one-to-one), so one inhibitory spike per excitatory
  spike is assumed. Excitatory spikes count only each image's last
  presentation; input spikes count every presentation.

Outputs in ``--out``: ``report.md``, ``points.csv`` (one row per run),
``summary.csv`` (one row per architecture and selection), and the figures
``fig1_ann_accuracy.png``, ``fig4_accuracy_vs_neurons.png`` and
``cost_vs_neurons.png`` (drawn by :mod:`brian_stdp.plots.comparison`).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from brian_stdp.data.datasets import (N_CLASSES, TRAIN_SIZES, describe_selection,
                                      selection_name)
from brian_stdp.errors import ConfigError
from brian_stdp.experiments.grids.files import POINTS, RESULTS_JSON
from brian_stdp.training import rundir
from brian_stdp.training.config import RunConfig, read_run_config

#: Pixels per image of each dataset (the input layer of both kinds of network).
INPUT_SIZE = {"mnist": 784, "fashion-mnist": 784, "digits": 64}

#: SNN sizes (excitatory neurons) of the study's Fig. 3 (10, then 50 doubled up to 1000).
PAPER_SNN_NEURONS = (10, 50, 100, 200, 400, 800, 1000)

#: Training-data selections every report covers, missing points named: the study's 800
#: SNN images (80 per class) and the full training set.
REQUIRED_SELECTIONS = ("pc80", "all")

FIGURES = ("fig1_ann_accuracy.png", "fig4_accuracy_vs_neurons.png", "cost_vs_neurons.png")


@dataclass
class ComparedRun:
    """One finished run, reduced to what the comparison needs.

    Attributes
    ----------
    kind : str
        ``"ann"`` or ``"snn"``.
    run_dir : Path
        The run directory; for a point read from a grid's table,
        ``<grid>/results.json#<point>``.
    architecture : str
        ANN: hidden layers, e.g. ``"64-64"``; SNN: the model name.
    neurons : int
        ANN hidden units in all layers; SNN excitatory neurons.
    layers : int
        ANN hidden layers; 1 for an SNN (one excitatory layer).
    dataset, data : str
        Dataset and training selection (``all``, ``first<N>``, ``pc<K>``).
    seed, epochs, train_images, test_images : int
    accuracy_by_epoch : dict of int to float
        Test accuracy (fraction) after each evaluated epoch.
    train_accuracy_by_epoch : dict of int to float
        ANN only: accuracy on the selected training images after each epoch.
    seconds_per_epoch : float or None
        Wall seconds of one training epoch; for a point read from a grid's
        table derived as ``train_images / train_images_per_second``.
    parameters : int
    energy_per_image : float or None
        ANN: multiply-accumulates; SNN: synaptic events; per test image.
    variant : str
        ANN: training settings when they differ from the study's (SGD, learning
        rate 0.001, batch 64), e.g. ``"adam, lr 0.01, batch 64"``; SNN:
        ``"last-winner labelling"`` for the study's evaluation of a run (see
        :func:`load_points`); else empty.
    notes : list of str
        What could not be read and why.
    """

    kind: str
    run_dir: Path
    architecture: str
    neurons: int
    layers: int
    dataset: str
    data: str
    seed: int
    epochs: int
    train_images: int
    test_images: int
    accuracy_by_epoch: dict
    seconds_per_epoch: float | None
    parameters: int
    energy_per_image: float | None
    train_accuracy_by_epoch: dict = field(default_factory=dict)
    variant: str = ""
    notes: list = field(default_factory=list)

    @property
    def accuracy_epoch1(self) -> float | None:
        """Test accuracy after the first epoch; None when it was not evaluated."""
        return self.accuracy_by_epoch.get(1)

    @property
    def best_epoch(self) -> int:
        """The evaluated epoch with the highest test accuracy (the earliest on ties)."""
        return max(sorted(self.accuracy_by_epoch), key=lambda e: self.accuracy_by_epoch[e])

    @property
    def best_accuracy(self) -> float:
        """Highest test accuracy over the evaluated epochs."""
        return self.accuracy_by_epoch[self.best_epoch]

    @property
    def energy_unit(self) -> str:
        """``"MAC"`` (ANN) or ``"synaptic events"`` (SNN)."""
        return "MAC" if self.kind == "ann" else "synaptic events"

    @property
    def series(self) -> tuple:
        """What a line in the figures joins: kind, layers, architecture family."""
        if self.kind == "ann":
            return ("ann", self.layers, self.variant)
        return ("snn", 1, f"{self.architecture}, {self.variant}" if self.variant
                else self.architecture)


# -- reading runs ----------------------------------------------------------------------------
def collect_points(paths, empty: list | None = None) -> list:
    """Every point at or below ``paths``: those of the run directories
    (:func:`find_run_dirs`, :func:`load_points`), then those of grid rows whose
    run folders are gone (:func:`find_grid_results`, :func:`load_grid_points`).

    Parameters
    ----------
    paths, empty
        As :func:`find_run_dirs`.

    Raises
    ------
    ConfigError
        As :func:`find_run_dirs`, :func:`load_points` and :func:`load_grid_points`.
    """
    points = [point for run_dir in find_run_dirs(paths, empty) for point in load_points(run_dir)]
    return points + [point for results in find_grid_results(paths)
                     for point in load_grid_points(results)]


def find_run_dirs(paths, empty: list | None = None) -> list:
    """Run directories (with ``config.json`` and ``metrics.json``) at or below ``paths``.

    Parameters
    ----------
    paths : sequence of path
        Run directories or folders holding them (searched recursively).
    empty : list, optional
        When given, a path without any finished run (e.g. a grid still running)
        is appended to it instead of being an error. A path whose grids'
        ``results.json`` (see :func:`rows_without_runs`) hold finished rows
        without run folders is not empty.

    Raises
    ------
    ConfigError
        A path does not exist, or holds no finished run and ``empty`` is None.
    """
    found = []
    for path in map(Path, paths):
        if not path.exists():
            raise ConfigError(f"{path}: no such run directory or folder")
        here = [path] if _is_run_dir(path) else sorted(
            metrics.parent for metrics in path.rglob(rundir.METRICS)
            if _is_run_dir(metrics.parent))
        if not here and not any(map(rows_without_runs, find_grid_results([path]))):
            if empty is None:
                raise ConfigError(f"{path}: holds no finished run (no folder with both "
                                  f"{rundir.CONFIG} and {rundir.METRICS}, no finished row "
                                  f"in a grid's {RESULTS_JSON})")
            empty.append(path)
        found += [run_dir for run_dir in here if run_dir not in found]
    return found


def _is_run_dir(path: Path) -> bool:
    return (path / rundir.CONFIG).is_file() and (path / rundir.METRICS).is_file()


#: Variant name of an SNN run evaluated with the study's labelling.
LAST_WINNER = "last-winner labelling"


def load_points(run_dir) -> list:
    """A run directory as the points it gives: one, plus, for an SNN run that
    also recorded the study's evaluation (label of each neuron's last won
    training image, ``accuracy_last_winner`` after every evaluated epoch), a
    second point with that accuracy and ``variant`` :data:`LAST_WINNER`.

    Raises
    ------
    ConfigError
        As :func:`load_point`.
    """
    point = load_point(run_dir)
    metrics = rundir.load_json(Path(run_dir) / rundir.METRICS)
    history = metrics.get("history") or []
    if point.kind != "snn" or any("accuracy_last_winner" not in entry for entry in history):
        return [point]
    return [point, _snn_point(Path(run_dir), read_run_config(run_dir), metrics,
                              "accuracy_last_winner", LAST_WINNER)]


def load_point(run_dir) -> ComparedRun:
    """Read one run directory as a :class:`ComparedRun`.

    An SNN run's settings are read by
    :func:`brian_stdp.training.config.read_run_config`, with its checks; an ANN
    run's ``config.json`` (a :class:`brian_stdp.ann.baseline.AnnConfig`) is read as
    the dict it is, for the few fields the comparison shows.

    Raises
    ------
    ConfigError
        The folder is neither an ANN nor an SNN run, its SNN settings are invalid,
        or its metrics lack accuracies.
    """
    run_dir = Path(run_dir)
    config = rundir.load_json(run_dir / rundir.CONFIG)
    metrics = rundir.load_json(run_dir / rundir.METRICS)
    is_object = isinstance(config, dict)
    if is_object and "hidden" not in config and not ("neurons" in config and "model" in config):
        raise ConfigError(f"{run_dir / rundir.CONFIG}: neither an ANN run (no 'hidden') nor "
                          f"an SNN run (no 'model' and 'neurons')")
    if not is_object or "hidden" not in config:
        config = read_run_config(run_dir)  # an SNN run (the reader refuses a non-object)
    try:
        if isinstance(config, dict):
            return _ann_point(run_dir, config, metrics)
        return _snn_point(run_dir, config, metrics)
    except (KeyError, TypeError, ValueError, IndexError) as err:
        raise ConfigError(f"{run_dir / rundir.METRICS}: lacks or garbles {err}; is the run "
                          f"finished?") from None


def _ann_point(run_dir, config, metrics) -> ComparedRun:
    hidden = [int(units) for units in config["hidden"]]
    history = metrics["history"]
    train_seconds = [entry["train_seconds"] for entry in history]
    settings = (config["optimizer"], float(config["lr"]), int(config["batch"]))
    variant = ("" if settings == ("sgd", 0.001, 64)
               else f"{settings[0]}, lr {settings[1]:g}, batch {settings[2]}")
    return ComparedRun(
        kind="ann", run_dir=run_dir, architecture="-".join(map(str, hidden)),
        neurons=sum(hidden), layers=len(hidden), dataset=config["dataset"],
        data=selection_name(config.get("train"), config.get("per_class")),
        seed=int(config["seed"]), epochs=int(metrics["epochs"]),
        train_images=int(metrics["train_images"]), test_images=int(metrics["test_images"]),
        accuracy_by_epoch={int(e["epoch"]): float(e["accuracy_test"]) for e in history},
        train_accuracy_by_epoch={int(e["epoch"]): float(e["accuracy_train"]) for e in history},
        seconds_per_epoch=float(statistics.median(train_seconds)) if train_seconds else None,
        parameters=int(metrics["parameters"]),
        energy_per_image=float(metrics["macs_per_image"]), variant=variant)


def _snn_point(run_dir, config: RunConfig, metrics, key="accuracy_all_activity",
               variant="") -> ComparedRun:
    neurons, dataset = config.neurons, config.dataset
    history = metrics["history"]
    epochs = int(metrics.get("epochs", config.epochs))
    accuracy = {}
    for position, entry in enumerate(history):
        # older runs evaluated only after the last epoch and did not always say which
        epoch = int(entry.get("epoch", epochs if len(history) == 1 else position + 1))
        accuracy[epoch] = float(entry[key])
    timing = metrics.get("timing", {})
    train_phases = [value["seconds"] for key, value in timing.items()
                    if key.startswith("train-")]
    notes = []
    seconds = float(np.mean(train_phases)) if train_phases else None
    if seconds is None:
        notes.append("no training time recorded")
    energy = _snn_events_per_image(neurons, metrics, timing, notes)
    parameters = _snn_parameters(run_dir / rundir.CONFIG, dataset, neurons)
    name = str(metrics.get("model", config.model))
    if config.model != name:  # a model file given by path: name the file too
        name = f"{name} ({Path(config.model).stem})"
    return ComparedRun(
        kind="snn", run_dir=run_dir, architecture=name,
        neurons=neurons, layers=1, dataset=dataset,
        data=selection_name(config.train, config.per_class),
        seed=config.seed, epochs=epochs,
        train_images=int(metrics["train_images"]), test_images=int(metrics["test_images"]),
        accuracy_by_epoch=accuracy, seconds_per_epoch=seconds,
        parameters=parameters, energy_per_image=energy, notes=notes,
        variant=variant)


def _snn_parameters(source, dataset: str, neurons: int) -> int:
    """Plastic input weights and adaptive thresholds of an SNN; ``source`` names the
    file in the error.

    Raises
    ------
    ConfigError
        The dataset has no known input size.
    """
    n_input = INPUT_SIZE.get(dataset)
    if n_input is None:
        raise ConfigError(f"{source}: dataset {dataset!r} has no known input size (known: "
                          f"{', '.join(INPUT_SIZE)})")
    return n_input * neurons + neurons


def _snn_events_per_image(neurons: int, metrics: dict, timing: dict, notes: list):
    """Synaptic events per test image (see the module docstring), or None with a note."""
    tests = sorted((key for key in timing if key.startswith("test-")),
                   key=lambda key: int(key.split("-")[1]))
    if not tests or "input_spikes" not in timing[tests[-1]] or not timing[tests[-1]]["images"]:
        notes.append("energy proxy: input spikes of the test phase not recorded")
        return None
    last = timing[tests[-1]]
    input_spikes = last["input_spikes"] / last["images"]
    output = metrics["history"][-1].get("mean_spikes_per_image")
    if output is None:
        notes.append("energy proxy: excitatory spikes per test image not recorded")
        return None
    excitatory_to_inhibitory = output * 1
    inhibitory_to_excitatory = output * (neurons - 1)  # one inhibitory spike per exc. spike
    return float(input_spikes * neurons + excitatory_to_inhibitory + inhibitory_to_excitatory)


# -- grid results without their run folders ----------------------------------------------
#: Note of every point read from a grid's results table.
GRID_ENERGY_NOTE = "energy proxy: the grid's results.json does not record input spikes"


def find_grid_results(paths) -> list:
    """The grids' results tables (``results.json`` of :mod:`brian_stdp.sweep`) at or
    below ``paths``, each once."""
    found = []
    for path in map(Path, paths):
        here = [path] if path.name == RESULTS_JSON and path.is_file() else sorted(
            path.rglob(RESULTS_JSON))
        found += [results for results in here if results.is_file() and results not in found]
    return found


def load_grid_results(path) -> dict:
    """A grid's ``results.json``, checked to hold a list of rows.

    Raises
    ------
    ConfigError
        The file is not JSON, or has no ``rows`` (a list of dicts).
    """
    results = rundir.load_json(path)
    rows = results.get("rows") if isinstance(results, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ConfigError(f"{path}: not a grid's results (no list of 'rows'); was it written "
                          f"by python -m brian_stdp.sweep?")
    return results


def rows_without_runs(path, results: dict | None = None) -> list:
    """The finished rows of a grid's ``results.json`` (``results``: its content,
    read when not given) whose point folder (``<grid>/points/<point>``) holds no
    finished run: the runs only the table keeps."""
    points = Path(path).parent / POINTS
    results = load_grid_results(path) if results is None else results
    return [row for row in results["rows"]
            if row.get("status") == "finished"
            and not _is_run_dir(points / str(row.get("point")))]


def load_grid_points(path) -> list:
    """The points of a grid's ``results.json`` rows whose run folders are gone.

    Each finished row without a finished run in its point folder becomes the
    :class:`ComparedRun` that :func:`load_points` would have made of that folder, as
    far as the row tells: plus a :data:`LAST_WINNER` point when the row has
    ``accuracy_last_winner_epoch<K>`` for every evaluated epoch. Rows whose
    folders hold a finished run are left to :func:`load_points`. What a row
    cannot tell: the energy proxy (None, with :data:`GRID_ENERGY_NOTE`), and the
    name inside a model file given by path (the point is named by the file's
    stem, as the row is).

    Raises
    ------
    ConfigError
        The file is not a grid's results (see :func:`load_grid_results`), rows
        without run folders are not of spiking networks, or a row lacks what
        a point needs.
    """
    path = Path(path)
    results = load_grid_results(path)
    rows = rows_without_runs(path, results)
    kind = results.get("kind", "snn")
    if rows and kind != "snn":
        raise ConfigError(f"{path}: {len(rows)} finished {kind!r} point(s) without their run "
                          f"folder under {path.parent / POINTS} (e.g. {rows[0].get('point')}); "
                          f"only SNN rows can be read from results.json")
    base = results.get("base") or {}
    points = []
    for row in rows:
        try:
            points += _row_points(path, base, row)
        except (KeyError, TypeError, ValueError) as err:
            raise ConfigError(f"{path}: row {row.get('point')!r} lacks or garbles {err}") \
                from None
    return points


def _row_points(path: Path, base: dict, row: dict) -> list:
    """A grid row as its points: one, and the last-winner one where recorded."""
    epochs = int(row.get("epochs", base.get("epochs", 1)))
    point = _row_point(path, base, row, _row_accuracies(row, "accuracy_all_activity", epochs))
    winner = _row_accuracies(row, "accuracy_last_winner", epochs)
    if not winner or set(winner) != set(point.accuracy_by_epoch):
        return [point]
    return [point, _row_point(path, base, row, winner, LAST_WINNER)]


def _row_accuracies(row: dict, key: str, epochs: int) -> dict:
    """``{epoch: accuracy}`` from ``<key>_epoch<K>``, else ``row[key]`` after the last
    of ``epochs``; empty when neither is there."""
    prefix = f"{key}_epoch"
    accuracy = {int(column[len(prefix):]): float(value) for column, value in row.items()
                if column.startswith(prefix) and value is not None}
    if not accuracy and row.get(key) is not None:
        accuracy = {epochs: float(row[key])}
    return accuracy


def _row_point(path: Path, base: dict, row: dict, accuracy: dict, variant="") -> ComparedRun:
    """One point of a grid row (see :func:`load_grid_points`)."""
    def value(key, default=None):
        return row[key] if key in row else base.get(key, default)

    if not accuracy:
        raise KeyError("accuracy_all_activity")
    dataset = base.get("dataset", "mnist")
    neurons = int(value("neurons"))
    train_images = _selected_images(path, dataset, value("train"), value("per_class"))
    rate = row.get("train_images_per_second")
    notes = [] if rate else ["no training time recorded"]
    return ComparedRun(
        kind="snn", run_dir=Path(f"{path}#{row['point']}"), architecture=str(value("model")),
        neurons=neurons, layers=1, dataset=dataset,
        data=selection_name(value("train"), value("per_class")),
        seed=int(value("seed", 0)), epochs=int(value("epochs", 1)),
        train_images=train_images, test_images=int(row["test_images"]),
        accuracy_by_epoch=accuracy, seconds_per_epoch=train_images / rate if rate else None,
        parameters=_snn_parameters(path, dataset, neurons), energy_per_image=None,
        notes=notes + [GRID_ENERGY_NOTE], variant=variant)


def _selected_images(path: Path, dataset: str, train, per_class) -> int:
    """Training images of a selection: ``per_class`` of each class, the first
    ``train``, or the whole training split (``path`` names the file in the error)."""
    if per_class is not None:
        return int(per_class) * N_CLASSES
    if train is not None:
        return int(train)
    if dataset not in TRAIN_SIZES:
        raise ConfigError(f"{path}: dataset {dataset!r} has no known training size (known: "
                          f"{', '.join(TRAIN_SIZES)})")
    return TRAIN_SIZES[dataset]


# -- aggregation -----------------------------------------------------------------------------
@dataclass
class Group:
    """The seeds of one architecture on one dataset and data selection."""

    points: list

    @property
    def first(self) -> ComparedRun:
        return self.points[0]

    def values(self, getter) -> list:
        """``getter(point)`` of every point, None values left out."""
        return [value for value in map(getter, self.points) if value is not None]

    def mean(self, getter):
        values = self.values(getter)
        return float(np.mean(values)) if values else None

    def spread(self, getter) -> tuple:
        """(min, max) of ``getter`` over the seeds, or (None, None)."""
        values = self.values(getter)
        return (min(values), max(values)) if values else (None, None)

    def std(self, getter):
        values = self.values(getter)
        return float(np.std(values, ddof=1)) if len(values) > 1 else None

    @property
    def seeds(self) -> list:
        return sorted(point.seed for point in self.points)


def group_points(points) -> dict:
    """``{(dataset, data): {(kind, architecture, neurons, epochs, test_images, variant):
    Group}}``, each selection's groups sorted by kind, neurons, architecture.

    Runs that differ in epochs, test images or training settings are kept
    apart, so a group's seeds are the only thing that varies.
    """
    groups = {}
    for point in points:
        key = (point.kind, point.architecture, point.neurons, point.epochs, point.test_images,
               point.variant)
        selection = groups.setdefault((point.dataset, point.data), {})
        selection.setdefault(key, Group([])).points.append(point)
    for selection in groups.values():
        for group in selection.values():
            group.points.sort(key=lambda point: point.seed)
    return {key: dict(sorted(value.items(), key=lambda item: (item[0][0], item[0][2],
                                                              item[0][1], item[0][5])))
            for key, value in sorted(groups.items())}


# -- tables and report -----------------------------------------------------------------------
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
    all_seeds = sorted({seed for group in selection.values() for seed in group.seeds})
    for group in selection.values():
        absent = [seed for seed in all_seeds if seed not in group.seeds]
        if absent:
            missing.append(f"{group.first.kind.upper()} {group.first.architecture} "
                           f"{group.first.neurons}: seed{'s' if len(absent) > 1 else ''} "
                           + ", ".join(map(str, absent)))
    for group in selection.values():
        if any(point.accuracy_epoch1 is None for point in group.points):
            missing.append(f"{group.first.kind.upper()} {group.first.architecture} "
                           f"{group.first.neurons}: not evaluated after epoch 1 (only after "
                           f"epoch {group.first.epochs})")
    return missing


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
    from brian_stdp.plots.comparison import plot_costs, plot_fig1, plot_fig4
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
    save_figure(plot_fig4(groups, list(REQUIRED_SELECTIONS), dataset), out / FIGURES[1])
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
