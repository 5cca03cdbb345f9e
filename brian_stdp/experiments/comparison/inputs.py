"""The comparison's inputs: every point at or below the paths it is given.

Every path is a run directory (``config.json`` + ``metrics.json``) or a folder
searched recursively for them and for grids' ``results.json``. Run directories
are read by :mod:`~brian_stdp.experiments.comparison.runs`, the rows of grids
whose run folders are gone by :mod:`~brian_stdp.experiments.comparison.grid_rows`.
"""

from __future__ import annotations

from pathlib import Path

from brian_stdp.errors import ConfigError
from brian_stdp.experiments.comparison.grid_rows import (find_grid_results, load_grid_points,
                                                         rows_without_runs)
from brian_stdp.experiments.comparison.runs import is_run_dir, load_points
from brian_stdp.experiments.grids.files import RESULTS_JSON
from brian_stdp.training import rundir


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
        here = [path] if is_run_dir(path) else sorted(
            metrics.parent for metrics in path.rglob(rundir.METRICS)
            if is_run_dir(metrics.parent))
        if not here and not any(map(rows_without_runs, find_grid_results([path]))):
            if empty is None:
                raise ConfigError(f"{path}: holds no finished run (no folder with both "
                                  f"{rundir.CONFIG} and {rundir.METRICS}, no finished row "
                                  f"in a grid's {RESULTS_JSON})")
            empty.append(path)
        found += [run_dir for run_dir in here if run_dir not in found]
    return found
