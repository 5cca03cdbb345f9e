"""Running a grid on Dask: the client, the run of every point that is not finished, the lock.

Each point is one Dask task that starts its run as a fresh process
(:func:`brian_stdp.experiments.grids.points.run_point`). Re-running the same
command continues the grid: a finished point is skipped; an interrupted point
is resumed (an ANN starts again); a failed point is tried again. A point that
fails does not stop the others. After every point the tables are rewritten
(:mod:`brian_stdp.experiments.grids.results`), with the wall time of this
invocation; the figures ``OUT/figures/*.png`` are drawn at the end
(:mod:`brian_stdp.plots.grid_figures`). A lock file refuses a second sweep
writing into the same grid folder, and the session of a sweep that was stopped
is kept, marked interrupted.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from brian_stdp.cli import check_positive
from brian_stdp.errors import ConfigError
from brian_stdp.experiments.grids.files import (LOCK, POINT_RECORD, POINTS, RESULTS_JSON, Grid,
                                                select_points)
from brian_stdp.experiments.grids.points import SWEEP_CTRL_C, point_state, run_point
from brian_stdp.experiments.grids.results import write_results
from brian_stdp.training import rundir


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
    see :func:`brian_stdp.experiments.grids.points._point_process_setup`, told
    through the environment variable ``BRIAN_STDP_SWEEP_CTRL_C`` whether this
    process ignores Ctrl-C). Workers
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
        ``AXIS=VALUE`` filters (see :func:`~brian_stdp.experiments.grids.files.select_points`).
    point_function : callable
        ``point_function(point, run_dir, cwd, resume) -> dict`` runs one point
        and returns its record; :func:`~brian_stdp.experiments.grids.points.run_point` by default.
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
