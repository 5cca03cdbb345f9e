"""Grid files: what a grid is, its points, and the names of the files in its folder.

A grid file (TOML) has fixed overrides of the run defaults in ``[base]`` and
lists of values in ``[grid]``; every combination of the lists is one *point*.
Its ``kind`` (:mod:`brian_stdp.experiments.grids.kinds`) says what a point is: ``snn`` (the
default) a spiking network, ``python -m brian_stdp.run``; ``ann`` a dense
Keras network, ``python -m brian_stdp.ann`` (axes hidden, optimizer, lr,
batch, epochs, train, per_class, seed). Each point has its own run directory
``OUT/points/NAME``, its name made of its axis values, e.g.
``diehl_cook_2015_n400_pc80_e5_s0_cpp_standalone`` or ``pc80_h64-64_adam_seed1``.

:func:`load_grid` reads and checks a grid file into a :class:`Grid`, naming the
file and the key at fault; :func:`select_points` picks points by axis value.
The constants name the files a grid's folder holds.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from brian_stdp.cli import read_toml_file
from brian_stdp.errors import BrianSTDPError, ConfigError
from brian_stdp.experiments.grids.kinds import DEFAULT_KIND, KINDS, Kind, get_kind
from brian_stdp.model.files import model_label

#: Top-level keys of a grid file.
GRID_FILE_KEYS = ("kind", "out", "x_axis", "base", "grid")

#: The folder of the points' run directories, inside the grid's folder.
POINTS = "points"
RESULTS_CSV = "results.csv"
SUMMARY_CSV = "summary.csv"
RESULTS_JSON = "results.json"
#: A point's last attempt (status, command, wall time), in its run directory.
POINT_RECORD = "sweep.json"
#: A point's process output, in its run directory.
POINT_OUTPUT = "sweep_output.txt"
#: Held by the sweep writing into the grid's folder.
LOCK = ".sweep.lock"


@dataclass(frozen=True)
class GridPoint:
    """One run of a grid.

    Attributes
    ----------
    name : str
        Folder name, made of the axis values.
    values : dict
        The point's value of every axis of its kind (``train`` or
        ``per_class`` may be None).
    config : RunConfig or AnnConfig
        The complete run configuration.
    kind : str
        The kind of run (a key of :data:`brian_stdp.experiments.grids.kinds.KINDS`).
    """

    name: str
    values: dict
    config: object
    kind: str = DEFAULT_KIND


@dataclass(frozen=True)
class Grid:
    """A parsed grid file.

    Attributes
    ----------
    path : Path
        The grid file.
    out : Path
        Folder of the grid's points and results.
    base : dict
        Fixed run settings (``[base]``), "all" already turned into None.
    axes : dict of str to list
        Values of every axis listed in ``[grid]``, in the file's order.
    x_axis : str
        Axis on the x-axis of the figures.
    points : tuple of GridPoint
        Every combination, seeds varying slowest (all other points of seed 0
        come first, so a grid stopped early covers every setting once).
    kind : Kind
        What the points are runs of (``snn`` or ``ann``).
    """

    path: Path
    out: Path
    base: dict
    axes: dict
    x_axis: str
    points: tuple
    kind: Kind = KINDS[DEFAULT_KIND]

    def run_dir(self, point: GridPoint) -> Path:
        """The run directory of a point."""
        return self.out / POINTS / point.name


def load_grid(path) -> Grid:
    """Read and check a grid file.

    Parameters
    ----------
    path : path
        The TOML grid file. ``out`` and model paths in it are relative to its
        folder; ``out`` defaults to the file's path without ``.toml``. Its
        optional ``kind`` (``snn``, the default, or ``ann``) says which runs
        the points are (see :mod:`brian_stdp.experiments.grids.kinds`).

    Raises
    ------
    ConfigError
        Naming the file and the key at fault: an unknown key or kind, an axis
        that is not a non-empty list, a key both fixed and varied, ``train``
        together with ``per_class``, two points with the same folder name, or
        a value that the run's own command line would reject.
    """
    path = Path(path)
    raw = read_toml_file(path, str(path), "grid file not found")
    unknown = sorted(set(raw) - set(GRID_FILE_KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown top-level key(s) {', '.join(unknown)} (known: "
                          f"{', '.join(GRID_FILE_KEYS)})")
    kind = get_kind(raw.get("kind", DEFAULT_KIND), str(path))
    for section in ("base", "grid"):
        if not isinstance(raw.get(section, {}), dict):
            raise ConfigError(f"{path}: {section} must be a table ([{section}])")
    fields = kind.fields()
    base_in, axes_in = dict(raw.get("base", {})), dict(raw.get("grid", {}))
    for key in base_in:
        if key not in fields:
            raise ConfigError(f"{path}: [base]: unknown key {key!r} for kind {kind.name!r} "
                              f"(known: {', '.join(fields)})")
    for key in axes_in:
        if key not in kind.axes:
            raise ConfigError(f"{path}: [grid]: unknown or fixed-only key {key!r}; the axes "
                              f"are {', '.join(kind.axes)} (put other settings in [base])")
    both = sorted(set(base_in) & set(axes_in))
    if both:
        raise ConfigError(f"{path}: {', '.join(both)} given in both [base] and [grid]; keep "
                          f"one")
    if not axes_in:
        raise ConfigError(f"{path}: [grid] is empty; list the values of at least one axis")

    grid_dir = path.parent
    base = {key: kind.read_value(key, value, grid_dir, f"{path}: [base] {key}")
            for key, value in base_in.items()}
    axes = {}
    for key, values in axes_in.items():
        where = f"{path}: [grid] {key}"
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{where}: must be a non-empty list of values, e.g. "
                              f"{key} = [{values!r}]")
        values = [kind.read_value(key, value, grid_dir, where) for value in values]
        if len(set(values)) != len(values):
            raise ConfigError(f"{where}: a value appears twice in {values!r}")
        axes[key] = values
    if {"train", "per_class"} <= set(base) | set(axes):
        raise ConfigError(f"{path}: give the training images either as train or as "
                          f"per_class, not both")

    x_axis = raw.get("x_axis")
    varied = [key for key in axes if key not in ("model", "seed") and len(axes[key]) > 1]
    if x_axis is None:
        x_axis = varied[0] if varied else next(iter(axes))
    elif x_axis not in axes:
        raise ConfigError(f"{path}: x_axis = {x_axis!r} is not an axis of [grid] "
                          f"({', '.join(axes)})")
    out = Path(raw["out"]) if "out" in raw else Path(path.stem)
    out = grid_dir / out if not out.is_absolute() else out

    points = _expand(path, kind, base, axes)
    return Grid(path=path, out=out, base=base, axes=axes, x_axis=x_axis, points=points,
                kind=kind)


def _expand(path, kind: Kind, base, axes) -> tuple:
    """Every point of a grid, seeds varying slowest."""
    order = [key for key in axes if key != "seed"] + (["seed"] if "seed" in axes else [])
    given = set(base) | set(axes)
    points, names = [], {}
    for combo in itertools.product(*(axes[key] for key in reversed(order))):
        chosen = dict(zip(reversed(order), combo))
        try:
            config = kind.make_config({**base, **chosen}, given)
        except BrianSTDPError as err:
            raise ConfigError(f"{path}: the point {chosen} is invalid: {err}") from None
        name = kind.point_name(config)
        if name in names:
            raise ConfigError(f"{path}: the points {names[name]} and {chosen} share the folder "
                              f"name {name!r} (two model files with the same name?)")
        names[name] = chosen
        points.append(GridPoint(name=name, values=kind.values(config), config=config,
                                kind=kind.name))
    return tuple(points)


def select_points(grid: Grid, selections) -> list:
    """The points that match the ``KEY=VALUE`` texts in ``selections``: for every key
    given, any one of its values (``seed=1`` and ``seed=2`` select both seeds; a value
    may hold commas, as an ANN's ``hidden=8,8``).

    Raises
    ------
    ConfigError
        For a key that is not an axis, or a value that no point has (a grid holds every
        combination of its axes' values, so values that points have meet in some point).
    """
    wanted = {}
    for text in selections or ():
        key, sep, value = text.partition("=")
        if not sep or key not in grid.kind.axes:
            raise ConfigError(f"--select {text}: expected AXIS=VALUE with AXIS one of "
                              f"{', '.join(grid.kind.axes)}")
        if not any(_matches(p.values[key], value) for p in grid.points):
            raise ConfigError(f"--select {text}: no point of {grid.path} matches")
        wanted.setdefault(key, []).append(value)
    chosen = list(grid.points)
    for key, values in wanted.items():
        chosen = [p for p in chosen if any(_matches(p.values[key], v) for v in values)]
    return chosen


def _matches(value, wanted: str) -> bool:
    if value is None:
        return wanted.lower() == "all"
    if isinstance(value, str) and value.endswith(".toml"):
        return wanted in (value, model_label(value))
    return str(value) == wanted
