"""Grids of runs (model x neurons x training size x epochs x seed x device) on Dask
(``python -m brian_stdp.sweep``).

A grid file (TOML) has fixed overrides of the run defaults in ``[base]`` and
lists of values in ``[grid]``; every combination of the lists is one *point*.
Its ``kind`` (:mod:`brian_stdp.experiments.grids.kinds`) says what a point is: ``snn`` (the
default) a spiking network, ``python -m brian_stdp.run``; ``ann`` a dense
Keras network, ``python -m brian_stdp.ann`` (axes hidden, optimizer, lr,
batch, epochs, train, per_class, seed). Each point is one ordinary run of
that command, started as a fresh process by a Dask task, in its own run
directory ``OUT/points/NAME`` (its Brian2 build folder is inside it, so no
two points share one). The point's name is made of its axis values, e.g.
``diehl_cook_2015_n400_pc80_e5_s0_cpp_standalone`` or ``pc80_h64-64_adam_seed1``.

Why a process per point: Brian2's device (``set_device``, the standalone
project it builds) is global to a Python process, a compiled network keeps
memory until the process ends, and a crash in generated code (a segfault)
would take the Dask worker with it. A subprocess gives every point a clean
device, returns all its memory, and turns any crash into an exit status that
is recorded as a failure, while the worker carries on.

Re-running the same command continues the grid: a point whose
``metrics.json`` exists is finished and skipped; an interrupted point (a
checkpoint, no metrics) is resumed (an ANN, which has no checkpoint, starts
again); a failed point is tried again. A point
that fails is recorded (``status = failed`` with its error line and the tail
of its output) and does not stop the others. After every point the tables
``OUT/results.csv`` (one row per point), ``OUT/summary.csv`` (mean, standard
deviation, minimum and maximum over the seeds, per evaluated epoch) and
``OUT/results.json`` (both, plus the wall time of every invocation) are
rewritten; the figures ``OUT/figures/*.png`` are drawn at the end
(:mod:`brian_stdp.plots.grid_figures`).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from brian_stdp.cli import check_positive, read_toml_file
from brian_stdp.errors import BrianSTDPError, ConfigError
from brian_stdp.experiments.grids.kinds import DEFAULT_KIND, KINDS, Kind, get_kind
from brian_stdp.model.files import model_label
from brian_stdp.training import rundir

#: Top-level keys of a grid file.
GRID_FILE_KEYS = ("kind", "out", "x_axis", "base", "grid")

POINTS = "points"
RESULTS_CSV = "results.csv"
SUMMARY_CSV = "summary.csv"
RESULTS_JSON = "results.json"
POINT_RECORD = "sweep.json"
POINT_OUTPUT = "sweep_output.txt"
LOCK = ".sweep.lock"

#: Environment variable telling a point's process how the sweep answers Ctrl-C.
SWEEP_CTRL_C = "BRIAN_STDP_SWEEP_CTRL_C"

#: Lines of a failed point's output kept in the tables.
LOG_TAIL_LINES = 15

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


# -- grid files ---------------------------------------------------------------------------
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
    """The points whose axis values match every ``KEY=VALUE`` in ``selections``.

    Raises
    ------
    ConfigError
        For a key that is not an axis, or a selection that matches no point.
    """
    chosen = list(grid.points)
    for text in selections or ():
        key, sep, wanted = text.partition("=")
        if not sep or key not in grid.kind.axes:
            raise ConfigError(f"--select {text}: expected AXIS=VALUE with AXIS one of "
                              f"{', '.join(grid.kind.axes)}")
        chosen = [p for p in chosen if _matches(p.values[key], wanted)]
        if not chosen:
            raise ConfigError(f"--select {text}: no point of {grid.path} matches")
    return chosen


def _matches(value, wanted: str) -> bool:
    if value is None:
        return wanted.lower() == "all"
    if isinstance(value, str) and value.endswith(".toml"):
        return wanted in (value, model_label(value))
    return str(value) == wanted


# -- one point ----------------------------------------------------------------------------
def point_state(grid: Grid, point: GridPoint) -> str:
    """``finished``, ``interrupted``, ``failed`` or ``pending``.

    Raises
    ------
    ConfigError
        If the folder holds a run made with other settings (the grid file was
        changed) or, for a spiking network, another version of its model file:
        its results would be mixed with the new ones.
    """
    run_dir = grid.run_dir(point)
    kind = KINDS[point.kind]
    if (run_dir / rundir.CONFIG).exists():
        reason = kind.stale_reason(point.config, run_dir, grid.path)
        if reason:
            raise ConfigError(f"{run_dir}: {reason}")
    if (run_dir / rundir.METRICS).exists():
        return "finished"
    if kind.resumable(run_dir):
        return "interrupted"
    record = run_dir / POINT_RECORD
    if record.exists() and rundir.load_json(record).get("status") == "failed":
        return "failed"
    return "pending"


def run_command(point: GridPoint, run_dir: Path, resume: bool) -> list:
    """The command line of a point: ``python -m brian_stdp.run`` or ``brian_stdp.ann``.

    Every field of the point's configuration becomes the flag of the same
    name (see :meth:`brian_stdp.experiments.grids.kinds.Kind.command`).
    """
    return KINDS[point.kind].command(point.config, Path(run_dir), resume)


def run_point(point: GridPoint, run_dir, cwd, resume: bool = False) -> dict:
    """Run one point as a fresh ``python -m brian_stdp.run`` (or ``.ann``) process (a Dask task).

    Parameters
    ----------
    point : GridPoint
    run_dir : path
        The point's run directory (absolute, or relative to ``cwd``).
    cwd : path
        Working directory of the process (the repository root).
    resume : bool
        Continue an interrupted run from its checkpoint.

    Returns
    -------
    dict
        The attempt's record (also saved as ``RUN_DIR/sweep.json``): status
        ``finished`` or ``failed``, return code, command, start time, wall
        seconds, and for a failure the error line and the output's last lines.
    """
    run_dir = Path(cwd) / run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    if not resume:
        KINDS[point.kind].prepare(run_dir)
    command = run_command(point, run_dir, resume)
    env = dict(os.environ, OMP_NUM_THREADS=str(point.config.threads),
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    started = datetime.now(UTC).isoformat(timespec="seconds")
    start = time.perf_counter()
    with open(run_dir / POINT_OUTPUT, "wb") as output:
        code = subprocess.run(command, cwd=cwd, env=env, stdout=output,
                              stderr=subprocess.STDOUT, preexec_fn=_point_process_setup,
                              check=False).returncode
    seconds = time.perf_counter() - start
    finished = code == 0 and (run_dir / rundir.METRICS).exists()
    record = {"point": point.name, "status": "finished" if finished else "failed",
              "returncode": code, "command": command, "started": started,
              "wall_seconds": round(seconds, 1), "host": os.uname().nodename}
    if not finished:
        record.update(_failure(run_dir / POINT_OUTPUT, code))
    rundir.save_json(run_dir / POINT_RECORD, record)
    return record


def _point_process_setup():
    """Prepare a point's process before it starts (runs in the child, before exec).

    Ask Linux to end it when the worker that started it ends (``prctl``
    ``PR_SET_PDEATHSIG``; a no-op where that is missing): without it, stopping
    a sweep would leave its runs going; the run's checkpoint lets the next
    sweep resume it. And give it the sweep's own answer to Ctrl-C (SIGINT),
    not the worker's (see :func:`_workers_ignore_ctrl_c`): stop, as a
    KeyboardInterrupt that keeps the run's checkpoint, or, when the sweep
    itself ignores it (started in the background by a script), ignore it.
    """
    ignore = os.environ.get(SWEEP_CTRL_C) == "ignore"
    signal.signal(signal.SIGINT, signal.SIG_IGN if ignore else signal.SIG_DFL)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _failure(output_path: Path, code: int) -> dict:
    """The error line and the last lines of a failed point's output."""
    lines = output_path.read_text(errors="replace").splitlines() if output_path.exists() else []
    errors = [line for line in lines if line.startswith("error: ")]
    if errors:
        error = errors[-1][len("error: "):]
    elif lines:
        error = lines[-1]
    else:
        error = f"exit status {code} and no output"
    if code < 0:
        error = f"killed by signal {-code}: {error}"
    return {"error": error, "log_tail": "\n".join(lines[-LOG_TAIL_LINES:])}


# -- running a grid -----------------------------------------------------------------------
def make_client(workers: int | None = None, scheduler: str | None = None):
    """A Dask client: on ``scheduler`` if given, else on a new LocalCluster.

    The LocalCluster has ``workers`` worker processes (default: one per core),
    one thread each, and its dashboard on a free port.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError("the grid runner needs Dask: pip install -e '.[dask]'") from None
    if scheduler:
        if workers:
            raise ConfigError("--workers sizes a LocalCluster; with --scheduler the cluster "
                              "decides")
        try:
            return Client(scheduler, timeout="20s")
        except OSError as err:
            raise ConfigError(f"--scheduler {scheduler}: cannot connect ({err})") from None
    if workers is not None:
        check_positive(workers, "--workers")
    n_workers = workers or os.cpu_count() or 1
    import dask

    # Hand a worker its next point only when it is free, so points start in the
    # grid's order (all of seed 0 first) instead of queueing behind a slow one.
    dask.config.set({"distributed.scheduler.worker-saturation": 1.0})
    with _workers_ignore_ctrl_c():
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=":0")
    return Client(cluster)


@contextlib.contextmanager
def _workers_ignore_ctrl_c():
    """Start worker processes that ignore Ctrl-C (SIGINT); this process keeps its handler.

    Ctrl-C in a terminal reaches every process of the sweep. This process
    stops the grid (and closes the cluster, which ends the workers); the
    point processes stop their runs (an interrupted run keeps its checkpoint;
    see :func:`_point_process_setup`, told through the environment variable
    ``BRIAN_STDP_SWEEP_CTRL_C`` whether this process ignores Ctrl-C). Workers
    that ignore it print no tracebacks of their own. Only the main thread can
    change signal handlers; elsewhere nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited by the workers
    os.environ[SWEEP_CTRL_C] = "ignore" if previous == signal.SIG_IGN else "stop"
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _echo(line: str) -> None:
    print(line, flush=True)


def run_grid(grid: Grid, client, selections=(), point_function=run_point, cwd=None,
             echo=_echo) -> dict:
    """Run every selected point that is not finished; gather the results.

    Parameters
    ----------
    grid : Grid
    client : distributed.Client
        Where the points run; each is one task.
    selections : sequence of str
        ``AXIS=VALUE`` filters (see :func:`select_points`).
    point_function : callable
        ``point_function(point, run_dir, cwd, resume) -> dict`` runs one point
        and returns its record; :func:`run_point` by default.
    cwd : path, optional
        Working directory of the points (default: the current one).
    echo : callable
        Called with one line per finished task.

    Returns
    -------
    dict
        ``results.json``'s content.
    """
    from distributed import as_completed

    cwd = Path(cwd or Path.cwd()).resolve()
    chosen = select_points(grid, selections)
    states = {p.name: point_state(grid, p) for p in chosen}  # raises before anything runs
    out = grid.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    start = time.perf_counter()
    todo = [p for p in chosen if states[p.name] != "finished"]
    session = {"started": started_at, "grid": str(grid.path), "selected": list(selections),
               "points_selected": len(chosen), "skipped_finished": len(chosen) - len(todo),
               "ran": 0, "finished": 0, "failed": 0,
               "workers": len(client.scheduler_info().get("workers", {})),
               "scheduler": client.scheduler_info().get("address")}
    echo(f"{grid.path}: {len(grid.points)} points, {len(chosen)} selected, "
         f"{session['skipped_finished']} already finished, {len(todo)} to run on "
         f"{session['workers']} worker(s)")
    with _lock(out):
        _close_interrupted_session(out)
        session["wall_seconds"] = 0.0
        write_results(grid, pending_session=session)
        futures = {}
        for order, point in enumerate(todo):
            future = client.submit(point_function, point, out / POINTS / point.name, cwd,
                                   states[point.name] == "interrupted", pure=False,
                                   priority=len(todo) - order, key=f"point-{point.name}-"
                                   f"{os.getpid()}-{time.time_ns()}")
            futures[future] = point
        for future in as_completed(futures):
            point = futures[future]
            try:
                record = future.result()
            except Exception as err:  # noqa: BLE001 - any task error is this point's failure
                record = {"point": point.name, "status": "failed", "returncode": None,
                          "error": f"{type(err).__name__}: {err}", "log_tail": ""}
                rundir.save_json(out / POINTS / point.name / POINT_RECORD, record)
            session["ran"] += 1
            session[record["status"]] += 1
            echo(f"[{session['ran']}/{len(todo)}] {point.name}: {record['status']}"
                 + (f" ({record.get('wall_seconds', '?')} s)" if record["status"] == "finished"
                    else f": {record['error']}"))
            session["wall_seconds"] = round(time.perf_counter() - start, 1)
            write_results(grid, pending_session=session)
        session["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        session["wall_seconds"] = round(time.perf_counter() - start, 1)
        results = write_results(grid, session=session)
        from brian_stdp.plots.grid_figures import make_grid_figures

        make_grid_figures(grid, results)
    return results


class _lock:
    """Refuse a second sweep writing into the same grid folder at the same time."""

    def __init__(self, out: Path):
        self.path = out / LOCK

    def __enter__(self):
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            pid = self.path.read_text().strip() or "?"
            if pid.isdigit() and not _alive(int(pid)):
                self.path.unlink(missing_ok=True)
                return self.__enter__()
            raise ConfigError(f"{self.path}: another sweep (process {pid}) is running this "
                              f"grid; wait for it, or delete the file if it is gone") from None
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))
        return self

    def __exit__(self, *exc):
        self.path.unlink(missing_ok=True)


def _close_interrupted_session(out: Path) -> None:
    """Keep the wall time of a sweep that was stopped before it finished.

    A running sweep keeps its session under ``running`` in ``results.json``;
    if the previous one never finished, that session is moved to the list of
    sessions, marked ``interrupted``.
    """
    path = out / RESULTS_JSON
    if not path.exists():
        return
    results = rundir.load_json(path)
    running = results.pop("running", None)
    if running is not None:
        results.setdefault("sessions", []).append({**running, "interrupted": True})
        rundir.save_json(path, results)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- results ------------------------------------------------------------------------------
def collect(grid: Grid) -> list:
    """One row per point of the grid, from the point folders.

    Returns
    -------
    list of dict
        Axis values, ``status`` (finished, failed, interrupted or pending),
        the numbers its kind takes from a finished run (for a spiking network:
        label and test image counts, the final accuracies, training speed in
        images/s, compile time in s; for an ANN: test accuracy after the last
        and the best epoch, parameters, multiply-accumulates per image, seconds
        per epoch), one ``<accuracy key>_epoch<k>`` column per evaluated epoch,
        the wall time (s) of the point's last attempt (only the resumed part,
        for a resumed point), and for a failed point ``error`` and
        ``log_tail``; ``stale`` points (see :func:`point_state`) carry the
        reason in ``error``.
    """
    rows = []
    for point in grid.points:
        run_dir = grid.run_dir(point)
        row = {"point": point.name, **point.values}
        if "model" in row:
            row["model"] = model_label(row["model"])
        try:
            row["status"] = point_state(grid, point)
        except ConfigError as err:
            row.update(status="stale", error=str(err))
            rows.append(row)
            continue
        record = (rundir.load_json(run_dir / POINT_RECORD)
                  if (run_dir / POINT_RECORD).exists() else {})
        if row["status"] == "finished":
            row.update(grid.kind.metrics_row(rundir.load_json(run_dir / rundir.METRICS)))
            if record.get("status") == "finished":
                row["wall_seconds"] = record.get("wall_seconds")
        elif row["status"] == "failed":
            row.update(error=record.get("error"), log_tail=record.get("log_tail"))
        rows.append(row)
    return rows


def summarise(rows: list, axes=KINDS[DEFAULT_KIND].axes) -> list:
    """Mean and spread over the seeds of every accuracy, per setting and evaluated epoch.

    Parameters
    ----------
    rows : list of dict
        As :func:`collect` returns them.
    axes : sequence of str
        The axes of the grid's kind; a setting is a point's values of all of
        them except ``seed``.

    Returns
    -------
    list of dict
        One row per (setting, epoch, accuracy key): the axis values except
        ``seed``, ``epoch``, ``metric``, ``n_seeds``, ``seeds``, ``mean``,
        ``std`` (sample standard deviation, ddof = 1; empty for one seed),
        ``min`` and ``max``, accuracies as fractions in [0, 1].
    """
    groups = {}
    for row in rows:
        if row["status"] != "finished":
            continue
        setting = tuple((key, row[key]) for key in axes if key != "seed")
        for column, value in row.items():
            if "_epoch" not in column or not column.startswith("accuracy"):
                continue
            metric, _, epoch = column.rpartition("_epoch")
            groups.setdefault((setting, int(epoch), metric), []).append((row["seed"], value))
    summary = []
    for (setting, epoch, metric), values in sorted(groups.items(), key=_sort_key):
        accuracies = [v for _, v in values]
        n = len(accuracies)
        mean = sum(accuracies) / n
        std = (math.sqrt(sum((a - mean) ** 2 for a in accuracies) / (n - 1)) if n > 1
               else None)
        summary.append({**dict(setting), "epoch": epoch, "metric": metric, "n_seeds": n,
                        "seeds": " ".join(str(s) for s, _ in sorted(values)), "mean": mean,
                        "std": std, "min": min(accuracies), "max": max(accuracies)})
    return summary


def _sort_key(item):
    (setting, epoch, metric), _ = item
    return tuple((v is None, v if v is not None else 0) if not isinstance(v, str) else (0, v)
                 for _, v in setting), epoch, metric


def write_results(grid: Grid, session: dict | None = None,
                  pending_session: dict | None = None) -> dict:
    """Write ``results.csv``, ``summary.csv`` and ``results.json``; return the JSON content.

    ``session`` (a finished invocation: its wall time and counts) is appended
    to the list of sessions kept in ``results.json``; ``pending_session`` is
    shown as ``running`` without being appended.
    """
    out = grid.out
    out.mkdir(parents=True, exist_ok=True)
    rows = collect(grid)
    summary = summarise(rows, grid.kind.axes)
    previous = out / RESULTS_JSON
    sessions = rundir.load_json(previous).get("sessions", []) if previous.exists() else []
    if session is not None:
        sessions.append(session)
    counts = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    results = {
        "grid": str(grid.path), "kind": grid.kind.name, "base": grid.base, "axes": grid.axes,
        "x_axis": grid.x_axis,
        "points": len(rows), "status_counts": counts,
        "wall_seconds_total": round(sum(s.get("wall_seconds", 0) for s in sessions), 1),
        "sessions": sessions, "rows": rows, "summary": summary,
    }
    if pending_session is not None:
        results["running"] = pending_session
    rundir.save_json(out / RESULTS_JSON, results)
    rundir.save_csv(out / RESULTS_CSV, [{k: v for k, v in r.items() if k != "log_tail"}
                                        for r in rows])
    rundir.save_csv(out / SUMMARY_CSV, summary)
    return results
