"""Build the Brian2 objects of a model, with the runner's input and control groups.

The model file defines the neuron groups and synapses. This module adds what
every model shares, all named so they can be looked up:

``ctrl``
    One neuron that runs the presentation protocol. At the start of every
    slot (``t_present`` of input, then ``t_rest`` without) it decides whether
    the last image drew enough excitatory spikes; if not, the same image is
    shown again with more intensity, else the next one (up to
    ``max_presentations`` presentations per image).
``inp``
    The input layer (one neuron per pixel). It reads the current image and
    intensity from ``ctrl`` through linked variables and the stimulus
    TimedArray ``stim`` (one row per slot of the chunk, called as
    ``stim(img*second, i)``).
``exc_count``
    Counts the output layer's spikes in the presentation window for ``ctrl``.
``exc_spikes``, ``inp_spikes``, ``slots``
    Monitors: output spikes, input spike counts, and the image and
    presentation number of every slot.

Code run once per slot (``run_regularly``) has its own clock, so its ``dt``
and ``t_in_timesteps`` count slots; it uses ``step``, the simulation time step.

Poisson input is drawn exactly but cheaply: instead of one random number per
input per time step, each input draws the number of silent steps before its
next spike from the geometric distribution of a Bernoulli process with
``p = rate*dt`` (the process of Brian2's PoissonGroup).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass

import brian2
import numpy as np
from brian2 import (Network, NeuronGroup, SpikeMonitor, StateMonitor, Synapses, TimedArray,
                    linked_var, second)

from brian2.devices.device import RuntimeDevice

from .errors import BrianSTDPError, ModelFileError
from .model import ModelSpec, _evaluate

#: Step offset that means "no spike in this slot" (fits an int32 with room).
K_NEVER = 1_000_000_000

CTRL_EQUATIONS = """
img : integer          # slot's image, as a row of stim (-1 before the first)
n_avail : integer      # images available in this chunk
attempts : integer     # presentations of the current image so far
count : integer        # output spikes in the current presentation window
intensity : 1          # input intensity of the current presentation
k_off : integer        # time step at which the presentation window ends
"""

CTRL_SLOT_CODE = """
advance = int(count >= min_spikes or attempts >= max_presentations) * int(img < n_avail)
img += advance
attempts = attempts*(1 - advance) + 1
intensity = (intensity_start + (attempts - 1)*intensity_step) * int(img < n_avail)
count = 0
k_off = int(t/step + 0.5) + steps_present
"""

NORMALISE_EQUATIONS = """
w_in_sum : 1           # summed incoming plastic weight (runner bookkeeping)
w_in_scale : 1         # factor that brings it to weight_sum
"""

POISSON_EQUATIONS = """
img : integer (linked)
intensity : 1 (linked)
k_off : integer (linked)
hazard : 1             # log(1/(1 - p)): p = rate*dt is the spike probability per step
k_next : integer       # time step of the next spike
"""

POISSON_SLOT_CODE = """
hazard = log(1/(1 - clip(stim(img*second, i)*rate_scale*intensity*step, 0, p_max)))
k_next = int(t/step + 0.5) + int(clip(-log(rand())/hazard, 0, k_never))
k_next += (k_never - k_next)*int(k_next >= k_off)
"""

POISSON_RESET = """
k_next = t_in_timesteps + 1 + int(clip(-log(rand())/hazard, 0, k_never))
k_next += (k_never - k_next)*int(k_next >= k_off)
"""


@dataclass
class NetworkHandles:
    """The Brian2 network and its named parts.

    Attributes
    ----------
    net : brian2.Network
    stim : brian2.TimedArray
        Stimulus values, shape (slots, n_input): one row per slot of a chunk.
    namespace : dict
        Everything the equations refer to by name.
    state_vars : list of (object name, variable name)
        The variables carried from chunk to chunk (the network's state).
    fixed_vars : list of (object name, variable name)
        Variables set once before compilation (synaptic delays, which a
        standalone program cannot take as run arguments).
    synapse_indices : dict of str to (ndarray, ndarray)
        Pre- and postsynaptic indices of every synapse object, in its order.
    """

    net: Network
    stim: TimedArray
    namespace: dict
    state_vars: list
    fixed_vars: list
    synapse_indices: dict

    def size(self, name: str) -> int:
        """Number of neurons or synapses of a named object."""
        if name in self.synapse_indices:
            return len(self.synapse_indices[name][0])
        return len(self.net[name])

    def __getitem__(self, name):
        return self.net[name]


def build_network(spec: ModelSpec, n_neurons: int, n_input: int, slots: int) -> NetworkHandles:
    """Create every Brian2 object of ``spec`` for one chunk of ``slots`` presentations.

    Parameters
    ----------
    spec : ModelSpec
    n_neurons : int
        Size of groups whose size is ``n_neurons``.
    n_input : int
        Number of input neurons (pixels per image).
    slots : int
        Presentation slots per chunk; the run lasts ``slots * t_slot``.
    """
    proto = spec.protocol
    namespace = spec.namespace(n_neurons, n_input)
    stim = TimedArray(np.zeros((slots, n_input)), dt=1 * second, name="stim")
    namespace.update(
        stim=stim, min_spikes=proto.min_spikes, max_presentations=proto.max_presentations,
        intensity_start=proto.intensity_start, intensity_step=proto.intensity_step,
        steps_present=proto.steps_present, rate_scale=proto.rate_scale, p_max=1 - 1e-12,
        k_never=K_NEVER, step=proto.dt, weight_sum=spec.weight_sum(n_input) if proto.normalise else 0.0)
    t_slot = proto.t_slot

    brian2.defaultclock.dt = proto.dt
    ctrl = NeuronGroup(1, CTRL_EQUATIONS, name="ctrl")
    ctrl.run_regularly(CTRL_SLOT_CODE, dt=t_slot, when="start", order=-10, name="ctrl_slot")
    inp = NeuronGroup(n_input, POISSON_EQUATIONS, threshold="t_in_timesteps >= k_next",
                      reset=POISSON_RESET, name="inp")
    link_index = np.zeros(n_input, dtype=int)
    for var in ("img", "intensity", "k_off"):
        setattr(inp, var, linked_var(ctrl, var, index=link_index))
    inp.run_regularly(POISSON_SLOT_CODE, dt=t_slot, when="start", order=-9, name="inp_slot")
    inp.k_next = K_NEVER
    objects = [ctrl, inp]

    groups = {"inp": inp}
    state_vars, fixed_vars = [], []
    synapse_indices = {}
    for name, gspec in spec.groups.items():
        size = int(_evaluate(gspec.size, namespace, spec.path, f"[groups.{name}] size"))
        eqs = spec.group_equations(name)
        if proto.normalise and spec.synapses[proto.normalise].target == name:
            eqs = eqs + brian2.Equations(NORMALISE_EQUATIONS)
        with model_errors(spec, f"[groups.{name}]"):
            group = NeuronGroup(size, eqs, threshold=gspec.threshold,
                                reset=gspec.reset or None, refractory=gspec.refractory or False,
                                method=gspec.method, name=name, namespace=namespace)
        groups[name] = group
        objects.append(group)
        state_vars += _carried_variables(group)

    for name, sspec in spec.synapses.items():
        on_pre, on_post = sspec.on_pre, sspec.on_post
        if spec.stdp is not None and spec.stdp.synapses == name:
            on_pre, on_post = _with_stdp(spec, on_pre, on_post)
        with model_errors(spec, f"[synapses.{name}]"):
            syn = Synapses(groups[sspec.source], groups[sspec.target], model=sspec.model,
                           on_pre=on_pre, on_post=on_post or None, name=name,
                           namespace=namespace)
        pre, post = synapse_pairs(sspec.connect, len(groups[sspec.source]),
                                  len(groups[sspec.target]),
                                  f"{spec.path}: [synapses.{name}] connect")
        syn.connect(i=pre, j=post)
        synapse_indices[name] = (pre, post)
        objects.append(syn)
        state_vars += _carried_variables(syn)
        if sspec.delay:
            fixed_vars.append((name, "delay"))

    if proto.normalise:
        syn = spec.synapses[proto.normalise]
        target, syn_obj = groups[syn.target], next(o for o in objects if o.name == syn.name)
        target.run_regularly("w_in_sum = 0", dt=t_slot, when="start", order=-8,
                             name=f"{syn.target}_w_in_reset")
        syn_obj.run_regularly("w_in_sum_post += w", dt=t_slot, when="start", order=-7,
                              name=f"{syn.name}_w_in_sum")
        target.run_regularly("w_in_scale = 1 + plastic*(weight_sum/w_in_sum - 1)", dt=t_slot,
                             when="start", order=-6, name=f"{syn.target}_w_in_scale")
        syn_obj.run_regularly("w *= w_in_scale_post", dt=t_slot, when="start", order=-5,
                              name=f"{syn.name}_normalise")

    exc = groups["exc"]
    count = Synapses(exc, ctrl, on_pre="count_post += int(t_in_timesteps < k_off_post)",
                     name="exc_count")
    count.connect()
    objects += [
        count,
        SpikeMonitor(exc, name="exc_spikes"),
        SpikeMonitor(inp, record=False, name="inp_spikes"),
        StateMonitor(ctrl, ["img", "attempts"], record=0, dt=t_slot, when="start", order=-4,
                     name="slots"),
    ]
    net = Network(*objects, *[c for o in objects for c in o.contained_objects])
    return NetworkHandles(net=net, stim=stim, namespace=namespace, state_vars=state_vars,
                          fixed_vars=fixed_vars, synapse_indices=synapse_indices)


@contextmanager
def model_errors(spec: ModelSpec, section: str):
    """Turn an error that Brian2 raises for a model object into a ModelFileError."""
    try:
        yield
    except BrianSTDPError:
        raise
    except Exception as err:  # Brian2 raises many types for bad equations
        raise spec.error(section, _brian_message(err)) from None


def _brian_message(err) -> str:
    cause = err
    while getattr(cause, "__cause__", None) is not None:
        cause = cause.__cause__
    text = str(cause).strip()
    if cause is not err and str(err).strip():
        text = f"{text} ({str(err).strip().splitlines()[0]})"
    return f"{type(cause).__name__}: {text}"


def check_model(spec: ModelSpec, n_input: int = 16) -> None:
    """Build a tiny copy of the model and run Brian2's checks on it.

    Finds unit errors, undefined names and bad statements in equations,
    thresholds, resets and synaptic code before anything is compiled.

    Raises
    ------
    ModelFileError
        Naming the file and the group or synapses at fault.
    """
    if spec.stdp is not None:
        target = spec.synapses[spec.stdp.synapses].target
        if "plastic" not in spec.group_equations(target).names:
            raise spec.error(f"[groups.{target}] equations",
                             "the target of the plastic synapses must define "
                             "'plastic : 1 (shared)', which the runner sets to 1 while "
                             "training and 0 otherwise")
    if not isinstance(brian2.get_device(), RuntimeDevice):
        raise RuntimeError("check_model needs the runtime device")
    target = brian2.prefs.codegen.target
    brian2.prefs.codegen.target = "numpy"
    try:
        handles = build_network(spec, 2, n_input, 1)
        constant_initializers(spec, handles)
        try:
            handles.net.run(0 * second, namespace=handles.namespace)
        except Exception as err:
            named = re.search(r"object named '([^']+)'", str(err))
            raise spec.error(_section_of(spec, named.group(1) if named else ""),
                             _brian_message(err)) from None
    finally:
        brian2.prefs.codegen.target = target


def _section_of(spec, object_name):
    """The model-file section of a Brian2 object name such as 'exc_stateupdater'."""
    for name in sorted(spec.synapses, key=len, reverse=True):
        if object_name.startswith(name):
            return f"[synapses.{name}]"
    for name in sorted(spec.groups, key=len, reverse=True):
        if object_name.startswith(name):
            return f"[groups.{name}]"
    return "[protocol]" if object_name.startswith(("inp", "ctrl")) else "model"


def synapse_pairs(rule: str, n_source: int, n_target: int, where: str = "connect"):
    """Pre- and postsynaptic indices for a connection rule, source-major.

    Parameters
    ----------
    rule : str
        ``"all"``, ``"one_to_one"``, ``"all_but_self"``, or a condition on
        ``i`` and ``j`` written with NumPy-compatible operators.
    where : str
        Where the rule comes from (``"FILE: [synapses.NAME] connect"``), for errors.

    Returns
    -------
    pre, post : ndarray of int32, shape (n_synapses,)
    """
    if rule == "one_to_one":
        if n_source != n_target:
            raise ModelFileError(f"{where}: one_to_one needs equal sizes, not {n_source} and "
                                 f"{n_target}")
        pre = post = np.arange(n_source)
    else:
        pre, post = np.divmod(np.arange(n_source * n_target), n_target)
        if rule == "all_but_self":
            keep = pre != post
        elif rule == "all":
            keep = slice(None)
        else:
            path, _, section = where.rpartition(": ")
            keep = np.broadcast_to(_evaluate(rule, {"i": pre, "j": post, "abs": np.abs},
                                             path or "model", section), pre.shape)
        pre, post = pre[keep], post[keep]
    return pre.astype(np.int32), post.astype(np.int32)


def _with_stdp(spec, on_pre, on_post):
    """Append the STDP rule (timing part x weight dependence) to the event code."""
    rule = spec.stdp

    def update(dw_expr):
        if rule.ltp.strip() == rule.ltd.strip():
            factor = rule.ltp
        else:
            factor = f"(int(dw > 0)*({rule.ltp}) + int(dw <= 0)*({rule.ltd}))"
        return (f"dw = {dw_expr}\n"
                f"w = clip(w + plastic*dw*{factor}, w_min, w_max)")

    parts_pre = [on_pre]
    if rule.on_pre:
        parts_pre.append(update(rule.on_pre))
    if rule.after_pre:
        parts_pre.append(rule.after_pre)
    parts_post = [on_post] if on_post else []
    if rule.on_post:
        parts_post.append(update(rule.on_post))
    if rule.after_post:
        parts_post.append(rule.after_post)
    return "\n".join(parts_pre), "\n".join(parts_post)


def variable(obj, name):
    """A Brian2 variable of a group or synapse object (``delay`` lives on its pathway)."""
    if name == "delay" and isinstance(obj, Synapses):
        return obj.pre.variables["delay"]
    return obj.variables[name]


def _carried_variables(obj):
    """(object name, variable) pairs of the state that a chunk hands to the next."""
    skip = {"plastic", "w_in_sum", "w_in_scale", "N_incoming", "N_outgoing", "lastupdate"}
    carried = []
    for name, var in obj.variables.items():
        if (name.startswith("_") or name in skip or var.read_only
                or not isinstance(var, brian2.core.variables.ArrayVariable)
                or var.owner is None or var.owner.name != obj.name
                or getattr(var, "scalar", False)):
            continue
        carried.append((obj.name, name))
    return carried


def initial_state(spec: ModelSpec, handles: NetworkHandles, rng: np.random.Generator) -> dict:
    """The state at the start of training, drawn with ``rng``.

    Returns
    -------
    dict of str to ndarray
        ``"object.variable"`` to values in SI base units, for every carried
        and fixed variable: the model's ``initial`` values, delays, and zeros
        elsewhere.
    """
    state = {}
    for obj_name, var_name in handles.state_vars + handles.fixed_vars:
        obj = handles[obj_name]
        size = handles.size(obj_name)
        state[f"{obj_name}.{var_name}"] = np.zeros(size, dtype=variable(obj, var_name).dtype)
    for obj_name, inits in _initial_expressions(spec):
        obj = handles[obj_name]
        size = handles.size(obj_name)
        for var_name, expr in inits.items():
            key = f"{obj_name}.{var_name}"
            if key not in state:
                continue  # a constant: compiled into the program
            value = _evaluate_array(expr, spec, handles, obj_name, size, rng,
                                    f"[{_section(spec, obj_name)}] initial {var_name}")
            _check_dim(spec, variable(obj, var_name), value, obj_name, var_name)
            state[key] = np.broadcast_to(np.asarray(value, dtype=float), (size,)).astype(
                state[key].dtype)
    if any(name == "lastspike" for _, name in handles.state_vars):
        for key in state:
            if key.endswith(".lastspike"):
                state[key][:] = -1e4
            if key.endswith(".not_refractory"):
                state[key][:] = True
    return state


def constant_initializers(spec: ModelSpec, handles: NetworkHandles) -> None:
    """Set the model's constant variables (compiled in; no random numbers allowed)."""
    for obj_name, inits in _initial_expressions(spec):
        obj = handles[obj_name]
        carried = {name for o, name in handles.state_vars + handles.fixed_vars
                   if o == obj_name}
        for var_name, expr in inits.items():
            if var_name in carried:
                continue
            if var_name not in obj.variables:
                raise spec.error(f"[{_section(spec, obj_name)}] initial",
                                 f"{var_name!r} is not a variable of {obj_name}")
            setattr(obj, var_name, str(expr))


def _initial_expressions(spec):
    for name, g in spec.groups.items():
        yield name, g.initial
    for name, s in spec.synapses.items():
        inits = dict(s.initial)
        if s.delay:
            inits["delay"] = s.delay
        yield name, inits


def _section(spec, obj_name):
    return f"groups.{obj_name}" if obj_name in spec.groups else f"synapses.{obj_name}"


def _evaluate_array(expr, spec, handles, obj_name, size, rng, where):
    names = dict(handles.namespace)
    names["rand"] = lambda: rng.random(size)
    names["randn"] = lambda: rng.standard_normal(size)
    if obj_name in handles.synapse_indices:
        names["i"], names["j"] = handles.synapse_indices[obj_name]
    else:
        names["i"] = np.arange(size)
    names.update(exp=np.exp, log=np.log, sqrt=np.sqrt, clip=np.clip)
    return _evaluate(expr, names, spec.path, where)


def _check_dim(spec, var, value, obj_name, var_name):
    if not brian2.have_same_dimensions(value, brian2.Quantity(1, dim=var.dim)):
        raise spec.error(f"[{_section(spec, obj_name)}] initial {var_name}",
                         f"has units {brian2.get_unit(brian2.get_dimensions(value))!r}, "
                         f"but {var_name} is in {brian2.get_unit(var.dim)!r}")


__all__ = ["NetworkHandles", "build_network", "initial_state", "constant_initializers",
           "synapse_pairs", "variable", "check_model", "model_errors", "K_NEVER"]
