"""A finished run in compact form, small enough to commit and ship: the learned values only.

    python -m brian_stdp.pretrained RUN_DIR DEST

``DEST`` is a run directory that :mod:`brian_stdp.predict` reads like any
other (``config.json``, ``provenance.json``, ``model.toml``, ``metrics.json``,
``figures/``), except that its ``state.npz`` holds only what the run learned
and how its neurons were labelled (:data:`COMPACT_KEYS`): ``weights``
(n_input, n_neurons) and ``theta`` (n_neurons,) in volts, as float32, and
``assignment``, ``rates``, ``proportions``, ``image_shape``, and ``silenced`` for a run
that kept neurons silent in its label and test phases (``--silence-below``). Everything else
(the delays, the membrane state) is what every run with the same seed, model
and size starts from (:func:`brian_stdp.training.trainer.initial_rng`), rebuilt by
:func:`expand_state`.

:data:`PRETRAINED` is the network committed with the project.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from brian_stdp.errors import ConfigError
from brian_stdp.training import rundir

#: The committed network: the default model, 400 neurons, one epoch of the MNIST training set.
PRETRAINED = Path(__file__).resolve().parents[2] / "pretrained" / "diehl_cook_2015_400n"

#: The arrays of a compact ``state.npz``.
COMPACT_KEYS = ("weights", "theta", "assignment", "rates", "proportions", "image_shape",
                "silenced")

#: Keys of :data:`COMPACT_KEYS` that a finished run may lack.
OPTIONAL_KEYS = ("theta", "silenced")

#: Files copied unchanged from the run directory.
COPIED = (rundir.CONFIG, rundir.PROVENANCE, rundir.MODEL_COPY, rundir.METRICS)

def is_compact(arrays: dict) -> bool:
    """Whether the arrays of a ``state.npz`` are the compact form (no ``state/`` keys)."""
    return "weights" in arrays and not any(key.startswith("state/") for key in arrays)


def compact_state(arrays: dict) -> dict:
    """The compact form of a finished run's ``state.npz`` arrays (floats as float32).

    Raises
    ------
    ConfigError
        A key of :data:`COMPACT_KEYS` is missing (those of :data:`OPTIONAL_KEYS` may be:
        ``theta`` for a model without an adaptive threshold, ``silenced`` for a run
        without ``--silence-below``).
    """
    missing = [key for key in COMPACT_KEYS if key not in arrays and key not in OPTIONAL_KEYS]
    if missing:
        raise ConfigError(f"state.npz lacks {', '.join(missing)}: not a finished run")
    out = {}
    for key in COMPACT_KEYS:
        if key in arrays:
            value = np.asarray(arrays[key])
            out[key] = value.astype(np.float32) if value.dtype.kind == "f" else value
    return out


def export(run_dir, dest) -> Path:
    """Write the compact form of the finished run in ``run_dir`` to the new folder ``dest``.

    Returns the path of the compact ``state.npz``.
    """
    run_dir, dest = Path(run_dir), Path(dest)
    rundir.refuse_existing_run(dest, "give a new folder", name="DEST")
    for name in COPIED:
        if not (run_dir / name).is_file():
            raise ConfigError(f"{run_dir / name}: not found; is {run_dir} a finished run?")
    state = compact_state(rundir.load_arrays(run_dir / rundir.STATE))
    dest.mkdir(parents=True, exist_ok=True)
    bases = sorted(path.name for path in run_dir.glob("model.base*.toml"))  # see model_files
    for name in (*COPIED, *bases):
        data = (run_dir / name).read_bytes()
        rundir.atomic_write(dest / name, lambda f, data=data: f.write(data))
    figures = run_dir / rundir.FIGURES
    for figure in sorted(figures.glob("*.png")) if figures.is_dir() else []:
        data = figure.read_bytes()
        rundir.atomic_write(dest / rundir.FIGURES / figure.name, lambda f, data=data: f.write(data))
    rundir.save_arrays(dest / rundir.STATE, state)
    return dest / rundir.STATE


def expand_state(arrays: dict, spec, seed: int, n_neurons: int, n_input: int,
                 make_session) -> tuple:
    """The full network state of a compact run, and the session that runs it.

    Parameters
    ----------
    arrays : dict
        The compact ``state.npz``.
    spec : ModelSpec
        The run's model copy.
    seed, n_neurons, n_input : int
        From the run's config and image shape.
    make_session : callable
        ``make_session(fixed) -> Session`` for the build-time values ``fixed``.

    Returns
    -------
    session : Session
    state : dict of str to ndarray
        The initial state of a run with ``seed``, with the learned weights and
        theta put in.
    """
    from brian_stdp.backends.network import draw_fixed
    from brian_stdp.training.scoring import THETA_KEY, learned_synapses
    from brian_stdp.training.trainer import initial_rng

    rng = initial_rng(seed)
    fixed = draw_fixed(spec, n_neurons, n_input, rng)
    session = make_session(fixed)
    state = session.initial_state(rng)
    syn_name = learned_synapses(spec)
    weights = np.asarray(arrays["weights"], dtype=np.float64)
    pre, post = session.handles.synapse_indices[syn_name]
    expected = (session.handles.size(spec.synapses[syn_name].source),
                session.handles.size(spec.synapses[syn_name].target))
    if weights.shape != expected:
        raise ConfigError(f"state.npz: weights of shape {weights.shape}, the network has "
                          f"{expected}")
    state[f"{syn_name}.w"] = weights[pre, post]
    if "theta" in arrays:
        state[THETA_KEY] = np.asarray(arrays["theta"], dtype=np.float64)
    return session, state
