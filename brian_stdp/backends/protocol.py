"""The presentation protocol in Brian2: the re-presentation rule and the input layer.

Every slot (``t_present`` of input, then ``t_rest`` without) starts with
:data:`PROTOCOL_RULE`: if the last image drew fewer than ``min_spikes``
output spikes, the same image is shown again with more intensity, else the
next one (up to ``max_presentations`` presentations per image).
:func:`brian_stdp.backends.network.build_network` runs it in one of two
formulations, built here:

:func:`controller_layer` (chunked runner, the default)
    One neuron ``ctrl`` holds the controller state and runs the rule; the
    input layer ``inp`` reads the image, intensity and window end from it
    through linked variables. The stimulus TimedArray ``stim`` has one row
    per slot of a chunk (filled per chunk, called as ``stim(img*second, i)``).
    Input spikes follow the model's encoder: Poisson, drawn as geometric
    waiting times (below), or ``regular`` (a stimulus value is a spike period
    in time steps, see :mod:`brian_stdp.data.encoding`).
:func:`per_input_layer` (single run, for brian2genn, which has no linked variables)
    No controller neuron: every input neuron keeps its own copy of the
    controller state (``img``, ``attempts``, ``count``) and runs the same rule,
    so all copies stay equal; ``stim`` holds all images of the run (one row
    per image) and is read only at the start of each slot. Input spikes are
    drawn per step as ``rand() < rate*dt`` inside the presentation window,
    ``input_delay`` late (in place of the delay of the synapses from the
    input layer, see :data:`INPUT_THRESHOLD`).

Both draw Poisson input as the Bernoulli process of Brian2's PoissonGroup
(``p = rate*dt`` per step). The chunked formulation draws it exactly but
cheaply: instead of one random number per input per time step, each input
draws the number of silent steps before its next spike from the geometric
distribution of that process. ``hazard + 1e-300`` only keeps a silent input
(hazard 0) from dividing by zero on code-generation targets that raise for
it; for any spiking input it changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from brian2 import Function, NeuronGroup, TimedArray, linked_var, second

from brian_stdp.errors import ModelFileError
from brian_stdp.model.spec import ModelSpec, evaluate_expression

#: Step offset that means "no spike in this slot" (fits an int32 with room).
K_NEVER = 1_000_000_000

#: The re-presentation rule, run at the start of every slot by whatever holds the
#: controller state (``img``, ``attempts``, ``count``; ``n_avail`` images): fewer than
#: ``min_spikes`` output spikes in the last presentation and fewer than
#: ``max_presentations`` presentations so far show the same image again, with
#: ``intensity_step`` more intensity; else the next image (``intensity = 0`` once the
#: images are used up). ``intensity`` may be a variable or a temporary of the code.
PROTOCOL_RULE = """
advance = int(count >= min_spikes or attempts >= max_presentations) * int(img < n_avail)
img += advance
attempts = attempts*(1 - advance) + 1
intensity = (intensity_start + (attempts - 1)*intensity_step) * int(img < n_avail)
"""


def settled(count: int, attempts: int, protocol) -> bool:
    """Whether an image shown ``attempts`` times, drawing ``count`` output spikes in its last
    presentation, is done: the next slot would advance past it (the first condition of
    :data:`PROTOCOL_RULE`; ``protocol`` has ``min_spikes`` and ``max_presentations``)."""
    return count >= protocol.min_spikes or attempts >= protocol.max_presentations

# -- the chunked formulation: one controller neuron -----------------------------------------
CTRL_EQUATIONS = """
img : integer          # slot's image, as a row of stim (-1 before the first)
n_avail : integer      # images available in this chunk
attempts : integer     # presentations of the current image so far
count : integer        # output spikes in the current presentation window
intensity : 1          # input intensity of the current presentation
k_off : integer        # time step at which the presentation window ends
"""

CTRL_SLOT_CODE = PROTOCOL_RULE + """count = 0
k_off = int(t/step + 0.5) + steps_present
"""

#: (``stop_early``) The controller's variables that end a run whose images are done.
CTRL_STOP_EQUATIONS = """
stop_when_done : integer  # 1: end the run at the first slot past the chunk's images
stopped : integer         # 1 where the run was ended there
"""

#: (``stop_early``) At the start of the first slot past the chunk's last image, with
#: ``stop_when_done``: end the run after this time step (:func:`stop_run_function`). The
#: slots it leaves out would show no image: with learning off they change nothing that is
#: read back but the network state at the end, which a stream whose images are done does
#: not use.
CTRL_STOP_CODE = """
stopped = stop_run(int(img >= n_avail) * stop_when_done)
"""

_STOP_RUN_CPP = """
static inline int32_t _brian_stdp_stop_run(const int32_t flag)
{
    if (flag)
        Network::_globally_stopped = true;  // Network::run ends after this time step
    return flag;
}
"""


def stop_run_function() -> Function:
    """``stop_run(flag)``: returns ``flag``; where it is 1, on ``cpp_standalone``, the loop
    over time steps ends after the current step (Brian2's ``Network::_globally_stopped``).
    Elsewhere (runtime) it stops nothing."""
    def stop_run(flag):
        return flag

    function = Function(stop_run, arg_units=[1], return_unit=1, arg_types=["integer"],
                        return_type="integer", stateless=False)
    function.implementations.add_implementation("cpp", _STOP_RUN_CPP,
                                                name="_brian_stdp_stop_run")
    return function

POISSON_EQUATIONS = """
img : integer (linked)
intensity : 1 (linked)
k_off : integer (linked)
hazard : 1             # log(1/(1 - p)): p = rate*dt is the spike probability per step
k_next : integer       # time step of the next spike
"""

POISSON_SLOT_CODE = """
hazard = log(1/(1 - clip(stim(img*second, i)*rate_scale*intensity*step, 0, p_max)))
k_next = int(t/step + 0.5) + int(clip(-log(rand())/(hazard + 1e-300), 0, k_never))
k_next += (k_never - k_next)*int(k_next >= k_off)
"""

POISSON_RESET = """
k_next = t_in_timesteps + 1 + int(clip(-log(rand())/(hazard + 1e-300), 0, k_never))
k_next += (k_never - k_next)*int(k_next >= k_off)
"""

REGULAR_EQUATIONS = """
img : integer (linked)
n_avail : integer (linked)
k_off : integer (linked)
period : integer       # time steps between spikes in this slot (0: silent)
k_next : integer       # time step of the next spike
"""

# The first spike comes at the end of the first period (window step period - 1).
REGULAR_SLOT_CODE = """
period = int(stim(img*second, i) + 0.5) * int(img < n_avail)
k_next = int(t/step + 0.5) + period - 1
k_next += (k_never - k_next)*int(period <= 0 or k_next >= k_off)
"""

REGULAR_RESET = """
k_next += period
k_next += (k_never - k_next)*int(k_next >= k_off)
"""

# -- the single-run formulation: the controller state in every input neuron ----------------
INPUT_EQUATIONS = """
img : integer          # row of stim shown in this slot (-1 before the first); equal in every neuron
attempts : integer     # presentations of the current image so far
count : integer        # output spikes in the current presentation window
n_avail : integer      # rows of stim to show; equal in every neuron
rate : Hz              # this input's firing rate in the current presentation
t_off : second         # end of the current presentation window
slot_start : second    # start of the next slot (brian2genn's per-slot code reads t as 0)
"""

INPUT_SLOT_CODE = PROTOCOL_RULE + """rate = stim(img*second, i)*rate_scale*intensity
count = 0
t_off = slot_start + t_present - 0.5*step
slot_start += t_slot
"""

#: Input spikes are drawn ``input_delay`` late, in place of a delay on the synapses from
#: the input layer: GeNN keeps the variables of a delayed source group in a queue that
#: brian2genn's per-slot code does not see (it writes a stale copy).
INPUT_THRESHOLD = ("t > t_off - t_present + input_delay and t < t_off + input_delay "
                   "and rand() < rate*dt")


@dataclass(frozen=True)
class SingleRun:
    """Options of the single-run formulation (:func:`per_input_layer`).

    Attributes
    ----------
    stimulus : ndarray, shape (n_images, n_input)
        Encoded images in presentation order (pixel values, as for the runner).
    plastic : bool
        Learning on (training) or off, compiled in: the synapses and the
        normalisation read it as the constant ``plastic_run``, and without it
        the normalisation is left out (it would scale by 1).
    n_avail : int, optional
        Rows of ``stimulus`` to show (default: all).
    ctrl : ControllerState, optional
        Controller state to start from, ``img`` a row of ``stimulus`` (default:
        before the first image).
    """

    stimulus: np.ndarray
    plastic: bool = True
    n_avail: int | None = None
    ctrl: object = None


@dataclass
class InputLayer:
    """The Brian2 objects that run the protocol and feed the model.

    Attributes
    ----------
    objects : list
        ``[ctrl, inp]`` or ``[inp]``, to add to the network.
    inp : NeuronGroup
        The input layer, one neuron per pixel (shape (n_input,)).
    controller : NeuronGroup
        The group whose neuron 0 holds the controller state (``img``,
        ``attempts``, ``count``): ``ctrl`` or ``inp``.
    stim : TimedArray
        The stimulus, shape (rows, n_input).
    count_code : str
        ``on_pre`` of the synapses ``exc_count`` (output layer -> controller):
        counts an output spike inside the presentation window.
    """

    objects: list
    inp: NeuronGroup
    controller: NeuronGroup
    stim: TimedArray
    count_code: str


def protocol_names(spec: ModelSpec, n_input: int) -> dict:
    """The protocol's constants that both formulations' code reads, for the namespace."""
    proto = spec.protocol
    return dict(min_spikes=proto.min_spikes, max_presentations=proto.max_presentations,
                intensity_start=proto.intensity_start, intensity_step=proto.intensity_step,
                rate_scale=proto.rate_scale, step=proto.dt,
                weight_sum=spec.weight_sum(n_input) if proto.normalise else 0.0)


def controller_layer(spec: ModelSpec, n_input: int, slots: int, namespace: dict,
                     stop_early: bool = False) -> InputLayer:
    """The chunked formulation: controller neuron ``ctrl``, linked input layer ``inp``.

    Adds the names its code reads to ``namespace``. ``stim`` has shape
    (slots, n_input), zeros until a chunk sets it. ``stop_early`` (``cpp_standalone``):
    ``ctrl`` also gets :data:`CTRL_STOP_EQUATIONS` and runs :data:`CTRL_STOP_CODE`, so
    that a chunk with ``stop_when_done`` ends at the first slot past its images.
    """
    proto = spec.protocol
    t_slot = proto.t_slot
    stim = TimedArray(np.zeros((slots, n_input)), dt=1 * second, name="stim")
    namespace.update(stim=stim, **protocol_names(spec, n_input),
                     steps_present=proto.steps_present, p_max=1 - 1e-12, k_never=K_NEVER)
    equations, slot_code = CTRL_EQUATIONS, CTRL_SLOT_CODE
    if stop_early:
        equations += CTRL_STOP_EQUATIONS
        slot_code += CTRL_STOP_CODE
        namespace["stop_run"] = stop_run_function()
    ctrl = NeuronGroup(1, equations, name="ctrl")
    ctrl.run_regularly(slot_code, dt=t_slot, when="start", order=-10, name="ctrl_slot")
    if proto.encoder == "regular":
        equations, reset, slot_code = REGULAR_EQUATIONS, REGULAR_RESET, REGULAR_SLOT_CODE
        linked = ("img", "n_avail", "k_off")
    else:
        equations, reset, slot_code = POISSON_EQUATIONS, POISSON_RESET, POISSON_SLOT_CODE
        linked = ("img", "intensity", "k_off")
    inp = NeuronGroup(n_input, equations, threshold="t_in_timesteps >= k_next",
                      reset=reset, name="inp")
    link_index = np.zeros(n_input, dtype=int)
    for var in linked:
        setattr(inp, var, linked_var(ctrl, var, index=link_index))
    inp.run_regularly(slot_code, dt=t_slot, when="start", order=-9, name="inp_slot")
    inp.k_next = K_NEVER
    return InputLayer(objects=[ctrl, inp], inp=inp, controller=ctrl, stim=stim,
                      count_code="count_post += int(t_in_timesteps < k_off_post)")


def per_input_layer(spec: ModelSpec, run: SingleRun, namespace: dict) -> InputLayer:
    """The single-run formulation: the controller state in every input neuron.

    Adds the names its code reads to ``namespace``; ``stim`` is
    ``run.stimulus``, shape (n_images, n_input).

    Raises
    ------
    ValueError
        For a stimulus that is not a non-empty 2-d array.
    ModelFileError
        If the synapses from the input layer have different delays.
    """
    stimulus = np.asarray(run.stimulus, dtype=float)
    if stimulus.ndim != 2 or stimulus.shape[0] == 0:
        raise ValueError(f"stimulus must have shape (n_images, n_input), not {stimulus.shape}")
    n_images, n_input = stimulus.shape
    proto = spec.protocol
    stim = TimedArray(stimulus, dt=1 * second, name="stim")
    namespace.update(stim=stim, **protocol_names(spec, n_input),
                     t_present=proto.t_present, t_slot=proto.t_slot)
    namespace["input_delay"] = input_delay(spec, namespace) * second
    inp = NeuronGroup(n_input, INPUT_EQUATIONS, threshold=INPUT_THRESHOLD,
                      name="inp", namespace=namespace)
    inp.run_regularly(INPUT_SLOT_CODE, dt=proto.t_slot, when="start", order=-10,
                      name="inp_run_regularly_slot")
    inp.n_avail = n_images if run.n_avail is None else int(run.n_avail)
    if run.ctrl is None:
        inp.img = -1
        inp.count = proto.min_spikes  # the first slot advances to image 0
    else:
        inp.img, inp.attempts, inp.count = run.ctrl.img, run.ctrl.attempts, run.ctrl.count
    return InputLayer(objects=[inp], inp=inp, controller=inp, stim=stim,
                      count_code="count_post += int(t < t_off_post)")


def input_delay(spec: ModelSpec, namespace) -> float:
    """The delay of the synapses from the input layer, in seconds (0 without one).

    Raises
    ------
    ModelFileError
        If synapses from the input layer have different delays.
    """
    delays = {float(evaluate_expression(s.delay, namespace, spec.path, f"[synapses.{name}] delay")
                    / second) if s.delay else 0.0
              for name, s in spec.synapses.items() if s.source == "inp"}
    if len(delays) > 1:
        raise ModelFileError(f"{spec.path}: the synapses from the input layer have different "
                             f"delays ({sorted(delays)} s); GeNN needs one")
    return delays.pop() if delays else 0.0


__all__ = ["PROTOCOL_RULE", "K_NEVER", "CTRL_STOP_CODE", "stop_run_function", "SingleRun",
           "InputLayer", "controller_layer", "per_input_layer", "protocol_names", "input_delay"]
