"""One spike per time step in a group (``one_spike_per_step = true``), as BindsNET's
``one_spike`` rule.

BindsNET's Diehl & Cook neurons, each time step: every neuron with ``v >= thresh +
theta`` is reset, made refractory and raises its threshold; then one of them, chosen
uniformly at random, is the layer's only spike (the one that drives synapses, learning and
the records). Brian2 has no reduction over a group's neurons, so the rule is three steps
of the group, all in the time step's threshold slot (the ``after_synapses`` slot with
``threshold_after_input``):

1. the chooser (``NAME_one_spike``, a ``run_regularly`` just before the threshold) walks
   the neurons in index order; the k-th neuron above threshold and not refractory becomes
   the chosen one with probability 1/k (a ``rand()`` per neuron): each of the n above
   threshold ends chosen with probability 1/n (reservoir sampling);
2. the threshold is ``(threshold) and one_spike_chosen_NAME(i)``: only the chosen neuron
   spikes (its reset, refractory period, synapses, spike monitor, spike counts);
3. the event :data:`~brian_stdp.model.spec.SILENT_RESET_EVENT`, ``(threshold) and
   not_refractory and not one_spike_chosen_NAME(i)``: the other neurons above threshold
   get the group's reset code and the refractory period (``lastspike = t``,
   ``not_refractory = False``) in the resets slot, as a spike's reset, without a spike.

The chooser's result lives in an array of two ``int32`` (neurons above threshold so far
in this step, the chosen index or -1), the namespace of the two functions: on
``cpp_standalone`` one global static array to which every code object that calls them
points (Brian2 writes function namespaces as static arrays by name); on the runtime device
the same NumPy array, read by NumPy code (the group runs with the ``numpy`` target there,
whatever ``prefs.codegen.target`` says). With ``--threads`` above 1 the group's code runs
on one thread (Brian2's code object class, not :mod:`~brian_stdp.backends.threads`), and
the chooser draws its random numbers there. Other devices (brian2cuda, GeNN) are
refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import brian2
import numpy as np
from brian2 import Function
from brian2.devices.device import RuntimeDevice

from brian_stdp.model.spec import SILENT_RESET_EVENT, ModelSpec

#: The chooser's C++: count the neurons above threshold in this step (reset at neuron 0)
#: and keep the k-th of them with probability 1/k. ``{name}``: the group.
_CHOOSE_CPP = """
int32_t one_spike_choose_{name}(const int32_t i, const int32_t above, const double r)
{{
    // _namespace_one_spike_{name}: [0] neurons above threshold so far, [1] the chosen one
    int32_t* const _state = _namespace_one_spike_{name};
    if (i == 0) {{ _state[0] = 0; _state[1] = -1; }}
    if (above) {{
        _state[0] += 1;
        if (r * _state[0] < 1.0) _state[1] = i;
    }}
    return _state[1];
}}
"""

_CHOSEN_CPP = """
bool one_spike_chosen_{name}(const int32_t i)
{{
    return _namespace_one_spike_{name}[1] == i;
}}
"""


@dataclass
class OneSpikeRule:
    """What :func:`~brian_stdp.backends.network.build_network` adds to a group with
    ``one_spike_per_step``.

    Attributes
    ----------
    functions : dict of str to brian2.Function
        The chooser and the test ``one_spike_chosen_NAME(i)``, for the namespace.
    threshold : str
        The group's spike condition.
    events : dict of str to str
        The silent reset's event and its condition (empty when the group has neither reset
        code nor a refractory period: nothing to do for the neurons not chosen).
    silent_reset : str
        The code run for that event.
    chooser : str
        The chooser's code (run every time step before the threshold).
    codeobj_class : type or None
        The group's code object class (NumPy on the runtime device; else None).
    """

    functions: dict
    threshold: str
    events: dict
    silent_reset: str
    chooser: str
    codeobj_class: type | None


def one_spike_rule(spec: ModelSpec, name: str) -> OneSpikeRule:
    """The parts of the one-spike rule for group ``name`` on the current device.

    Raises
    ------
    ModelFileError
        Naming the file and ``[groups.NAME] one_spike_per_step`` on a device other than
        ``cpp_standalone`` and ``runtime``.
    """
    gspec = spec.groups[name]
    codeobj_class = _codeobj_class(spec, name)
    state = np.array([0, -1], dtype=np.int32)

    def choose(i, above, r):  # NumPy: all neurons at once, in index order
        accept = np.flatnonzero(np.asarray(above, dtype=bool)
                                & (np.asarray(r) * np.cumsum(np.asarray(above) != 0) < 1))
        state[0] = np.count_nonzero(above)
        state[1] = np.asarray(i)[accept[-1]] if len(accept) else -1
        return np.full(np.shape(i), state[1], dtype=np.int32)

    def chosen(i):
        return np.asarray(i) == state[1]

    choose_name, chosen_name = f"one_spike_choose_{name}", f"one_spike_chosen_{name}"
    choose_function = Function(choose, arg_units=[1, 1, 1], return_unit=1,
                               arg_types=["integer", "integer", "float"],
                               return_type="integer", stateless=False)
    choose_function.implementations.add_implementation(
        "cpp", _CHOOSE_CPP.format(name=name), name=choose_name,
        namespace={f"_one_spike_{name}": state})
    chosen_function = Function(chosen, arg_units=[1], return_unit=bool,
                               arg_types=["integer"], return_type="boolean", stateless=False)
    chosen_function.implementations.add_implementation(
        "cpp", _CHOSEN_CPP.format(name=name), name=chosen_name,
        dependencies={choose_name: choose_function})

    condition = f"({gspec.threshold})"
    if gspec.refractory:
        condition += " and not_refractory"
    silent_reset = gspec.reset
    if gspec.refractory:
        silent_reset += "\nlastspike = t\nnot_refractory = False"
    events = ({SILENT_RESET_EVENT: f"{condition} and not {chosen_name}(i)"}
              if silent_reset.strip() else {})
    return OneSpikeRule(
        functions={choose_name: choose_function, chosen_name: chosen_function},
        threshold=f"({gspec.threshold}) and {chosen_name}(i)", events=events,
        silent_reset=silent_reset,
        chooser=f"one_spike_pick = {choose_name}(i, int({condition}), rand())",
        codeobj_class=codeobj_class)


def add_one_spike_steps(group, rule: OneSpikeRule) -> None:
    """Add the chooser and the silent reset to ``group``, scheduled around its threshold
    (wherever :func:`~brian_stdp.backends.network.build_network` has placed it)."""
    spike = group.thresholder["spike"]
    group.run_regularly(rule.chooser, when=spike.when, order=spike.order - 1,
                        name=f"{group.name}_one_spike",
                        codeobj_class=rule.codeobj_class)
    if rule.events:
        group.thresholder[SILENT_RESET_EVENT].when = spike.when
        group.thresholder[SILENT_RESET_EVENT].order = spike.order + 2
        group.run_on_event(SILENT_RESET_EVENT, rule.silent_reset, when="resets")


def _codeobj_class(spec: ModelSpec, name: str):
    """NumPy's code object class on the runtime device, None on ``cpp_standalone``."""
    from brian2.devices.cpp_standalone.codeobject import CPPStandaloneCodeObject

    device = brian2.get_device()
    if isinstance(device, RuntimeDevice):
        return brian2.NumpyCodeObject
    if getattr(device, "code_object_class", None) is not None \
            and device.code_object_class() is CPPStandaloneCodeObject:
        return None
    raise spec.error(f"[groups.{name}] one_spike_per_step",
                     f"runs on cpp_standalone and runtime only, not on "
                     f"{type(device).__name__} (it needs one pass over the group's "
                     f"neurons in index order); use --device cpp_standalone or remove "
                     f"the key")


__all__ = ["OneSpikeRule", "one_spike_rule", "add_one_spike_steps"]
