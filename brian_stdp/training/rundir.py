"""Run directories: layout, atomic saving and loading, provenance.

Every command writes one folder that every other command can read::

    RUN_DIR/
      config.json       the resolved configuration (every flag, defaults filled)
      provenance.json   seed, device, versions, command line, host, times
      model.toml        verbatim copy of the model file used
      log.txt           what the run printed
      checkpoint.npz    network state and progress after the last chunk
      state.npz         the trained network (weights, theta, assignments, ...)
      metrics.json      accuracies, confusion matrix, activity and speed figures
      figures/*.png     receptive fields, confusion matrix, accuracy, activity

Files are written to a temporary name in the same folder and moved into
place, so an interrupted run never leaves a half-written file; every writer of
a run's or an experiment's files (JSON, CSV, arrays, text) is here.
"""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from brian_stdp import __version__
from brian_stdp.errors import ConfigError

CONFIG = "config.json"
PROVENANCE = "provenance.json"
MODEL_COPY = "model.toml"
LOG = "log.txt"
CHECKPOINT = "checkpoint.npz"
STATE = "state.npz"
METRICS = "metrics.json"
FIGURES = "figures"

#: Files whose presence means that a folder already holds a run.
RUN_MARKERS = (CONFIG, CHECKPOINT, STATE, METRICS)


def run_files(run_dir) -> list:
    """The :data:`RUN_MARKERS` that ``run_dir`` holds (names, in that order)."""
    return [name for name in RUN_MARKERS if (Path(run_dir) / name).exists()]


def refuse_existing_run(run_dir, instead: str, name: str = "--out") -> None:
    """Raise :class:`ConfigError` if ``run_dir`` already holds a run.

    Called before anything is written, so a refused folder stays as it was.

    Parameters
    ----------
    run_dir : path
        The folder given to ``--out``.
    instead : str
        What to do instead, ending the one-line message (e.g. the ``--resume``
        command that continues the run there).
    name : str
        How the command line calls the folder (a flag or an argument).
    """
    found = run_files(run_dir)
    if found:
        raise ConfigError(f"{name} {run_dir}: already holds a run ({', '.join(found)}); "
                          f"{instead}")


def atomic_write(path: Path, write) -> None:
    """Call ``write(file_object)`` on a temporary file, then move it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes files private; results are not
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_json(path: Path, data) -> None:
    """Write ``data`` as indented JSON, atomically."""
    text = json.dumps(data, indent=2, sort_keys=False, default=_json_default) + "\n"
    atomic_write(path, lambda f: f.write(text.encode()))


def save_csv(path: Path, rows: list, columns=None) -> None:
    """Write ``rows`` (dicts) as CSV, atomically: floats to 6 significant digits, None
    as an empty cell.

    ``columns``: the header, in order (default: every key of the rows, in the order
    they first appear); a row with a key outside it is an error.
    """
    if columns is None:
        columns = dict.fromkeys(key for row in rows for key in row)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: ("" if value is None else
                               f"{value:.6g}" if isinstance(value, float) else value)
                         for key, value in row.items()})
    atomic_write(path, lambda f: f.write(text.getvalue().encode()))


def save_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8), atomically."""
    atomic_write(path, lambda f: f.write(text.encode()))


def load_json(path: Path):
    """Read a JSON file of a run directory, with a clear error if it is missing or broken."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found; is {Path(path).parent} a run directory?") from None
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path}: not valid JSON ({err})") from None


def save_arrays(path: Path, arrays: dict) -> None:
    """Write named arrays as an uncompressed ``.npz``, atomically."""
    atomic_write(path, lambda f: np.savez(f, **arrays))


def load_arrays(path: Path) -> dict:
    """Read every array of an ``.npz`` file into a dict."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found; is {Path(path).parent} a finished run "
                          f"directory?") from None
    except (ValueError, OSError) as err:
        raise ConfigError(f"{path}: cannot be read ({err}); the file is damaged") from None


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def provenance(seed: int, device: str) -> dict:
    """Where, when and with what a run was made."""
    import brian2

    versions = {"brian_stdp": __version__, "python": platform.python_version(),
                "brian2": brian2.__version__, "numpy": np.__version__}
    for name in ("brian2cuda", "brian2genn", "tensorflow"):
        module = sys.modules.get(name)
        if module is not None:
            versions[name] = getattr(module, "__version__", "?")
    return {
        "seed": seed, "device": device, "versions": versions, "git_commit": _git_commit(),
        "command": " ".join(sys.argv), "host": socket.gethostname(),
        "platform": platform.platform(), "cpu_count": os.cpu_count(),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).parent, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None
