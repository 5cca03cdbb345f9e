"""A run's checkpoint: where it stands (:class:`Progress`), its network state and its records.

``checkpoint.npz`` in the run directory is rewritten atomically after every chunk:
``state/<object>.<variable>`` arrays, ``records/<phase kind>/<name>`` arrays and
``progress`` (JSON). :func:`load_checkpoint` reads back what :func:`save_checkpoint` wrote.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

import numpy as np

from brian_stdp.training import rundir


@dataclass
class Progress:
    """Where a run stands, saved with every checkpoint (as JSON).

    Attributes
    ----------
    phase_index : int
        Index in :func:`phases` of the phase running now.
    position : int
        Images of that phase done.
    chunk_index : int
        Training chunks run so far, all training phases together (each one's seed
        depends on it; label and test phases run blocks with seeds of their own).
    ctrl : list of int or None
        Controller state (img, attempts, count) for the next chunk; None: fresh.
    blocks_done : list of int
        A label or test phase: indices of its blocks done so far, in the order they
        finished (:func:`brian_stdp.training.chunks.blocks`).
    history : list of dict
        One evaluation per test phase so far.
    timing : dict
        Seconds, images and input spikes per phase; ``compile_seconds`` and ``builds``.
    done : bool
        The run finished (metrics written).
    """

    phase_index: int = 0
    position: int = 0
    chunk_index: int = 0
    ctrl: list | None = None
    blocks_done: list = field(default_factory=list)
    history: list = field(default_factory=list)
    timing: dict = field(default_factory=dict)
    done: bool = False

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "Progress":
        return cls(**json.loads(text))


def save_checkpoint(path, progress: Progress, state: dict, records: dict) -> None:
    """Write the checkpoint atomically.

    Parameters
    ----------
    path : path
    progress : Progress
    state : dict of str to ndarray
        Network state (``"object.variable"`` keys).
    records : dict of str to dict of str to ndarray
        Per phase kind, the arrays it fills.
    """
    arrays = {f"state/{key}": value for key, value in state.items()}
    for kind, rec in records.items():
        for key, value in rec.items():
            arrays[f"records/{kind}/{key}"] = value
    arrays["progress"] = np.array(progress.to_json())
    rundir.save_arrays(path, arrays)


def load_checkpoint(path) -> tuple:
    """(progress, state, records) as :func:`save_checkpoint` wrote them."""
    arrays = rundir.load_arrays(path)
    progress = Progress.from_json(str(arrays.pop("progress")))
    state, records = {}, {}
    for key, value in arrays.items():
        if key.startswith("state/"):
            state[key[len("state/"):]] = value
        else:
            _, kind, name = key.split("/")
            records.setdefault(kind, {})[name] = value
    return progress, state, records
