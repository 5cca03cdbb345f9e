"""Deliver the spikes of a uniform all-to-all connection without one record per synapse
(``cpp_standalone``).

The lateral inhibition of Diehl & Cook's network connects every inhibitory neuron to every
excitatory neuron but its own partner (``connect = "all_but_self"``), each synapse with the
same constant weight (``w : 1 (constant)``, ``on_pre = "gi_post += w"``). Brian2 keeps a
weight, two indices, two synapse counts and a queue entry per synapse, 28 bytes: at 6,400
neurons 41 million synapses hold 1.1 GB in the program, and the Python process builds and
keeps their index arrays (and the weights, carried from chunk to chunk) besides.

A connection qualifies (:func:`uniform_connection`) when it is ``all`` or
``all_but_self``, without delay, ``on_post`` or ``on_event``, neither plastic nor
normalised, from a group that is not ``threshold_after_input``, with one constant variable
whose initial value is one number, and ``on_pre = "X_post += VAR"`` for a variable ``X``
that no other synapse object writes. :func:`uniform_pathway` builds it as a one-neuron
group whose code, run at every step in the ``synapses`` slot like the pathway it replaces,
reads the source's spikes of the step and adds the value to ``X`` of every target (but the
spiking neuron's partner): for each target the same additions of the same number in the
same order (the order of the spikes) as Brian2's loop over the synapses, so the sums are
equal to the bit (``tests/backends/test_spike_queue.py``). Nothing is stored per synapse.
The state keeps its entry (``inh_exc.w``), so that a state moves between devices as before,
as a broadcast view of the one number (no memory per synapse); the program does not read
it, since the value is a constant of the model file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from brian_stdp.model.spec import ModelSpec, evaluate_expression

_ON_PRE = re.compile(r"^\s*([A-Za-z]\w*)_post\s*\+=\s*([A-Za-z]\w*)\s*$")
_CONSTANT = re.compile(r"^\s*([A-Za-z]\w*)\s*:\s*1\s*\(\s*constant\s*\)\s*(#.*)?$")


@dataclass(frozen=True)
class UniformConnection:
    """A connection delivered without per-synapse records.

    Attributes
    ----------
    name, source, target : str
        The synapse object's name and its groups.
    variable : str
        The target group's variable that each spike adds to.
    value : float
        The number added (the synapses' constant weight).
    all_but_self : bool
        Whether a source neuron skips the target of its own index.
    weight : str
        The synapses' constant variable (its value is ``value``).
    n_synapses : int
        The number of synapses that Brian2 would have made.
    """

    name: str
    source: str
    target: str
    variable: str
    value: float
    all_but_self: bool
    weight: str
    n_synapses: int


def uniform_connection(spec: ModelSpec, name: str, namespace: dict,
                       sizes: dict) -> UniformConnection | None:
    """The connection ``[synapses.NAME]`` as a :class:`UniformConnection`, or None where it
    does not qualify (see the module docstring); ``sizes``: neurons per group."""
    s = spec.synapses[name]
    if (s.connect not in ("all", "all_but_self") or s.delay or s.on_post or s.on_event
            or (spec.stdp is not None and spec.stdp.synapses == name)
            or spec.protocol.normalise == name
            or s.source not in spec.groups or s.target not in spec.groups
            or spec.groups[s.source].threshold_after_input):
        return None
    lines = [line for line in s.model.splitlines() if line.strip()]
    constant = _CONSTANT.match(lines[0]) if len(lines) == 1 else None
    on_pre = _ON_PRE.match(s.on_pre)
    if constant is None or on_pre is None or on_pre.group(2) != constant.group(1):
        return None
    weight, variable = constant.group(1), on_pre.group(1)
    if set(s.initial) != {weight}:
        return None
    try:
        value = evaluate_expression(s.initial[weight], namespace, spec.path,
                                    f"[synapses.{name}] initial {weight}")
    except Exception:  # uses i, j, rand() or another per-synapse name: not uniform
        return None
    if np.ndim(value) != 0 or not isinstance(value, (int, float, np.integer, np.floating)):
        return None  # a quantity with units, or an array
    written = re.compile(rf"\b{variable}_post\b")
    for other_name, other in spec.synapses.items():
        if other_name != name and other.target == s.target and (
                written.search(other.on_pre) or written.search(other.on_post or "")):
            return None
    if spec.stdp is not None and spec.synapses[spec.stdp.synapses].target == s.target and \
            any(written.search(code or "") for code in (spec.stdp.on_pre, spec.stdp.on_post,
                                                         spec.stdp.after_pre,
                                                         spec.stdp.after_post)):
        return None
    n_source, n_target = sizes[s.source], sizes[s.target]
    all_but_self = s.connect == "all_but_self"
    return UniformConnection(name=name, source=s.source, target=s.target, variable=variable,
                             value=float(value), all_but_self=all_but_self, weight=weight,
                             n_synapses=n_source * n_target - (min(n_source, n_target)
                                                               if all_but_self else 0))


_DELIVER_CODE = """
static double {function}(const double _t)
{{
    // brian_stdp: {name}, every spike of {source} adds {value!r} to {variable} of every
    // {target} neuron{but}, in the order of the spikes (Brian2's order)
    const int32_t * const _spikes = brian::_array_{source}__spikespace;
    const int32_t _n_spikes = _spikes[{n_source}];
    double * const _x = brian::_array_{target}_{variable};
    for (int32_t _k = 0; _k < _n_spikes; _k++)
    {{
        const int32_t _spiking = _spikes[_k];
        for (int32_t _j = 0; _j < {n_target}; _j++)
        {{
            {skip}_x[_j] += {value!r};
        }}
    }}
    return 0.0;
}}
"""


def uniform_pathway(connection: UniformConnection, n_source: int, n_target: int):
    """The Brian2 object that delivers ``connection``'s spikes: a one-neuron group with code
    run at every time step in the ``synapses`` slot (``cpp_standalone`` only).

    Parameters
    ----------
    connection : UniformConnection
    n_source, n_target : int
        Sizes of the source and target groups.
    """
    from brian2 import Function, NeuronGroup, second

    function = f"brian_stdp_deliver_{connection.name}"
    code = _DELIVER_CODE.format(
        function=function, name=connection.name, source=connection.source,
        target=connection.target, variable=connection.variable, value=connection.value,
        n_source=n_source, n_target=n_target,
        but=" but its partner" if connection.all_but_self else "",
        skip="if (_j == _spiking) continue;\n            " if connection.all_but_self else "")

    def python_version(t):  # never called: the group runs on cpp_standalone only
        raise NotImplementedError(f"{connection.name}: uniform delivery runs on cpp_standalone")

    deliver = Function(python_version, arg_units=[second], arg_names=["t"], return_unit=1,
                       stateless=False)
    deliver.implementations.add_implementation("cpp", code, name=function)
    group = NeuronGroup(1, "sink : 1", name=f"{connection.name}_uniform",
                        namespace={function: deliver})
    group.run_regularly(f"sink = {function}(t)", when="synapses",
                        name=f"{connection.name}_uniform_deliver")
    return group
