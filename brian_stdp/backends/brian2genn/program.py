"""A GeNN program built once and run again with new inputs.

brian2genn allows one ``run()`` per build, but the program it builds reads every
value set from an array before ``run()`` (network state, controller state, the
stimulus TimedArray) from a file of its build folder (``static_arrays/``) when it
starts, and writes every array to ``results/`` when it ends; the run's length is
a command-line argument of ``main``. So a build runs again with new values by
rewriting those files, as long as the network's structure (sizes, code) stays
the same. :func:`describe` records, right after the build, which file holds each
input and output (:class:`Program`, saved as ``program.json`` in the build
folder with a key of everything the build depends on); :meth:`Program.run` writes
the inputs, runs ``main`` with the chunk's seed in ``BRIAN_STDP_SEED`` and reads
the outputs back. A later process (``--resume``) loads the saved description
(:func:`load`) and reuses the build, unless its key differs or ``main`` is gone.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from brian_stdp.errors import SimulationError

#: The description of a build, in its build folder.
MANIFEST = "program.json"
#: Version of how a build is made and described; part of every build's key.
FORMAT = 1


@dataclass
class Program:
    """A built GeNN program and the files of its inputs and outputs.

    Attributes
    ----------
    folder : str
        The build folder (``main``, ``static_arrays/``, ``results/``).
    key : str
        Hash of everything the build depends on (:func:`load` compares it).
    duration : float
        Length of one run, in seconds.
    inputs : dict of str to [str, str, int]
        Input key (``"exc.v"``, ``"stim"``) to file in ``static_arrays/``, NumPy dtype
        and number of values.
    outputs : dict of str to [str, str]
        Output key (``"exc.v"``, ``"exc_spikes.t"``) to file in ``results/`` and NumPy
        dtype.
    build_seconds : float
        Seconds the build took (code generation, GeNN, compiler).
    """

    folder: str
    key: str
    duration: float
    inputs: dict
    outputs: dict
    build_seconds: float

    def save(self) -> None:
        """Write the description to the build folder (last: it marks a complete build)."""
        path = Path(self.folder) / MANIFEST
        path.with_suffix(".tmp").write_text(json.dumps(asdict(self), indent=1))
        path.with_suffix(".tmp").replace(path)

    def run(self, values: dict, seed: int, log_path) -> tuple:
        """Run the program once from ``values``.

        Parameters
        ----------
        values : dict of str to ndarray
            A value for every input key, each of the input's size (or broadcastable to it).
        seed : int
            Seed of the run's random numbers (``BRIAN_STDP_SEED``).
        log_path : path
            File the program's output is appended to.

        Returns
        -------
        outputs : dict of str to ndarray
            Every output key's values (flat).
        seconds : float
            Seconds of the simulation loop, as the program measured it.
        """
        folder = Path(self.folder)
        missing = sorted(set(self.inputs) - set(values))
        if missing:
            raise ValueError(f"no value for the program's inputs {missing}")
        for key, (name, dtype, size) in self.inputs.items():
            value = np.broadcast_to(np.asarray(values[key], dtype=dtype).ravel()
                                    if np.ndim(values[key]) else values[key], (size,))
            np.ascontiguousarray(value, dtype=dtype).tofile(folder / "static_arrays" / name)
        env = {**os.environ, "BRIAN_STDP_SEED": str(int(seed))}
        info = folder / "results" / "last_run_info.txt"
        info.unlink(missing_ok=True)
        with open(log_path, "ab") as log_file:
            done = subprocess.run(["./main", "test", repr(float(self.duration))], cwd=folder,
                                  env=env, stdout=log_file, stderr=subprocess.STDOUT)
        if done.returncode != 0 or not info.exists():
            raise SimulationError(f"the GeNN program in {folder} failed (exit status "
                                  f"{done.returncode}); see {log_path}")
        seconds = float(info.read_text().split()[0])
        outputs = {key: np.fromfile(folder / "results" / name, dtype=dtype)
                   for key, (name, dtype) in self.outputs.items()}
        return outputs, seconds


def load(folder, key: str) -> Program | None:
    """The saved program of ``folder`` if it was built for ``key`` and is complete, else None."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file() or not (folder / "main").is_file():
        return None
    try:
        program = Program(**json.loads(path.read_text()))
    except (ValueError, TypeError):
        return None
    if program.key != key:
        return None
    program.folder = str(folder)
    return program


def describe(device, folder, key: str, duration: float, inputs: dict, outputs: dict,
             build_seconds: float) -> Program:
    """The description of the program ``device`` (brian2genn's) has just built.

    Parameters
    ----------
    device : brian2genn's device
        After ``build``: its ``main_queue`` (how each array was set) and
        ``static_arrays`` (the values written).
    folder : path
        The build folder.
    key, duration, build_seconds
        As :class:`Program`'s.
    inputs : dict of str to Variable or str
        Input key to the Brian2 variable set from an array before ``run()``, or to the
        name of a static array (a TimedArray's values).
    outputs : dict of str to Variable
        Output key to the Brian2 variable read after a run.

    Raises
    ------
    RuntimeError
        If an input was not set from an array last (its value would be compiled in).
    """
    last_set = {}
    for func, args in device.main_queue:
        if func == "set_by_array":
            last_set[args[0]] = args[1]
        elif func in ("set_by_constant", "set_by_single_value", "set_array_by_array"):
            last_set[args[0]] = None
    described = {}
    for input_key, var in inputs.items():
        if isinstance(var, str):
            name = var
        else:
            array = (device.dynamic_arrays[var] if var in device.dynamic_arrays
                     else device.arrays[var])
            name = last_set.get(array)
            if name is None:
                raise RuntimeError(f"{input_key} is not set from an array before the GeNN "
                                   f"run; its value would be compiled into the program")
        static = device.static_arrays[name]
        described[input_key] = [name, static.dtype.str, int(static.size)]
    results = {output_key: [Path(device.get_array_filename(var)).name, np.dtype(var.dtype).str]
               for output_key, var in outputs.items()}
    return Program(folder=str(folder), key=key, duration=float(duration), inputs=described,
                   outputs=results, build_seconds=float(build_seconds))

