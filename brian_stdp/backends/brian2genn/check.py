"""brian2genn (GeNN): what a model file must change to run on GeNN, and whether a generated
GeNN project is complete.

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
``plastic`` there as a constant, and other such reads are reported. Shared variables
other than ``plastic`` are not carried from one run of a GeNN build to the next.

:func:`genn_problems` lists what a model file must change to meet these
rules, before anything is compiled: it joins the findings of one function per kind of
rule (:data:`RULES`): neuron-group equations, custom events, the schedule, synapse
equations, what triggers synapses and their delays, ``on_pre``, reads of shared
variables, shared state, ``on_post`` and summed variables.
``models/diehl_cook_2015_genn.toml`` is a variant of Diehl & Cook that meets them (its
``deviations`` state how). The network GeNN runs is the single-run network of
:mod:`brian_stdp.backends.single_run`.

Command line::

    python -m brian_stdp.genn --check MODEL
    python -m brian_stdp.genn --generate DIR [--neurons N --images N]
    python -m brian_stdp.genn --train [--neurons N --images N]   (= python -m brian_stdp.run --device genn)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from brian_stdp.errors import ModelFileError
from brian_stdp.model.spec import ModelSpec, load_model, statements

#: The GeNN-compatible Diehl & Cook variant shipped in models/.
GENN_MODEL = "diehl_cook_2015_genn"

_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


# -- compatibility check -----------------------------------------------------------------
def genn_problems(spec: ModelSpec) -> list:
    """What ``spec`` must change before brian2genn can run it (empty: nothing).

    Pure Python on the model file's text (Brian2's equation parser only), so it
    runs in any environment and before anything is compiled.

    Returns
    -------
    list of str
        One line per problem: ``"[section] key: problem; what to do"``, the findings
        of each rule in :data:`RULES` in turn, without repeats.
    """
    problems = [problem for rule in RULES for problem in rule(spec)]
    return list(dict.fromkeys(problems))


# neuron groups
def linked_variable_problems(spec: ModelSpec) -> list:
    """Linked variables in a group's equations (GeNN has none)."""
    return [f"[groups.{name}] equations: '{eq.varname}' is a linked variable; GeNN has "
            f"none. Make it an ordinary variable and set it where it changes."
            for name in spec.groups for eq in spec.group_equations(name).values()
            if "linked" in eq.flags]


def custom_event_problems(spec: ModelSpec) -> list:
    """Custom events of a group, and the extra spikes and one-spike rule that need one (GeNN
    has spikes only)."""
    problems = []
    for name, gspec in spec.groups.items():
        for event in getattr(gspec, "events", {}) or {}:
            problems.append(f"[groups.{name}] events: '{event}' is a custom event; GeNN has "
                            f"spikes only. Turn it into a condition inside the synaptic or "
                            f"reset code.")
        if getattr(gspec, "extra_spikes", ""):
            problems.append(f"[groups.{name}] extra_spikes: needs a custom event, which GeNN "
                            f"does not have. Remove it.")
        if getattr(gspec, "one_spike_per_step", False):
            problems.append(f"[groups.{name}] one_spike_per_step: needs a custom event and "
                            f"a pass over the group in index order, which GeNN does not "
                            f"have. Remove it.")
    return problems


def schedule_problems(spec: ModelSpec) -> list:
    """Group code outside Brian2's default schedule: a moved threshold, code after the
    synaptic input, per-slot code (brian2genn and the single run have none of these)."""
    problems = []
    for name, gspec in spec.groups.items():
        where = f"[groups.{name}]"
        if getattr(gspec, "threshold_after_input", False) or getattr(gspec, "after_input", ""):
            problems.append(f"{where} threshold_after_input/after_input: brian2genn keeps "
                            f"Brian2's default schedule (no moved threshold, no extra code "
                            f"after the synaptic input). Remove them.")
        if getattr(gspec, "slot_start", ""):
            problems.append(f"{where} slot_start: the single-run GeNN formulation "
                            f"(brian_stdp.genn) does not run per-slot group code yet. "
                            f"Remove it or extend the single-run formulation of "
                            f"backends.network.build_network.")
    return problems


# synapses
@dataclass
class _Synapses:
    """One synapse group as the synapse rules see it: its variables, those of the groups
    it connects, and its event code (STDP rule included)."""

    name: str
    source: str
    target: str
    delay: str
    on_event: str
    on_pre: str
    on_post: str
    variables: set
    subexpressions: set
    summed: list
    constant_over_dt: list
    pre_vars: set
    post_vars: set
    post_shared: set
    parameters: set

    @property
    def where(self) -> str:
        return f"[synapses.{self.name}]"

    def classify(self, identifier: str) -> tuple:
        """(kind, variable) of a name in the event code: kind ``"pre"``, ``"post"``,
        ``"syn"`` or ``"other"`` (parameters, functions, units)."""
        if identifier in self.parameters:
            return "other", identifier
        if identifier.endswith("_pre") and identifier[:-4] in self.pre_vars:
            return "pre", identifier[:-4]
        if identifier.endswith("_post") and identifier[:-5] in self.post_vars:
            return "post", identifier[:-5]
        if identifier in self.variables:
            return "syn", identifier
        if identifier in self.post_vars:
            return "post", identifier  # Brian2 reads unsuffixed names from the target
        return "other", identifier

    def post_written(self) -> list:
        """The target group's (not shared) variables that ``on_pre`` writes, per statement."""
        written = []
        for target, _, _ in statements(self.on_pre):
            kind, var = self.classify(target)
            if kind == "post" and var not in self.post_shared:
                written.append(var)
        return written


def _group_variables(spec: ModelSpec) -> tuple:
    """({group: its variables}, {group: its shared variables}), the input layer included."""
    variables, shared = {"inp": {"img", "attempts", "count", "rate", "t_off"}}, {"inp": set()}
    for name in spec.groups:
        eqs = spec.group_equations(name)
        variables[name] = set(eqs.names) | {"lastspike", "not_refractory"}
        shared[name] = {eq.varname for eq in eqs.values() if "shared" in eq.flags}
    return variables, shared


def _parse(sspec):
    """Brian2's Equations of a synapse model, or the error message."""
    from brian2 import Equations

    try:
        return Equations(sspec.model)
    except Exception as err:  # Brian2 raises several types for bad equations
        return f"cannot parse ({err})"


def _synapses(spec: ModelSpec) -> list:
    """A :class:`_Synapses` per synapse group whose model parses."""
    variables, shared = _group_variables(spec)
    out = []
    for name, sspec in spec.synapses.items():
        model = _parse(sspec)
        if isinstance(model, str):
            continue
        on_pre, on_post = _event_code(spec, name)
        out.append(_Synapses(
            name=name, source=sspec.source, target=sspec.target, delay=sspec.delay,
            on_event=getattr(sspec, "on_event", ""), on_pre=on_pre, on_post=on_post,
            variables=set(model.names),
            subexpressions={eq.varname for eq in model.values()
                            if eq.type == "subexpression"},
            summed=[eq.varname for eq in model.values() if "summed" in eq.flags],
            constant_over_dt=[eq.varname for eq in model.values()
                              if eq.type == "subexpression" and "constant over dt" in eq.flags],
            pre_vars=variables.get(sspec.source, set()),
            post_vars=variables.get(sspec.target, set()),
            post_shared=shared.get(sspec.target, set()), parameters=set(spec.parameters)))
    return out


def unparsable_synapse_problems(spec: ModelSpec) -> list:
    """Synapse models that Brian2 cannot parse (the other synapse rules skip them)."""
    return [f"[synapses.{name}] model: {model}" for name, sspec in spec.synapses.items()
            if isinstance(model := _parse(sspec), str)]


def trigger_problems(spec: ModelSpec) -> list:
    """Synapses triggered by a custom event, or with delays that differ between synapses
    (GeNN: spikes only, one delay per synapse group)."""
    problems = []
    for syn in _synapses(spec):
        if syn.on_event:
            problems.append(f"{syn.where} on_event = {syn.on_event!r}: GeNN triggers synapses "
                            f"by spikes only. Remove on_event.")
        if syn.delay and set(_IDENTIFIER.findall(syn.delay)) & {"rand", "randn", "i", "j"}:
            problems.append(f"{syn.where} delay = {syn.delay!r}: differs between synapses; "
                            f"GeNN allows one delay per synapse group. Give one constant, "
                            f"e.g. delay = \"5*ms\".")
    return problems


def synapse_equation_problems(spec: ModelSpec) -> list:
    """'constant over dt' subexpressions in a synapse model (neuron groups only in
    brian2genn)."""
    return [f"{syn.where} model: '{var}' is a 'constant over dt' subexpression; brian2genn "
            f"allows these only in neuron groups. Compute it in the target group instead."
            for syn in _synapses(spec) for var in syn.constant_over_dt]


def on_pre_problems(spec: ModelSpec) -> list:
    """What ``on_pre`` writes and reads: one postsynaptic variable, with ``+=``, once; no
    presynaptic variable; no subexpression."""
    problems = []
    for syn in _synapses(spec):
        for target, op, expr in statements(syn.on_pre):
            kind, var = syn.classify(target)
            if kind == "post" and var not in syn.post_shared and op != "+=":
                problems.append(f"{syn.where} on_pre: '{target} {op} ...' changes a "
                                f"postsynaptic variable with '{op}'; GeNN allows only "
                                f"'+='. Write it as '{target} += ...'.")
            elif kind == "pre":
                problems.append(f"{syn.where} on_pre: writes the presynaptic variable "
                                f"'{target}'; GeNN's on_pre may write synaptic variables and "
                                f"one postsynaptic variable only.")
            for ident in _IDENTIFIER.findall(expr):
                if syn.classify(ident)[0] == "pre":
                    problems.append(f"{syn.where} on_pre: reads the presynaptic variable "
                                    f"'{ident}'; brian2genn cannot. Keep what it needs on the "
                                    f"synapse (e.g. the time of the last arrival).")
                if ident in syn.subexpressions:
                    problems.append(f"{syn.where} on_pre: uses the subexpression '{ident}'; "
                                    f"brian2genn does not allow subexpressions in synaptic "
                                    f"code. Write its expression out.")
        written = syn.post_written()
        if len(set(written)) > 1:
            problems.append(f"{syn.where} on_pre: writes the postsynaptic variables "
                            f"{', '.join(sorted(set(written)))}; GeNN allows one. Split "
                            f"the synapses, one per postsynaptic variable.")
        elif len(written) > 1:
            problems.append(f"{syn.where} on_pre: writes '{written[0]}' more than once; GeNN "
                            f"allows one '+=' per event. Add the terms in one statement.")
    return problems


def shared_read_problems(spec: ModelSpec) -> list:
    """Reads of the target group's shared variables in synaptic code (brian2genn gives the
    synapses a copy that is never set); ``plastic`` is the single run's constant."""
    problems = []
    for syn in _synapses(spec):
        for code_name, code in (("on_pre", syn.on_pre), ("on_post", syn.on_post)):
            for ident in sorted(set(_IDENTIFIER.findall(code))):
                kind, var = syn.classify(ident)
                if kind == "post" and var in syn.post_shared and var != "plastic":
                    problems.append(f"{syn.where} {code_name}: reads the shared variable "
                                    f"'{ident}' of {syn.target}; brian2genn gives the "
                                    f"synapses their own copy of it, which is never set. Make "
                                    f"it a parameter.")
    return problems


def shared_state_problems(spec: ModelSpec) -> list:
    """Shared variables that the state would carry (``plastic`` and constants excepted):
    GeNN's re-run builds read the state per neuron and per synapse from files."""
    models = [(f"[groups.{name}] equations", spec.group_equations(name)) for name in spec.groups]
    models += [(f"[synapses.{name}] model", model) for name, model in
               ((name, _parse(sspec)) for name, sspec in spec.synapses.items())
               if not isinstance(model, str)]
    return [f"{where}: '{name}' is a shared variable; the GeNN runner carries per-neuron "
            f"and per-synapse values from one run of the build to the next only. Drop "
            f"'(shared)' to keep one value per neuron or synapse."
            for where, eqs in models for name, eq in eqs.items()
            if "shared" in eq.flags and "constant" not in eq.flags and name != "plastic"]


def on_post_problems(spec: ModelSpec) -> list:
    """What ``on_post`` writes and reads: synaptic variables only; no postsynaptic
    variable read; no subexpression."""
    problems = []
    for syn in _synapses(spec):
        for target, _, expr in statements(syn.on_post):
            kind, _ = syn.classify(target)
            if kind in ("pre", "post"):
                problems.append(f"{syn.where} on_post: writes the {kind}synaptic variable "
                                f"'{target}'; GeNN's on_post may write synaptic variables "
                                f"only.")
            for ident in _IDENTIFIER.findall(expr):
                ident_kind, ident_var = syn.classify(ident)
                if ident_kind == "post" and ident_var not in syn.post_shared:
                    problems.append(f"{syn.where} on_post: reads the postsynaptic variable "
                                    f"'{ident}'; brian2genn cannot. Keep it on the synapse "
                                    f"instead, e.g. as the time of the last postsynaptic "
                                    f"spike (see models/{GENN_MODEL}.toml).")
                if ident in syn.subexpressions:
                    problems.append(f"{syn.where} on_post: uses the subexpression '{ident}'; "
                                    f"brian2genn does not allow subexpressions in synaptic "
                                    f"code. Write its expression out.")
    return problems


def summed_variable_problems(spec: ModelSpec) -> list:
    """At most one summed variable per synapse group, and none beside on_pre's write to a
    postsynaptic variable."""
    problems = []
    for syn in _synapses(spec):
        if len(syn.summed) > 1:
            problems.append(f"{syn.where} model: {len(syn.summed)} summed variables "
                            f"({', '.join(syn.summed)}); brian2genn allows one per synapse "
                            f"group. Split the synapses.")
        written = syn.post_written()
        if syn.summed and written:
            problems.append(f"{syn.where} model: the summed variable '{syn.summed[0]}' and "
                            f"on_pre's write to '{written[0]}' cannot share one synapse group "
                            f"in GeNN. Move one of them to a second synapse group.")
    return problems


#: The rules :func:`genn_problems` applies, in the order of its findings.
RULES = (linked_variable_problems, custom_event_problems, schedule_problems,
         unparsable_synapse_problems, trigger_problems, synapse_equation_problems,
         on_pre_problems, shared_read_problems, shared_state_problems, on_post_problems,
         summed_variable_problems)


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


# -- the generated project --------------------------------------------------------------
def run_regularly_names(spec: ModelSpec) -> list:
    """Names of the per-slot operations of the single-run network
    (:func:`brian_stdp.backends.single_run.build_single_run`) for ``spec``.

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
