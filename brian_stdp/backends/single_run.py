"""The single-run network: a whole training run as one ``Network.run`` on one device.

brian2genn allows one ``run()`` per build, so GeNN needs the training run in one piece.
:func:`build_single_run` is that network: the single-run formulation of
:func:`brian_stdp.backends.network.build_network` (the same groups, synapses,
normalisation and monitors as the chunked runner's). It differs from the chunked network
in three ways, all of which keep the protocol (:mod:`brian_stdp.backends.protocol`):

* All images of the run are in one TimedArray ``stim`` (one row per image),
  read only by the input layer's ``run_regularly`` at the start of each slot.
* There is no controller neuron linked to the input layer. Every input
  neuron keeps its own copy of the controller state (``img``, ``attempts``,
  ``count``) and runs the same rule (``PROTOCOL_RULE``), so all copies stay
  equal; the output spikes reach every copy through the synapses
  ``exc_count`` (output -> input, all to all, ``count_post += ...``).
* Input spikes are drawn per step as ``rand() < rate*dt`` inside the
  presentation window (the Bernoulli process of Brian2's PoissonGroup, as
  the runner's geometric waiting times are), with ``rate`` set per slot.

The model must meet GeNN's rules (:func:`brian_stdp.backends.brian2genn.check.genn_problems`).
The number of slots is fixed before the run, so the run shows as many images as fit;
:class:`SingleRunResult` says how many were completed. :func:`train_single_run` runs it
on any device whose session class says ``single_run`` (genn, and cpp_standalone and
runtime, which is how its behaviour is tested where there is no GeNN);
:class:`~brian_stdp.backends.brian2genn.session.GennSession` builds it once per formulation
(plastic, frozen) and re-runs the build for every chunk.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from brian_stdp.backends import devices
from brian_stdp.backends.devices import genn as genn_device
from brian_stdp.backends.protocol import settled
from brian_stdp.backends.brian2genn.check import check_genn_compatible
from brian_stdp.errors import ConfigError
from brian_stdp.model.spec import ModelSpec

#: Default slots per image: room for re-presentations (about 1.1-1.3 per image at 400 neurons).
DEFAULT_SLOTS_PER_IMAGE = 1.5


@dataclass
class SingleRunResult:
    """What one single-run training produced.

    Attributes
    ----------
    images : int
        Images whose presentations all ended inside the run.
    slots : int
        Presentation slots simulated (each ``t_present + t_rest``).
    spikes : ndarray, shape (n_images,), uint32
        Output spikes of each image's last presentation (0 for images not reached).
    presentations : ndarray, shape (n_images,), uint8
        Presentations of each image (0: not reached).
    state : dict of str to ndarray
        Final values of the network's state variables (weights ``inp_exc.w``,
        thresholds ``exc.theta``, ...), in SI units.
    seconds : float
        Wall-clock seconds of ``Network.run``; on the standalone devices this
        includes generating and compiling the program.
    simulation_seconds : float
        Seconds of the simulation loop alone, as the program measured it
        (Brian2's ``_last_run_time``; GeNN's engine counts processor time).
    """

    images: int
    slots: int
    spikes: np.ndarray
    presentations: np.ndarray
    state: dict
    seconds: float
    simulation_seconds: float


def build_single_run(spec: ModelSpec, n_neurons: int, stimulus: np.ndarray, slots: int,
                     plastic: bool = True, n_avail: int | None = None, ctrl=None):
    """Create the one-run network for ``stimulus`` (see the module docstring).

    Parameters
    ----------
    spec : ModelSpec
        A GeNN-compatible model
        (:func:`~brian_stdp.backends.brian2genn.check.check_genn_compatible` is called).
    n_neurons : int
        Size of groups whose size is ``n_neurons``.
    slots : int
        Presentation slots; the run lasts ``slots * t_slot``.
    stimulus, plastic, n_avail, ctrl
        As the attributes of :class:`brian_stdp.backends.protocol.SingleRun`.

    Returns
    -------
    NetworkHandles
        With ``state_vars``, ``synapse_indices`` and ``namespace`` as the
        chunked runner's, so that :func:`brian_stdp.backends.network.initial_state`
        applies.
    """
    from brian_stdp.backends.network import SingleRun, build_network

    check_genn_compatible(spec)
    if slots <= 0:
        raise ValueError(f"slots must be positive, not {slots}")
    stimulus = np.asarray(stimulus, dtype=float)
    n_input = stimulus.shape[-1] if stimulus.ndim else 0
    return build_network(spec, n_neurons, n_input, slots, {},
                         single_run=SingleRun(stimulus, plastic=plastic, n_avail=n_avail,
                                              ctrl=ctrl))


def set_state(spec: ModelSpec, handles, state: dict, arrays: bool = False) -> None:
    """Set the network's variables from ``state`` (values in SI units), constants included.

    ``arrays``: set every variable from an array, even where all its values are equal, so
    that a standalone program reads it from a file (GeNN's re-run builds,
    :mod:`brian_stdp.backends.brian2genn.program`); else such a variable is set to its one
    value (brian2genn's own device accepts no array of ``lastspike``).
    """
    from brian2 import Quantity
    from brian2.units.fundamentalunits import DIMENSIONLESS

    from brian_stdp.backends.network import constant_initializers

    constant_initializers(spec, handles)
    for key, value in state.items():
        obj_name, var_name = key.split(".")
        var = handles[obj_name].variables[var_name]
        value = np.asarray(value)
        if not arrays and value.size and np.all(value == value.flat[0]):
            value = value.flat[0]  # one value: brian2genn 1.7 fails on array lastspike
        setattr(handles[obj_name], var_name,
                value if var.dim is DIMENSIONLESS else Quantity(value, dim=var.dim))


def collect(spec: ModelSpec, handles, n_images: int, slots: int, seconds: float,
            simulation_seconds: float, state_keys) -> SingleRunResult:
    """Read the spikes, the slot schedule and the final state after the run."""
    proto = spec.protocol
    spikes = handles["exc_spikes"]
    steps = np.rint(np.asarray(spikes.t[:] / proto.dt)).astype(np.int64)
    slot_of_spike, offset = np.divmod(steps, proto.steps_per_slot)
    window = offset < proto.steps_present
    slot_img = np.asarray(handles["slots"].img[0], dtype=np.int64)[:slots]
    slot_attempts = np.asarray(handles["slots"].attempts[0], dtype=np.int64)[:slots]
    per_slot = np.zeros(len(slot_img), dtype=np.int64)
    np.add.at(per_slot, slot_of_spike[window][slot_of_spike[window] < len(slot_img)], 1)
    spikes_per_image = np.zeros(n_images, dtype=np.uint32)
    presentations = np.zeros(n_images, dtype=np.uint8)
    for slot in np.flatnonzero(slot_img < n_images):
        spikes_per_image[slot_img[slot]] = per_slot[slot]  # the last presentation wins
        presentations[slot_img[slot]] = slot_attempts[slot]
    inp = handles["inp"]
    img, attempts, count = int(inp.img[0]), int(inp.attempts[0]), int(inp.count[0])
    done = n_images if img >= n_images else img
    if 0 <= img < n_images and settled(count, attempts, proto):
        done = img + 1  # the last slot's image needs no further presentation
    state = {}
    for key in state_keys:
        obj_name, var_name = key.split(".")
        state[key] = np.atleast_1d(np.array(getattr(handles[obj_name], var_name)[:]))
    return SingleRunResult(images=int(done), slots=int(slots), spikes=spikes_per_image,
                           presentations=presentations, state=state, seconds=seconds,
                           simulation_seconds=simulation_seconds)


def train_single_run(spec: ModelSpec, images: np.ndarray, n_neurons: int, seed: int = 0,
                     slots: int | None = None, device: str = genn_device.NAME, directory=None,
                     compile: bool = True, run: bool = True):
    """Train on ``images`` in one run of ``device``.

    Parameters
    ----------
    spec : ModelSpec
        A GeNN-compatible model.
    images : ndarray, shape (n_images, height, width), uint8
        Images in presentation order (encoded with :func:`brian_stdp.data.encoding.encode`).
    n_neurons : int
    seed : int
        Seed of the initial state (drawn with NumPy; brian2genn has no ``seed()``,
        so the spikes' random numbers come from GeNN's own generator).
    slots : int, optional
        Presentation slots (default ``ceil(1.5 * n_images)``).
    device : str
        A device whose session class runs the single-run network (``single_run``):
        genn, cpp_standalone or runtime.
    directory : path, optional
        Build folder for the standalone devices.
    compile, run : bool
        brian2genn's build options: ``compile=False, run=False`` only generates
        the GeNN project (no GeNN or GPU needed).

    Returns
    -------
    SingleRunResult or None
        None when the program was not run.
    """
    import brian2

    from brian_stdp.backends.network import initial_state
    from brian_stdp.data.encoding import encode

    runners = sorted(name for name in devices.names() if devices.session_class(name).single_run)
    backend = devices.session_class(device) if device in devices.names() else None
    if backend is None or not backend.single_run:
        raise ConfigError(f"--device {device}: the single-run formulation runs on "
                          f"{', '.join(runners)}")
    check_genn_compatible(spec)
    if spec.protocol.encoder != "poisson":
        raise ConfigError(f"{spec.path}: [protocol] encoder = {spec.protocol.encoder!r}: the "
                          f"single-run formulation draws Poisson input only")
    n_images = len(images)
    slots = int(np.ceil(DEFAULT_SLOTS_PER_IMAGE * n_images)) if slots is None else int(slots)
    stimulus = encode(np.asarray(images), spec.protocol.encoder)
    backend.open_single_run(directory, compile=compile, run=run)
    try:
        handles = build_single_run(spec, n_neurons, stimulus, slots)
        state = initial_state(spec, handles, np.random.default_rng(seed))
        set_state(spec, handles, state)
        start = time.perf_counter()
        handles.net.run(slots * spec.protocol.t_slot, namespace=handles.namespace,
                        report=None)
        backend.finish_single_run(directory, compile=compile, run=run)
        seconds = time.perf_counter() - start
        if not run:
            return None
        simulation = getattr(brian2.get_device(), "_last_run_time", None)
        return collect(spec, handles, n_images, slots, seconds,
                       float(seconds if simulation is None else simulation), list(state))
    finally:
        backend.close_single_run()
