"""brian2genn (GeNN): a compatibility check for model files, and training in one run.

brian2genn 1.7 builds one program per ``run()`` and forbids much of what the
chunked runner (:mod:`brian_stdp.backends.network`, :mod:`brian_stdp.backends.session`) uses:
a second run, TimedArrays outside ``run_regularly``, linked variables,
custom events, heterogeneous delays and ``seed()``. Its synapses may write
one postsynaptic variable, only with ``+=``, may read presynaptic variables
only in ``on_post`` and postsynaptic ones only in ``on_pre``, and may have at
most one summed variable (none when ``on_pre`` already writes a postsynaptic
variable). A shared variable of the target group read in synaptic code gets a
copy of its own on the synapses, which is never set (found in brian2genn's
generated code); the single-run network therefore reads the runner's
``plastic`` there as a constant, and other such reads are reported.

:func:`genn_problems` lists what a model file must change to meet these
rules, before anything is compiled; ``models/diehl_cook_2015_genn.toml`` is a
variant of Diehl & Cook that meets them (its ``deviations`` state how).

:func:`build_single_run` is the training run in one piece: the single-run
formulation of :func:`brian_stdp.backends.network.build_network` (the same
groups, synapses, normalisation and monitors as the chunked runner's). It
differs from the chunked network in three ways, all of which keep the
protocol (:mod:`brian_stdp.backends.protocol`):

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

The number of slots is fixed before the run, so the run shows as many
images as fit; :class:`SingleRunResult` says how many were completed.
The same network runs on ``runtime`` and ``cpp_standalone`` too, which is
how its behaviour is tested where there is no GeNN.

Command line::

    python -m brian_stdp.genn --check MODEL
    python -m brian_stdp.genn --generate DIR [--neurons N --images N]
    python -m brian_stdp.genn --train [--neurons N --images N]   (= python -m brian_stdp.run --device genn)
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from brian_stdp.backends.devices import genn as genn_device
from brian_stdp.errors import ConfigError, ModelFileError
from brian_stdp.model.spec import ModelSpec, load_model

#: The GeNN-compatible Diehl & Cook variant shipped in models/.
GENN_MODEL = "diehl_cook_2015_genn"

#: Default slots per image: room for re-presentations (about 1.1-1.3 per image at 400 neurons).
DEFAULT_SLOTS_PER_IMAGE = 1.5

_NAMES_IGNORED = {"t", "dt", "i", "j", "N", "lastupdate", "t_in_timesteps", "True", "False",
                  "rand", "randn", "exp", "log", "clip", "int", "sqrt", "abs", "sin", "cos",
                  "floor", "ceil", "sign", "second", "ms", "mV", "Hz", "volt"}
_STATEMENT = re.compile(r"^\s*([A-Za-z_]\w*)\s*(\+=|-=|\*=|/=|=)\s*(.+?)\s*$")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


# -- compatibility check -----------------------------------------------------------------
def genn_problems(spec: ModelSpec) -> list:
    """What ``spec`` must change before brian2genn can run it (empty: nothing).

    Pure Python on the model file's text (Brian2's equation parser only), so it
    runs in any environment and before anything is compiled.

    Returns
    -------
    list of str
        One line per problem: ``"[section] key: problem; what to do"``.
    """
    from brian2 import Equations

    problems = []
    group_vars, group_shared = {"inp": set()}, {"inp": set()}
    for name in spec.groups:
        eqs = spec.group_equations(name)
        group_vars[name] = set(eqs.names) | {"lastspike", "not_refractory"}
        group_shared[name] = {eq.varname for eq in eqs.values() if "shared" in eq.flags}
        for eq in eqs.values():
            if "linked" in eq.flags:
                problems.append(f"[groups.{name}] equations: '{eq.varname}' is a linked "
                                f"variable; GeNN has none. Make it an ordinary variable and "
                                f"set it where it changes.")
    group_vars["inp"] = {"img", "attempts", "count", "rate", "t_off"}
    for name, gspec in spec.groups.items():
        where = f"[groups.{name}]"
        for event in getattr(gspec, "events", {}) or {}:
            problems.append(f"{where} events: '{event}' is a custom event; GeNN has spikes "
                            f"only. Turn it into a condition inside the synaptic or reset "
                            f"code.")
        if getattr(gspec, "extra_spikes", ""):
            problems.append(f"{where} extra_spikes: needs a custom event, which GeNN does not "
                            f"have. Remove it.")
        if getattr(gspec, "threshold_after_input", False) or getattr(gspec, "after_input", ""):
            problems.append(f"{where} threshold_after_input/after_input: brian2genn keeps "
                            f"Brian2's default schedule (no moved threshold, no extra code "
                            f"after the synaptic input). Remove them.")
        if getattr(gspec, "slot_start", ""):
            problems.append(f"{where} slot_start: the single-run GeNN formulation "
                            f"(brian_stdp.genn) does not run per-slot group code yet. "
                            f"Remove it or extend the single-run formulation of "
                            f"backends.network.build_network.")

    for name, sspec in spec.synapses.items():
        where = f"[synapses.{name}]"
        try:
            model = Equations(sspec.model)
        except Exception as err:  # Brian2 raises several types for bad equations
            problems.append(f"{where} model: cannot parse ({err})")
            continue
        syn_vars = set(model.names)
        subexpressions = {eq.varname for eq in model.values() if eq.type == "subexpression"}
        summed = [eq.varname for eq in model.values() if "summed" in eq.flags]
        for eq in model.values():
            if eq.type == "subexpression" and "constant over dt" in eq.flags:
                problems.append(f"{where} model: '{eq.varname}' is a 'constant over dt' "
                                f"subexpression; brian2genn allows these only in neuron "
                                f"groups. Compute it in the target group instead.")
        if getattr(sspec, "on_event", ""):
            problems.append(f"{where} on_event = {sspec.on_event!r}: GeNN triggers synapses "
                            f"by spikes only. Remove on_event.")
        pre_vars = group_vars.get(sspec.source, set())
        post_vars = group_vars.get(sspec.target, set())
        post_shared = group_shared.get(sspec.target, set())
        on_pre, on_post = _event_code(spec, name)

        def classify(identifier):
            if identifier in spec.parameters:
                return "other", identifier
            if identifier.endswith("_pre") and identifier[:-4] in pre_vars:
                return "pre", identifier[:-4]
            if identifier.endswith("_post") and identifier[:-5] in post_vars:
                return "post", identifier[:-5]
            if identifier in syn_vars:
                return "syn", identifier
            if identifier in post_vars:
                return "post", identifier  # Brian2 reads unsuffixed names from the target
            return "other", identifier

        if sspec.delay:
            ids = set(_IDENTIFIER.findall(sspec.delay))
            if ids & {"rand", "randn", "i", "j"}:
                problems.append(f"{where} delay = {sspec.delay!r}: differs between synapses; "
                                f"GeNN allows one delay per synapse group. Give one constant, "
                                f"e.g. delay = \"5*ms\".")

        post_written = []
        for line in _statements(on_pre):
            target, op, expr = line
            kind, var = classify(target)
            if kind == "post" and var not in post_shared:
                post_written.append(var)
                if op != "+=":
                    problems.append(f"{where} on_pre: '{target} {op} ...' changes a "
                                    f"postsynaptic variable with '{op}'; GeNN allows only "
                                    f"'+='. Write it as '{target} += ...'.")
            elif kind == "pre":
                problems.append(f"{where} on_pre: writes the presynaptic variable "
                                f"'{target}'; GeNN's on_pre may write synaptic variables and "
                                f"one postsynaptic variable only.")
            for ident in _IDENTIFIER.findall(expr):
                ident_kind, _ = classify(ident)
                if ident_kind == "pre":
                    problems.append(f"{where} on_pre: reads the presynaptic variable "
                                    f"'{ident}'; brian2genn cannot. Keep what it needs on the "
                                    f"synapse (e.g. the time of the last arrival).")
                if ident in subexpressions:
                    problems.append(f"{where} on_pre: uses the subexpression '{ident}'; "
                                    f"brian2genn does not allow subexpressions in synaptic "
                                    f"code. Write its expression out.")
        for code_name, code in (("on_pre", on_pre), ("on_post", on_post)):
            for ident in sorted(set(_IDENTIFIER.findall(code))):
                ident_kind, ident_var = classify(ident)
                if ident_kind == "post" and ident_var in post_shared and ident_var != "plastic":
                    problems.append(f"{where} {code_name}: reads the shared variable "
                                    f"'{ident}' of {sspec.target}; brian2genn gives the "
                                    f"synapses their own copy of it, which is never set. Make "
                                    f"it a parameter.")
        if len(set(post_written)) > 1:
            problems.append(f"{where} on_pre: writes the postsynaptic variables "
                            f"{', '.join(sorted(set(post_written)))}; GeNN allows one. Split "
                            f"the synapses, one per postsynaptic variable.")
        elif len(post_written) > 1:
            problems.append(f"{where} on_pre: writes '{post_written[0]}' more than once; GeNN "
                            f"allows one '+=' per event. Add the terms in one statement.")
        for line in _statements(on_post):
            target, op, expr = line
            kind, var = classify(target)
            if kind in ("pre", "post"):
                problems.append(f"{where} on_post: writes the {kind}synaptic variable "
                                f"'{target}'; GeNN's on_post may write synaptic variables "
                                f"only.")
            for ident in _IDENTIFIER.findall(expr):
                ident_kind, ident_var = classify(ident)
                if ident_kind == "post" and ident_var not in post_shared:
                    problems.append(f"{where} on_post: reads the postsynaptic variable "
                                    f"'{ident}'; brian2genn cannot. Keep it on the synapse "
                                    f"instead, e.g. as the time of the last postsynaptic "
                                    f"spike (see models/{GENN_MODEL}.toml).")
                if ident in subexpressions:
                    problems.append(f"{where} on_post: uses the subexpression '{ident}'; "
                                    f"brian2genn does not allow subexpressions in synaptic "
                                    f"code. Write its expression out.")
        if len(summed) > 1:
            problems.append(f"{where} model: {len(summed)} summed variables "
                            f"({', '.join(summed)}); brian2genn allows one per synapse group. "
                            f"Split the synapses.")
        if summed and post_written:
            problems.append(f"{where} model: the summed variable '{summed[0]}' and on_pre's "
                            f"write to '{post_written[0]}' cannot share one synapse group in "
                            f"GeNN. Move one of them to a second synapse group.")
    return list(dict.fromkeys(problems))  # in order, without repeats


def check_genn_compatible(spec: ModelSpec) -> None:
    """Raise :class:`ModelFileError` listing every change ``spec`` needs for GeNN."""
    problems = genn_problems(spec)
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise ModelFileError(f"{spec.path}: brian2genn (GeNN) cannot run this model; "
                             f"change:\n{listed}\nmodels/{GENN_MODEL}.toml is Diehl & Cook "
                             f"written for GeNN.")


def _event_code(spec, name):
    """The full on_pre and on_post code of synapses ``name``, STDP rule included."""
    from brian_stdp.backends.network import with_stdp

    sspec = spec.synapses[name]
    on_pre, on_post = sspec.on_pre, sspec.on_post
    if spec.stdp is not None and spec.stdp.synapses == name:
        on_pre, on_post = with_stdp(spec, on_pre, on_post)
    return on_pre, on_post


def _statements(code):
    """(target, operator, expression) of each statement of a code block."""
    out = []
    for raw in code.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _STATEMENT.match(line)
        if match:
            out.append(match.groups())
    return out


# -- the single-run network --------------------------------------------------------------
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
        A GeNN-compatible model (:func:`check_genn_compatible` is called).
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


def set_state(spec: ModelSpec, handles, state: dict) -> None:
    """Set the network's variables from ``state`` (values in SI units), constants included."""
    from brian2 import Quantity
    from brian2.units.fundamentalunits import DIMENSIONLESS

    from brian_stdp.backends.network import constant_initializers

    constant_initializers(spec, handles)
    for key, value in state.items():
        obj_name, var_name = key.split(".")
        var = handles[obj_name].variables[var_name]
        value = np.asarray(value)
        if value.size and np.all(value == value.flat[0]):
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
    if 0 <= img < n_images and (count >= proto.min_spikes
                                or attempts >= proto.max_presentations):
        done = img + 1  # the last slot's image needs no further presentation
    state = {}
    for key in state_keys:
        obj_name, var_name = key.split(".")
        state[key] = np.array(getattr(handles[obj_name], var_name)[:])
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
    from brian_stdp.backends import devices
    from brian_stdp.data.encoding import encode

    runners = [name for name in devices.names() if devices.session_class(name).single_run]
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


def run_regularly_names(spec: ModelSpec) -> list:
    """Names of the per-slot operations of :func:`build_single_run` for ``spec``.

    brian2genn finds ``run_regularly`` operations by ``_run_regularly`` in
    their names and silently drops others, so all of them are named so.
    """
    names = ["inp_run_regularly_slot"]
    if spec.protocol.normalise:
        syn_name = spec.protocol.normalise
        target = spec.synapses[syn_name].target
        names += [f"{target}_run_regularly_w_in_reset", f"{syn_name}_run_regularly_w_in_sum",
                  f"{target}_run_regularly_w_in_scale", f"{syn_name}_run_regularly_normalise"]
    return names


def project_problems(spec: ModelSpec, directory) -> list:
    """What is missing from a generated brian2genn project (empty: nothing).

    Checks that GeNN's model definition, the engine and the makefile are
    there, that every group and synapse object is in the model definition,
    and that the engine executes every per-slot operation.

    Returns
    -------
    list of str
    """
    directory = Path(directory)
    problems = [f"{name} is missing" for name in ("main.cpp", "magicnetwork_model.cpp",
                                                  "engine.cpp", "Makefile")
                if not (directory / name).is_file()]
    if problems:
        return problems
    model = (directory / "magicnetwork_model.cpp").read_text()
    engine = (directory / "engine.cpp").read_text()
    for name in ["inp", *spec.groups]:
        if f'addNeuronPopulation<{name}NEURON>("{name}"' not in model:
            problems.append(f"neuron group {name} is not in magicnetwork_model.cpp")
    for name in [*spec.synapses, "exc_count"]:
        if f'"{name}", SynapseMatrixType' not in model:
            problems.append(f"synapses {name} are not in magicnetwork_model.cpp")
    for name in run_regularly_names(spec):
        if f"_run_{name}_codeobject" not in engine:
            problems.append(f"engine.cpp does not run the per-slot operation {name}")
    return problems


def genn_spec(spec: ModelSpec) -> ModelSpec:
    """``spec``, or for the reference Diehl & Cook model its GeNN variant.

    Raises
    ------
    ModelFileError
        For any other model that GeNN cannot run (listing what to change).
    """
    if not genn_problems(spec):
        return spec
    if spec.name == "diehl_cook_2015":
        return load_model(GENN_MODEL)
    check_genn_compatible(spec)
    return spec
