"""One point of a grid: its state, its command line, and its run as a process of its own.

Why a process per point: Brian2's device (``set_device``, the standalone
project it builds) is global to a Python process, a compiled network keeps
memory until the process ends, and a crash in generated code (a segfault)
would take the Dask worker with it. A subprocess gives every point a clean
device, returns all its memory, and turns any crash into an exit status that
is recorded as a failure (``status = failed`` with its error line and the
tail of its output, in ``RUN_DIR/sweep.json``), while the worker carries on.

A point is ``finished`` when its ``metrics.json`` exists, ``interrupted``
when it has a checkpoint and no metrics (an ANN, which has no checkpoint,
never is), ``failed`` when its last attempt failed, else ``pending``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from brian_stdp.errors import ConfigError
from brian_stdp.experiments.grids.files import POINT_OUTPUT, POINT_RECORD, Grid, GridPoint
from brian_stdp.experiments.grids.kinds import KINDS
from brian_stdp.training import rundir

#: Environment variable telling a point's process how the sweep answers Ctrl-C.
SWEEP_CTRL_C = "BRIAN_STDP_SWEEP_CTRL_C"

#: Lines of a failed point's output kept in the tables.
LOG_TAIL_LINES = 15


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
    env = dict(os.environ, OMP_NUM_THREADS=str(point.config.threads or 1),
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
    not the worker's (see
    :func:`brian_stdp.experiments.grids.runner._workers_ignore_ctrl_c`): stop,
    as a KeyboardInterrupt that keeps the run's checkpoint, or, when the sweep
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
