"""Build the Brian2 objects of a model, with the runner's input and control groups.

The model file defines the neuron groups and synapses. :func:`build_network`
adds what every model shares, all named so they can be looked up. It builds
two formulations of the same protocol (:mod:`brian_stdp.backends.protocol`),
which differ only in the input layer and in what brian2genn needs:

chunked (default; :mod:`brian_stdp.backends.session`)
    Compiled once and re-run per chunk. A controller neuron ``ctrl`` runs the
    protocol for the input layer ``inp`` linked to it; ``stim`` has one row
    per slot; synaptic delays are the drawn build-time values (``fixed``);
    ``plastic`` and the controller state are set per chunk.
single run (``single_run=SingleRun(...)``; GeNN, :mod:`brian_stdp.backends.brian2genn`)
    One program per run. Every input neuron holds a copy of the controller
    state; ``stim`` holds all images; the delay of the synapses from the
    input layer is moved into the input layer's threshold, other synapses
    get their one constant delay; ``plastic`` is compiled in (the synapses
    read the constant ``plastic_run``; without learning the normalisation is
    left out); the per-slot operations are named ``*_run_regularly_*`` (the
    only ones brian2genn keeps).

The named parts:

``ctrl``
    (chunked only) One neuron that runs the presentation protocol. At the
    start of every slot (``t_present`` of input, then ``t_rest`` without) it
    decides whether the last image drew enough excitatory spikes; if not, the
    same image is shown again with more intensity, else the next one (up to
    ``max_presentations`` presentations per image).
``inp``
    The input layer (one neuron per pixel), reading the stimulus TimedArray
    ``stim`` (called as ``stim(img*second, i)``).
``exc_count``
    Counts the output layer's spikes in the presentation window for the
    group with the controller state (``ctrl``, or every ``inp`` neuron).
``exc_spikes``, ``inp_spikes``, ``slots``
    Monitors: output spikes, input spike counts, and the image and
    presentation number of every slot.
``exc_extra_spikes``
    Only for models whose output layer has ``extra_spikes``: a monitor of
    those events (they count as spikes in the spike counts).

Optional features of a group in the model file (none of them changes a model
that does not use them):

``threshold_after_input = true``
    Each time step runs: synaptic input (``synapses`` slot), the group's
    ``after_input`` code, the summed variables of synapses onto the group (in
    file order), its custom ``events`` (in file order), each followed by the
    synapses they trigger (``on_event``), the threshold, the delivery of the
    group's spikes (presynaptic pathways of synapses from it, postsynaptic
    pathways of synapses onto it), the ``extra_spikes`` condition, then the
    reset, all in the same step. (Brian2's default checks the threshold
    before the step's input arrives and delivers spikes in the next step.)
``slot_start``
    Code run at the start of every presentation slot (e.g. a reset of the
    neurons between images).
``one_spike_per_step = true``
    At most one neuron of the group spikes in a time step, chosen at random among
    those above threshold; the others are reset without a spike
    (:mod:`brian_stdp.backends.one_spike`).

Code run once per slot (``run_regularly``) has its own clock, so its ``dt``
and ``t_in_timesteps`` count slots; it uses ``step``, the simulation time step.

How input spikes are drawn: :mod:`brian_stdp.backends.protocol`.
"""

from __future__ import annotations

import functools
import re
from contextlib import contextmanager
from dataclasses import dataclass, field

import brian2
import numpy as np
from brian2 import (EventMonitor, Network, NeuronGroup, SpikeMonitor, StateMonitor,
                    Synapses, TimedArray, second)
from brian2.devices.device import RuntimeDevice

from brian_stdp.backends import streamed_stores
from brian_stdp.backends.delay_order import mean_run_length, stored_order, to_stored
from brian_stdp.backends.one_spike import add_one_spike_steps, one_spike_rule
from brian_stdp.backends.protocol import (K_NEVER, PROTOCOL_RULE, SingleRun, controller_layer,
                                          per_input_layer)
from brian_stdp.backends.threads import split_codeobject_class
from brian_stdp.backends.uniform_synapses import uniform_connection, uniform_pathway
from brian_stdp.errors import BrianSTDPError, ModelFileError
from brian_stdp.model import integration  # noqa: F401  (makes method = "semi_implicit" available
from brian_stdp.model.spec import ModelSpec, evaluate_expression
from brian_stdp.model.wiring import PatchLayout, pairs_for

NORMALISE_EQUATIONS = """
w_in_sum : 1           # summed incoming plastic weight (runner bookkeeping)
w_in_scale : 1         # factor that brings it to weight_sum
"""

#: Name of the Brian2 custom event of a group's ``extra_spikes``.
EXTRA_EVENT = "extra_spike"

#: ``plastic`` (or ``plastic_post``) in synaptic code; the single run reads ``plastic_run``.
_PLASTIC = re.compile(r"\bplastic(_post)?\b")


@dataclass
class NetworkHandles:
    """The Brian2 network and its named parts.

    Attributes
    ----------
    net : brian2.Network
    stim : brian2.TimedArray
        Stimulus values, shape (slots, n_input): one row per slot of a chunk (the
        single run: shape (n_images, n_input), one row per image).
    namespace : dict
        Everything the equations refer to by name.
    state_vars : list of (name, variable name)
        The variables carried from chunk to chunk (the network's state), by
        group or synapse name as in the model file; a shared variable is one value
        (shape (1,) in the state).
    fixed : dict of str to ndarray
        Build-time values (``"synapses.delay"``), compiled into the program (empty
        for the single run).
    synapse_indices : dict of str to (ndarray, ndarray)
        Pre- and postsynaptic indices of every synapse object of the model
        file, in its order (the canonical order of every per-synapse array of the state);
        uniform connections (``uniform``) are not among them.
    stored_order : dict of str to ndarray
        Synapse objects that Brian2 stores in another order
        (:mod:`~brian_stdp.backends.delay_order`): the canonical index of the synapse at
        each stored position. The state's arrays are converted on their way in and out.
    ranged_pathways : list of str
        Pathways (C++ names, such as ``inp_exc_pre``) whose event code runs through runs of
        synapses (:func:`ranged_codeobject_class`): the program must set their queues'
        ``store_ranges`` (:data:`brian_stdp.backends.spike_queue.STORE_RANGES_CODE`).
    ranged_blocks : int
        Blocks of targets by which the synapses of ``ranged_pathways`` are stored first
        (:func:`~brian_stdp.backends.delay_order.stored_order`): the threads of a program
        split over threads, else 1; a delay group of their queues is one run per block.
    uniform : dict of str to UniformConnection
        Synapse objects of the model file built without per-synapse records
        (:mod:`~brian_stdp.backends.uniform_synapses`): not in the network nor
        ``synapse_indices``; the state holds their constant as an array without memory
        of its own (a broadcast view), which the program does not read.
    """

    net: Network
    stim: TimedArray
    namespace: dict
    state_vars: list
    fixed: dict
    synapse_indices: dict
    stored_order: dict = field(default_factory=dict)
    ranged_pathways: list = field(default_factory=list)
    ranged_blocks: int = 1
    uniform: dict = field(default_factory=dict)

    def __getitem__(self, name):
        return self.net[name]

    def size(self, name: str) -> int:
        """Number of neurons or synapses of a group or synapse object of the model."""
        if name in self.synapse_indices:
            return len(self.synapse_indices[name][0])
        if name in self.uniform:
            return self.uniform[name].n_synapses
        return len(self.net[name])

    def state_size(self, key: str) -> int:
        """Number of values of a state entry ``"object.variable"``: 1 for a shared
        variable, else :meth:`size` of its object."""
        obj_name, var_name = key.split(".")
        if obj_name not in self.uniform and self.net[obj_name].variables[var_name].scalar:
            return 1
        return self.size(obj_name)


def group_sizes(spec: ModelSpec, n_neurons: int, n_input: int) -> dict:
    """Number of neurons of every group, the input layer ``inp`` included."""
    namespace = spec.namespace(n_neurons, n_input)
    spec.check_neurons(n_neurons)
    sizes = {"inp": n_input}
    for name, gspec in spec.groups.items():
        sizes[name] = int(evaluate_expression(gspec.size, namespace, spec.path,
                                              f"[groups.{name}] size"))
        if sizes[name] <= 0:
            raise spec.error(f"[groups.{name}] size", f"must be positive, not {sizes[name]}")
    return sizes


def fixed_keys(spec: ModelSpec) -> list:
    """State keys of the build-time values (the delays of synapses that have them)."""
    return [f"{name}.delay" for name, s in spec.synapses.items() if s.delay]


def draw_fixed(spec: ModelSpec, n_neurons: int, n_input: int,
               rng: np.random.Generator) -> dict:
    """Draw the build-time values with ``rng``.

    Returns
    -------
    dict of str to ndarray
        ``"synapses.delay"`` to one delay per synapse, in seconds (float64).
    """
    namespace = spec.namespace(n_neurons, n_input)
    sizes = group_sizes(spec, n_neurons, n_input)
    fixed = {}
    for name, sspec in spec.synapses.items():
        if not sspec.delay:
            continue
        where = f"[synapses.{name}] delay"
        pre, post = model_synapse_pairs(spec, name, sizes)
        value = _evaluate_array(sspec.delay, spec, namespace, (pre, post), len(pre), rng, where)
        if not brian2.have_same_dimensions(value, second):
            raise spec.error(where, f"{sspec.delay!r} must be a time")
        fixed[f"{name}.delay"] = np.broadcast_to(np.asarray(value, dtype=float),
                                                 (len(pre),)).copy()
    return fixed


def build_network(spec: ModelSpec, n_neurons: int, n_input: int, slots: int,
                  fixed: dict, single_run: SingleRun | None = None,
                  delay_sorted: bool = False, peek_in_place: bool = False,
                  ranged_events: bool = False, uniform: bool = False,
                  threads: int = 1, stop_early: bool = False) -> NetworkHandles:
    """Create every Brian2 object of ``spec`` for ``slots`` presentation slots.

    Parameters
    ----------
    spec : ModelSpec
    n_neurons : int
        Size of groups whose size is ``n_neurons``.
    n_input : int
        Number of input neurons (pixels per image).
    slots : int
        Presentation slots per chunk (or run); the run lasts ``slots * t_slot``.
    fixed : dict of str to ndarray
        The build-time values from :func:`draw_fixed` (or a saved state); unused
        by the single run, whose delays are constants of the model file.
    single_run : SingleRun, optional
        Build the single-run formulation (see the module docstring) for
        ``single_run.stimulus`` (shape (n_images, n_input)) instead of the
        chunked one. The model must be GeNN-compatible
        (:func:`brian_stdp.backends.brian2genn.check.check_genn_compatible`).
    delay_sorted : bool
        (chunked only) Store the synapses with per-synapse delays sorted by source, delay
        step and target (:mod:`~brian_stdp.backends.delay_order`): the same simulation,
        with each spike's delay groups contiguous in memory; with ``ranged_events`` split
        over threads, by block of targets first.
    peek_in_place : bool
        On ``cpp_standalone``: the event code of every synapse object reads the spike
        queue's slot in place instead of a copy (:func:`pathway_codeobject_class`);
        elsewhere ignored.
    ranged_events : bool
        With ``delay_sorted`` and ``peek_in_place`` in effect: the presynaptic event code of
        the delay-sorted synapses runs through runs of synapses (:func:`ranged_codeobject_class`;
        ``handles.ranged_pathways``).
    uniform : bool
        (chunked only, ``cpp_standalone``) Build the synapse objects that qualify as
        uniform connections without per-synapse records
        (:mod:`~brian_stdp.backends.uniform_synapses`).
    threads : int
        (``cpp_standalone``, with ``peek_in_place``) More than 1: the code of the neuron
        groups and synapses is split over that many threads by blocks of neurons
        (:mod:`~brian_stdp.backends.threads`; the program must then be edited with
        :func:`~brian_stdp.backends.threads.patch_network` before it is compiled).
    stop_early : bool
        (chunked only, ``cpp_standalone``) A chunk run with ``ctrl.stop_when_done = 1``
        ends at the start of the first slot past its images
        (:func:`~brian_stdp.backends.protocol.controller_layer`).
    """
    proto = spec.protocol
    namespace = spec.namespace(n_neurons, n_input)
    t_slot = proto.t_slot
    brian2.defaultclock.dt = proto.dt
    if single_run is None:
        layer = controller_layer(spec, n_input, slots, namespace, stop_early=stop_early)
    else:
        layer = per_input_layer(spec, single_run, namespace)
    objects = list(layer.objects)

    pathway_class = pathway_codeobject_class() if peek_in_place else None
    split = threads > 1 and pathway_class is not None
    ranged_blocks = threads if split else 1  # each thread's targets apart
    group_class = split_codeobject_class() if split else None
    groups = {"inp": layer.inp}
    state_vars, synapse_indices, orders, ranged_pathways, uniforms = [], {}, {}, [], {}
    sizes = group_sizes(spec, n_neurons, n_input)
    for name, gspec in spec.groups.items():
        eqs = group_model(spec, name)
        events = dict(gspec.events)
        if gspec.extra_spikes:
            events[EXTRA_EVENT] = gspec.extra_spikes
        threshold, one_spike = gspec.threshold, None
        if gspec.one_spike_per_step:
            one_spike = one_spike_rule(spec, name)
            namespace.update(one_spike.functions)
            threshold = one_spike.threshold
            events.update(one_spike.events)
        with model_errors(spec, f"[groups.{name}]"):
            group = NeuronGroup(sizes[name], eqs, threshold=threshold,
                                reset=gspec.reset or None, refractory=gspec.refractory or False,
                                method=gspec.method, name=name, namespace=namespace,
                                events=events or None,
                                codeobj_class=one_spike.codeobj_class if one_spike
                                else group_class)
            _add_group_steps(group, gspec, t_slot)
            if one_spike is not None:
                add_one_spike_steps(group, one_spike)
        groups[name] = group
        objects.append(group)
        state_vars += _carried_variables(group)

    if single_run is not None:
        namespace["plastic_run"] = float(single_run.plastic)
    for name, sspec in spec.synapses.items():
        connection = (uniform_connection(spec, name, namespace, sizes)
                      if uniform and single_run is None else None)
        if connection is not None:
            uniforms[name] = connection
            objects.append(uniform_pathway(connection, sizes[sspec.source],
                                           sizes[sspec.target]))
            continue
        on_pre, on_post = sspec.on_pre, sspec.on_post
        if spec.stdp is not None and spec.stdp.synapses == name:
            on_pre, on_post = with_stdp(spec, on_pre, on_post)
        delay = None
        if single_run is not None:
            # brian2genn would give the synapses their own, never-set copy of the target's
            # shared 'plastic'; it is constant in a single run, so read a constant instead
            on_pre, on_post = (_PLASTIC.sub("plastic_run", code) if code else code
                               for code in (on_pre, on_post))
            if sspec.delay and sspec.source != "inp":  # one value; inp's is in its threshold
                delay = evaluate_expression(sspec.delay, namespace, spec.path,
                                            f"[synapses.{name}] delay")
        pre, post = model_synapse_pairs(spec, name, sizes)
        synapse_indices[name] = (pre, post)
        # a one-to-one connection delivers a few events per step: not worth a barrier
        codeobj_class = (pathway_class if sspec.connect == "one_to_one"
                         else group_class or pathway_class)
        ranged = bool(ranged_events and delay_sorted and pathway_class is not None
                      and sspec.delay and single_run is None)
        delays = None
        if sspec.delay and single_run is None:
            key = f"{name}.delay"
            if key not in fixed:
                raise ValueError(f"build_network needs the delays {key!r} (see draw_fixed)")
            delays = fixed[key]
            if delay_sorted:
                orders[name] = stored_order(pre, post, delays, float(proto.dt / second),
                                            blocks=ranged_blocks if ranged else 1,
                                            n_targets=sizes[sspec.target])
        if ranged:
            stream = streamed_stores.worth_streaming(mean_run_length(
                pre, post, delays, float(proto.dt / second), orders[name], ranged_blocks,
                sizes[sspec.target]))
            codeobj_class = (split_codeobject_class(ranged_events=True, stream=stream) if split
                             else ranged_codeobject_class(stream=stream))
            ranged_pathways.append(f"{name}_pre")
        with model_errors(spec, f"[synapses.{name}]"):
            syn = Synapses(groups[sspec.source], groups[sspec.target], model=sspec.model,
                           on_pre=on_pre, on_post=on_post or None, delay=delay, name=name,
                           namespace=namespace, codeobj_class=codeobj_class,
                           **({"on_event": {"pre": sspec.on_event}} if sspec.on_event else {}))
        order = orders.get(name)
        if order is None:
            syn.connect(i=pre, j=post)
        else:
            syn.connect(i=to_stored(pre, order), j=to_stored(post, order))
        if delays is not None:
            syn.delay = (delays if order is None else to_stored(delays, order)) * second
        objects.append(syn)
        state_vars += _carried_variables(syn)

    if single_run is None:
        if proto.normalise:
            add_normalisation(spec, groups, objects, t_slot)
    else:
        if proto.normalise and single_run.plastic:
            add_normalisation(spec, groups, objects, t_slot, infix="_run_regularly_",
                              plastic="plastic_run")
        for obj in objects:  # compiled in
            if "plastic" in getattr(obj, "variables", {}) and \
                    obj.variables["plastic"].owner.name == obj.name:
                obj.plastic = float(single_run.plastic)

    exc = groups["exc"]
    count = Synapses(exc, layer.controller, on_pre=layer.count_code, name="exc_count")
    count.connect()
    objects += [
        count,
        SpikeMonitor(exc, name="exc_spikes"),
        SpikeMonitor(layer.inp, record=False, name="inp_spikes"),
        StateMonitor(layer.controller, ["img", "attempts"], record=0, dt=t_slot, when="start",
                     order=-4, name="slots"),
    ]
    if spec.groups["exc"].extra_spikes:
        objects.append(EventMonitor(exc, EXTRA_EVENT, name="exc_extra_spikes"))
    _schedule_same_step(spec, [o for o in objects if isinstance(o, Synapses)])
    net = Network(*objects, *[c for o in objects for c in o.contained_objects])
    return NetworkHandles(net=net, stim=layer.stim, namespace=namespace, state_vars=state_vars,
                          fixed=dict(fixed) if single_run is None else {},
                          synapse_indices=synapse_indices, stored_order=orders,
                          ranged_pathways=ranged_pathways, ranged_blocks=ranged_blocks,
                          uniform=uniforms)


def _add_group_steps(group, gspec, t_slot) -> None:
    """Add a group's ``after_input`` and ``slot_start`` code; schedule its threshold.

    With ``threshold_after_input`` the threshold moves to the
    ``after_synapses`` slot, after the ``after_input`` code (order 0), the
    summed variables (orders 1, 2, ...; see :func:`_schedule_same_step`) and
    the custom events (orders 500, 502, ...; the synapses they trigger at
    501, 503, ...); the ``extra_spikes`` condition is checked in the
    ``before_resets`` slot after the delivery of the step's spikes.
    """
    if gspec.threshold_after_input:
        group.thresholder["spike"].when = "after_synapses"
        group.thresholder["spike"].order = 1000
        for k, event in enumerate(gspec.events):
            group.thresholder[event].when = "after_synapses"
            group.thresholder[event].order = 500 + 2 * k
        if gspec.extra_spikes:
            group.thresholder[EXTRA_EVENT].when = "before_resets"
            group.thresholder[EXTRA_EVENT].order = 100
    elif gspec.extra_spikes:
        group.thresholder[EXTRA_EVENT].order = 1  # after the threshold, in its slot
    if gspec.after_input:
        group.run_regularly(gspec.after_input, when="after_synapses", order=0,
                            name=f"{group.name}_after_input")
    if gspec.slot_start:
        group.run_regularly(gspec.slot_start, dt=t_slot, when="start", order=-3,
                            name=f"{group.name}_slot_start")


def _schedule_same_step(spec: ModelSpec, synapses: list) -> None:
    """Schedule summed variables and spike delivery of ``threshold_after_input`` groups.

    For every such group: the summed variables of synapses onto it run in the
    ``after_synapses`` slot, in the order of the synapses in the model file and
    of the variables in their ``model``; the pathways its spikes trigger run in
    the ``before_resets`` slot of the step in which it spiked, and those its
    custom events trigger (``on_event``) right after that event is checked.
    """
    same_step = {name for name, g in spec.groups.items() if g.threshold_after_input}
    if not same_step:
        return
    order = {name: 1 for name in same_step}
    for syn in synapses:
        model_text = spec.synapses[syn.name].model if syn.name in spec.synapses else ""
        updaters = sorted(syn.summed_updaters.values(),
                          key=lambda u: model_text.find(u.target_varname))
        for updater in updaters:
            if updater.target.name in same_step:
                updater.when = "after_synapses"
                updater.order = order[updater.target.name]
                order[updater.target.name] += 1
        for pathway in syn._pathways:
            trigger = syn.source if pathway.prepost == "pre" else syn.target
            if trigger.name not in same_step:
                continue
            if pathway.event == "spike":
                pathway.when = "before_resets"
            else:  # right after its event is checked
                events = list(spec.groups[trigger.name].events)
                pathway.when = "after_synapses"
                pathway.order = 501 + 2 * events.index(pathway.event)


def group_model(spec: ModelSpec, name: str):
    """A neuron group's equations, with the weight-normalisation variables
    (:data:`NORMALISE_EQUATIONS`) when it is the target of the normalised synapses."""
    eqs = spec.group_equations(name)
    normalise = spec.protocol.normalise
    if normalise and spec.synapses[normalise].target == name:
        eqs = eqs + brian2.Equations(NORMALISE_EQUATIONS)
    return eqs


def add_normalisation(spec: ModelSpec, groups: dict, objects: list, t_slot,
                      infix: str = "_", plastic: str = "plastic") -> None:
    """Scale the incoming weights of ``[protocol] normalise`` at every slot start.

    Four ``run_regularly`` operations, at the start of each slot of length
    ``t_slot`` (second): the target group's ``w_in_sum`` is reset, the synapses
    add their weights to it, the target computes ``w_in_scale`` (1 while not
    plastic), and the synapses multiply their weights by it.

    Parameters
    ----------
    spec : ModelSpec
    groups : dict of str to NeuronGroup
    objects : list
        The network's objects, the normalised Synapses among them.
    t_slot : Quantity
        Slot length (second).
    infix : str
        Between an object's name and the operation's (``name + infix +
        "w_in_reset"``); brian2genn keeps only operations whose name contains
        ``_run_regularly``.
    plastic : str
        What ``w_in_scale`` reads as the learning switch: the target group's
        shared variable ``plastic``, or a constant of the namespace (GeNN,
        where operations cannot read shared variables).
    """
    syn_name = spec.protocol.normalise
    target_name = spec.synapses[syn_name].target
    target, syn = groups[target_name], next(o for o in objects if o.name == syn_name)
    target.run_regularly("w_in_sum = 0", dt=t_slot, when="start", order=-8,
                         name=f"{target_name}{infix}w_in_reset")
    syn.run_regularly("w_in_sum_post += w", dt=t_slot, when="start", order=-7,
                      name=f"{syn_name}{infix}w_in_sum")
    target.run_regularly(f"w_in_scale = 1 + {plastic}*(weight_sum/w_in_sum - 1)", dt=t_slot,
                         when="start", order=-6, name=f"{target_name}{infix}w_in_scale")
    syn.run_regularly("w *= w_in_scale_post", dt=t_slot, when="start", order=-5,
                      name=f"{syn_name}{infix}normalise")


def pathway_codeobject_class():
    """The code object class for synapses on ``cpp_standalone``, or None.

    Its event code (``brian_stdp/backends/templates/synapses.cpp``) reads the spike queue's
    slot in place, where Brian2's copies it into another vector first: the same synapse
    indices in the same order, without the copy. With Brian2's OpenMP threads (which
    this project does not use: :mod:`~brian_stdp.backends.threads`), or on another
    device, this returns None (the device's own class).
    """
    from brian2 import get_device, prefs
    from brian2.devices.cpp_standalone.codeobject import CPPStandaloneCodeObject

    device = get_device()
    if (not hasattr(device, "code_object_class")
            or device.code_object_class() is not CPPStandaloneCodeObject
            or prefs.devices.cpp_standalone.openmp_threads):
        return None
    return _serial_codeobject()


@functools.cache
def ranged_codeobject_class(stream: bool = False):
    """The code object class of synapses stored sorted by delay on ``cpp_standalone``
    without OpenMP: as :func:`pathway_codeobject_class`, and the presynaptic event code runs
    through the runs of synapses that the spike queue holds with ``store_ranges``
    (``brian_stdp/backends/templates/synapses.cpp``); with ``stream``, it stores the
    values it writes and does not read past the cache
    (:mod:`~brian_stdp.backends.streamed_stores`)."""
    base = _serial_codeobject()

    class RangedCPPStandaloneCodeObject(base):
        """cpp_standalone code whose presynaptic event code reads runs of synapses."""

        templater = base.templater.derive(
            "brian_stdp.backends",
            env_globals={"ranged_events": True, **streamed_stores.template_globals(stream)})

    return RangedCPPStandaloneCodeObject


@functools.cache
def _serial_codeobject():
    from brian2.devices.cpp_standalone.codeobject import CPPStandaloneCodeObject

    class SerialCPPStandaloneCodeObject(CPPStandaloneCodeObject):
        """cpp_standalone code whose state-update loop runs on one thread, and whose
        event code reads the spike queue in place without OpenMP
        (``brian_stdp/backends/templates``)."""

        templater = CPPStandaloneCodeObject.templater.derive("brian_stdp.backends")

    return SerialCPPStandaloneCodeObject


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
        plastic_target = spec.synapses[spec.stdp.synapses].target
        if "plastic" not in spec.group_equations(plastic_target).names:
            raise spec.error(f"[groups.{plastic_target}] equations",
                             "the target of the plastic synapses must define "
                             "'plastic : 1 (shared)', which the runner sets to 1 while "
                             "training and 0 otherwise")
    if not isinstance(brian2.get_device(), RuntimeDevice):
        raise RuntimeError("check_model needs the runtime device")
    n_neurons = 2 * spec.neurons_step()  # two filters per patch location, if any
    for sspec in spec.synapses.values():
        if sspec.source == "inp" and isinstance(sspec.connect, PatchLayout):
            n_input = sspec.connect.n_inputs  # the input image a patch layout needs
    codegen_target = brian2.prefs.codegen.target
    brian2.prefs.codegen.target = "numpy"
    try:
        handles = build_network(spec, n_neurons, n_input, 1,
                                draw_fixed(spec, n_neurons, n_input, np.random.default_rng(0)))
        constant_initializers(spec, handles)
        try:
            handles.net.run(0 * second, namespace=handles.namespace)
        except Exception as err:
            named = re.search(r"object named '([^']+)'", str(err))
            raise spec.error(_section_of(spec, named.group(1) if named else ""),
                             _brian_message(err)) from None
    finally:
        brian2.prefs.codegen.target = codegen_target


def _section_of(spec, object_name):
    """The model-file section of a Brian2 object name such as 'exc_stateupdater'."""
    for name in sorted(spec.synapses, key=len, reverse=True):
        if object_name.startswith(name):
            return f"[synapses.{name}]"
    for name in sorted(spec.groups, key=len, reverse=True):
        if object_name.startswith(name):
            return f"[groups.{name}]"
    return "[protocol]" if object_name.startswith(("inp", "ctrl")) else "model"


def model_synapse_pairs(spec: ModelSpec, name: str, sizes: dict):
    """Pre- and postsynaptic indices of the model's synapses ``name``, source-major.

    A condition may read the patch positions (``location_pre``, ``filter_post``, ...) of
    groups that are the target of a patch layout.

    Parameters
    ----------
    sizes : dict of str to int
        Group sizes (:func:`group_sizes`).

    Returns
    -------
    pre, post : ndarray of int32, shape (n_synapses,)
    """
    sspec = spec.synapses[name]
    layouts = spec.layouts()
    return pairs_for(sspec.connect, sizes[sspec.source], sizes[sspec.target],
                     f"{spec.path}: [synapses.{name}] connect",
                     source_layout=layouts.get(sspec.source),
                     target_layout=layouts.get(sspec.target))


def with_stdp(spec, on_pre, on_post):
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


def _carried_variables(obj):
    """(object name, variable) pairs of the state that a chunk hands to the next: the
    model's per-neuron, per-synapse and shared variables, not ``plastic`` (the runner
    sets it) nor the normalisation's work arrays."""
    skip = {"plastic", "w_in_sum", "w_in_scale", "N_incoming", "N_outgoing", "lastupdate"}
    carried = []
    for name, var in obj.variables.items():
        if (name.startswith("_") or name in skip or var.read_only
                or not isinstance(var, brian2.core.variables.ArrayVariable)
                or var.owner is None or var.owner.name != obj.name):
            continue
        carried.append((obj.name, name))
    return carried


def initial_state(spec: ModelSpec, handles: NetworkHandles, rng: np.random.Generator) -> dict:
    """The state at the start of training, drawn with ``rng``.

    Returns
    -------
    dict of str to ndarray
        ``"object.variable"`` to values in SI base units, for every carried
        variable (the model's ``initial`` values, zeros elsewhere, no spike so
        far) and the build-time values of ``handles.fixed``.
    """
    state = {key: value.copy() for key, value in handles.fixed.items()}
    dims = {}
    for obj_name, var_name in handles.state_vars:
        key = f"{obj_name}.{var_name}"
        var = handles[obj_name].variables[var_name]
        state[key] = np.zeros(handles.state_size(key), dtype=var.dtype)
        dims[key] = var.dim
    for key in state:
        if key.endswith(".lastspike"):
            state[key][:] = -1e4  # Brian2's "never"
        if key.endswith(".not_refractory"):
            state[key][:] = True
    for name, connection in handles.uniform.items():  # one number each, no memory per synapse
        state[f"{name}.{connection.weight}"] = np.broadcast_to(
            np.float64(connection.value), (connection.n_synapses,))
    for obj_name, inits in _initial_expressions(spec):
        if obj_name in handles.uniform:  # above (its constant draws no random number)
            continue
        size = handles.size(obj_name)
        for var_name, expr in inits.items():
            key = f"{obj_name}.{var_name}"
            if key not in dims:
                continue  # a constant: compiled into the program
            where = f"[{_section(spec, obj_name)}] initial {var_name}"
            shared = handles[obj_name].variables[var_name].scalar  # one value
            value = _evaluate_array(expr, spec, handles.namespace,
                                    None if shared else handles.synapse_indices.get(obj_name),
                                    1 if shared else size, rng, where)
            if not brian2.have_same_dimensions(value, brian2.Quantity(1, dim=dims[key])):
                raise spec.error(where, f"has units "
                                 f"{brian2.get_unit(brian2.get_dimensions(value))!r}, but "
                                 f"{var_name} is in {brian2.get_unit(dims[key])!r}")
            state[key] = np.broadcast_to(np.asarray(value, dtype=float),
                                         (len(state[key]),)).astype(state[key].dtype)
    return state


def constant_initializers(spec: ModelSpec, handles: NetworkHandles) -> None:
    """Set the model's constant variables (compiled in; no random numbers allowed)."""
    carried = set(handles.state_vars)
    for obj_name, inits in _initial_expressions(spec):
        if obj_name in handles.uniform:  # compiled into its delivery code
            continue
        for var_name, expr in inits.items():
            if (obj_name, var_name) in carried:
                continue
            obj = handles[obj_name]
            if var_name not in obj.variables:
                raise spec.error(f"[{_section(spec, obj_name)}] initial",
                                 f"{var_name!r} is not a variable of {obj_name}")
            setattr(obj, var_name, str(expr))


def _initial_expressions(spec):
    for name, g in spec.groups.items():
        yield name, g.initial
    for name, s in spec.synapses.items():
        yield name, s.initial


def _section(spec, obj_name):
    return f"groups.{obj_name}" if obj_name in spec.groups else f"synapses.{obj_name}"


def _evaluate_array(expr, spec, namespace, indices, size, rng, where):
    """Evaluate an initial-value expression for ``size`` neurons or synapses with NumPy."""
    names = dict(namespace)
    names["rand"] = lambda: rng.random(size)
    names["randn"] = lambda: rng.standard_normal(size)
    if indices is not None:
        names["i"], names["j"] = indices
    else:
        names["i"] = np.arange(size)
    names.update(exp=np.exp, log=np.log, sqrt=np.sqrt, clip=np.clip)
    return evaluate_expression(expr, names, spec.path, where)


__all__ = ["NetworkHandles", "build_network", "initial_state", "constant_initializers",
           "model_synapse_pairs", "group_sizes", "draw_fixed", "fixed_keys", "check_model",
           "model_errors", "K_NEVER", "PROTOCOL_RULE", "SingleRun", "EXTRA_EVENT"]
