"""A grid's SNN points whose run folders are gone, read from its ``results.json``.

A grid of :mod:`brian_stdp.sweep` keeps its runs under ``<grid>/points/`` and
their numbers in ``<grid>/results.json``. Where a finished SNN point's folder is
gone (``points/`` is not kept in the repository), its row of ``results.json``
is read instead (:func:`load_grid_points`): the same accuracies and counts,
the time per epoch derived from the recorded training speed, no energy proxy
(the table does not record input spikes). A point whose folder holds a
finished run is read from the folder only
(:func:`~brian_stdp.experiments.comparison.runs.load_points`). ANN grids must
keep their folders.
"""

from __future__ import annotations

from pathlib import Path

from brian_stdp.data.datasets import N_CLASSES, TRAIN_SIZES, selection_name
from brian_stdp.errors import ConfigError
from brian_stdp.experiments.comparison.runs import (LAST_WINNER, ComparedRun, is_run_dir,
                                                    snn_parameters)
from brian_stdp.experiments.grids.files import POINTS, RESULTS_JSON
from brian_stdp.training import rundir


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
            and not is_run_dir(points / str(row.get("point")))]


def load_grid_points(path) -> list:
    """The points of a grid's ``results.json`` rows whose run folders are gone.

    Each finished row without a finished run in its point folder becomes the
    :class:`ComparedRun` that :func:`~brian_stdp.experiments.comparison.runs.load_points`
    would have made of that folder, as far as the row tells: plus a
    :data:`LAST_WINNER` point when the row has ``accuracy_last_winner_epoch<K>``
    for every evaluated epoch. Rows whose folders hold a finished run are left
    to ``load_points``. What a row cannot tell: the energy proxy (None, with
    :data:`GRID_ENERGY_NOTE`), and the name inside a model file given by path
    (the point is named by the file's stem, as the row is).

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
        parameters=snn_parameters(path, dataset, neurons), energy_per_image=None,
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
