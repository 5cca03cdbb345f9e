"""Model files: load, validate and describe.

A model file (TOML, in ``models/``) is data, not code: a header, parameters
with units, named equation templates, neuron groups, synapses, the STDP rule
split into its timing part and its weight dependence, and the protocol values.
This module reads one into a :class:`ModelSpec`, evaluates its parameters with
Brian2 units, and checks that every section is present and every key known.
Unit errors and undefined names in equations are found by
:func:`brian_stdp.backends.network.check_model`, which builds a tiny network.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import brian2
from brian2 import Equations, Quantity
from brian2.parsing.statements import parse_statement

from brian_stdp.data.encoding import ENCODERS
from brian_stdp.errors import ConfigError, ModelFileError
from brian_stdp.model.files import (LABELLINGS, base_copy_name, merge_tables, model_chain,
                                    read_model_table, remove_keys, resolve_model_path)
from brian_stdp.model.wiring import PatchLayout, parse_connect

#: Names the runner defines for every model; a model parameter may not reuse them.
RUNNER_NAMES = ("n_neurons", "n_input", "n_fan_in", "plastic", "t", "dt", "i", "j", "N",
                "lastspike")

_GROUP_KEYS = {"size", "equations", "threshold", "reset", "refractory", "method", "initial",
               "threshold_after_input", "after_input", "extra_spikes", "slot_start", "events",
               "one_spike_per_step"}
_SYNAPSE_KEYS = {"source", "target", "connect", "model", "on_pre", "on_post", "initial", "delay",
                 "on_event"}
_STDP_KEYS = {"synapses", "on_pre", "on_post", "after_pre", "after_post", "ltp", "ltd"}
_PROTOCOL_KEYS = {
    "dt", "t_present", "t_rest", "encoder", "rate_scale", "intensity_start",
    "intensity_step", "min_spikes", "max_presentations", "weight_sum", "normalise",
    "receptive_field", "spikes_min", "spikes_max", "labelling", "cap_neurons",
    "t_present_eval",
}
#: Protocol keys every model file needs; the Poisson encoder also needs _POISSON_KEYS.
_PROTOCOL_REQUIRED = {"dt", "t_present", "t_rest", "encoder"}
_POISSON_KEYS = {"rate_scale", "intensity_start", "intensity_step"}
_TOP_KEYS = {"model", "parameters", "equations", "groups", "synapses", "stdp", "protocol"}

#: Name of the Brian2 custom event of a ``one_spike_per_step`` group: the neurons above
#: threshold that were not chosen to spike, reset without a spike.
SILENT_RESET_EVENT = "silent_reset"
#: Event names that a group's ``events`` may not use (the runner's own).
_RESERVED_EVENTS = ("spike", "extra_spike", SILENT_RESET_EVENT)


@dataclass(frozen=True)
class GroupSpec:
    """One neuron group of a model file (``[groups.NAME]``)."""

    name: str
    size: str
    equations: tuple  # of dicts: {"template": name, substitutions...}
    threshold: str
    reset: str
    refractory: str
    method: str
    initial: dict
    #: Check the threshold after this step's synaptic input (Brian2 checks it
    #: before), and deliver the group's spikes in the same step.
    threshold_after_input: bool = False
    #: Code run every time step after the synaptic input, before the threshold.
    after_input: str = ""
    #: Condition of events that count as spikes in the spike counts but have
    #: no reset and trigger no synapses (output layer only).
    extra_spikes: str = ""
    #: Code run at the start of every presentation slot.
    slot_start: str = ""
    #: Custom events: name to condition (Brian2 ``events``), checked after the
    #: ``after_input`` code and before the threshold; synapses can be
    #: triggered by them (``on_event``).
    events: dict = field(default_factory=dict)
    #: BindsNET's ``one_spike``: of the neurons above threshold in a time step, one chosen
    #: uniformly at random spikes; the others get the reset and the refractory period
    #: without a spike (:mod:`brian_stdp.backends.one_spike`).
    one_spike_per_step: bool = False


@dataclass(frozen=True)
class SynapseSpec:
    """One synapse object of a model file (``[synapses.NAME]``)."""

    name: str
    source: str
    target: str
    #: A rule name or condition (str), or a patch layout (:mod:`brian_stdp.model.wiring`).
    connect: str | PatchLayout
    model: str
    on_pre: str
    on_post: str
    initial: dict
    delay: str
    #: Event of the source group that triggers ``on_pre`` ("": its spikes).
    on_event: str = ""


def _writes_pre_or_post(code: str) -> bool:
    """Whether a statement of Brian2 code assigns to a pre- or postsynaptic variable
    (read with Brian2's own statement parser; a line it cannot read counts as one that
    does, the safe answer for :meth:`ModelSpec.frozen`)."""
    for line in code.splitlines():
        if not line.strip() or line.strip().startswith("#"):
            continue
        try:
            target = parse_statement(line)[0]
        except Exception:  # Brian2 raises ValueError or SyntaxError
            return True
        if target.endswith(("_pre", "_post")):
            return True
    return False


@dataclass(frozen=True)
class STDPSpec:
    """The plasticity rule: timing part (signed changes) and weight dependence."""

    synapses: str
    on_pre: str
    on_post: str
    after_pre: str
    after_post: str
    ltp: str
    ltd: str


@dataclass(frozen=True)
class Protocol:
    """Presentation protocol: time step, timing, encoding, re-presentation rule."""

    dt: Quantity
    t_present: Quantity
    t_rest: Quantity
    encoder: str
    rate_scale: Quantity
    intensity_start: float
    intensity_step: float
    min_spikes: int
    max_presentations: int
    weight_sum: str
    normalise: str
    receptive_field: bool = False
    spikes_min: float = 1.0
    spikes_max: float = 50.0
    labelling: str = "standard"
    #: Use at most as many output neurons as there are training images (the
    #: published code of Wolff et al. does so silently).
    cap_neurons: bool = False
    #: How long each image is shown in the label and test phases (None: ``t_present``).
    t_present_eval: Quantity | None = None

    @property
    def t_slot(self) -> Quantity:
        """Duration of one presentation slot (image plus rest)."""
        return self.t_present + self.t_rest

    @property
    def steps_per_slot(self) -> int:
        """Number of time steps in one slot."""
        return int(round(float(self.t_slot / self.dt)))

    @property
    def steps_present(self) -> int:
        """Number of time steps with input in one slot."""
        return int(round(float(self.t_present / self.dt)))


@dataclass(frozen=True)
class ModelSpec:
    """A loaded model file.

    Attributes
    ----------
    path : Path
        The file it came from.
    text : str
        The file's text, copied verbatim into every run directory.
    bases : tuple of Path
        The files it extends, nearest first (empty for a model without
        ``extends``); copied next to ``text`` (:meth:`copy_files`).
    parameters : dict of str to Quantity
        Evaluated parameters, in file order.
    """

    path: Path
    text: str
    bases: tuple
    name: str
    title: str
    deviations: tuple
    parameters: dict
    equations: dict
    groups: dict
    synapses: dict
    stdp: STDPSpec | None
    protocol: Protocol
    raw: dict = field(repr=False)

    def for_evaluation(self) -> "ModelSpec":
        """The model as the label and test phases run it: ``t_present`` is
        ``[protocol] t_present_eval`` where the file sets one; else this spec itself."""
        proto = self.protocol
        if proto.t_present_eval is None:
            return self
        return replace(self, protocol=replace(proto, t_present=proto.t_present_eval,
                                              t_present_eval=None))

    def frozen(self) -> "ModelSpec":
        """The model with its weights held: the STDP rule's changes are 0 (each update
        still clips the weight to the rule's bounds), nothing else of the rule runs
        (``after_pre``, ``after_post``: values only the rule reads), and no
        normalisation. With learning off (``plastic`` 0) the model itself leaves the
        weights as they are too, up to the same clipping (``w + 0*dw`` is ``w``; the
        normalisation scales by exactly 1), so both give the same spikes to the bit, the
        frozen one without the work of the rule and of two passes over the weights per
        presentation. Exceptions: a neuron whose incoming weights sum to zero, where the
        model's normalisation divides by zero; and an ``after_pre`` or ``after_post`` that
        writes a neuron's variable (refused: this spec is then the model itself)."""
        rule = self.stdp
        if rule is not None and any(_writes_pre_or_post(code)
                                    for code in (rule.after_pre, rule.after_post)):
            return self
        protocol = replace(self.protocol, normalise="")
        if rule is None:  # nothing learns: the model itself, unless it normalises
            return replace(self, protocol=protocol) if self.protocol.normalise else self
        held = replace(rule, on_pre="0" if rule.on_pre.strip() else "",
                       on_post="0" if rule.on_post.strip() else "", after_pre="",
                       after_post="")
        return replace(self, stdp=held, protocol=protocol)

    def group_equations(self, group: str) -> Equations:
        """The Brian2 equations of one group: its templates, specialised and joined."""
        spec = self.groups[group]
        eqs = Equations("")
        for k, part in enumerate(spec.equations):
            subs = {key: value for key, value in part.items() if key != "template"}
            where = f"[groups.{group}] equations[{k}]"
            try:
                eqs = eqs + Equations(self.equations[part["template"]], **subs)
            except Exception as err:  # Brian2 raises several types here
                raise self.error(where, f"cannot build the equations: {err}") from None
        return eqs

    def namespace(self, n_neurons: int, n_input: int) -> dict:
        """Parameters and protocol constants as a Brian2 namespace."""
        ns = dict(self.parameters)
        ns.update(n_neurons=n_neurons, n_input=n_input)
        return ns

    def weight_sum(self, n_input: int) -> float:
        """Target sum of each neuron's incoming plastic weights for ``n_input`` inputs.

        The expression may use ``n_input`` (pixels per image) and ``n_fan_in`` (inputs of
        each neuron of the normalised synapses: ``n_input`` for all-to-all input, the
        patch size for a patch layout; :meth:`fan_in`).
        """
        where = "[protocol] weight_sum"
        names = {**self.parameters, "n_input": n_input}
        fan_in = self.fan_in(n_input)
        if fan_in is not None:
            names["n_fan_in"] = fan_in
        value = evaluate_expression(self.protocol.weight_sum, names, self.path, where)
        return float(value)

    def fan_in(self, n_input: int) -> int | None:
        """Inputs of each neuron of the normalised synapses (None: not known before the
        network is built, or no normalisation): the patch size of a patch layout,
        ``n_input`` for ``connect = "all"`` from the input layer."""
        return self._inputs_per_neuron(self.protocol.normalise, n_input)

    def plastic_fan_in(self, n_input: int) -> int | None:
        """Inputs of each neuron of the synapses the STDP rule trains (None: no rule, or
        not known before the network is built); as :meth:`fan_in`, normalised or not."""
        return self._inputs_per_neuron(self.stdp.synapses if self.stdp else "", n_input)

    def _inputs_per_neuron(self, synapses: str, n_input: int) -> int | None:
        """Inputs of each target neuron of the synapse object ``synapses`` ("": None)."""
        if not synapses:
            return None
        syn = self.synapses[synapses]
        if isinstance(syn.connect, PatchLayout):
            return syn.connect.fan_in
        if syn.connect == "all" and syn.source == "inp":
            return n_input
        return None

    def layouts(self) -> dict:
        """Group name to the patch layout of the synapses onto it (groups with one)."""
        return {s.target: s.connect for s in self.synapses.values()
                if isinstance(s.connect, PatchLayout)}

    def neurons_step(self) -> int:
        """``--neurons`` must be a multiple of this: the number of patch locations when
        the output layer ``exc`` (of size ``n_neurons``) has a patch layout, else 1."""
        layout = self.layouts().get("exc")
        if layout is None or self.groups["exc"].size.strip() != "n_neurons":
            return 1
        return layout.n_locations

    def copy_files(self, name: str) -> dict:
        """The files that keep this model in a run directory, as ``{file name: text}``:
        ``name`` for the file itself, then its bases as ``model_files.base_copy_name``
        of the one before (``model.toml``, ``model.base.toml``, ...)."""
        files = {name: self.text}
        for base in self.bases:
            name = base_copy_name(name)
            files[name] = base.read_text(encoding="utf-8")
        return files

    def check_neurons(self, n_neurons: int) -> None:
        """Refuse an output-layer size that the patch layout cannot share out.

        Raises
        ------
        ConfigError
            Naming ``--neurons`` and a valid value.
        """
        step = self.neurons_step()
        if n_neurons % step:
            where = next(f"[synapses.{s.name}] connect" for s in self.synapses.values()
                         if s.target == "exc" and isinstance(s.connect, PatchLayout))
            raise ConfigError(
                f"--neurons {n_neurons}: model {self.name} has {step} patch locations "
                f"({self.path.name}, {where}); --neurons counts its excitatory "
                f"neurons, filters x {step}: e.g. {100 * step} for 100 filters per location")

    def error(self, where: str, problem: str) -> ModelFileError:
        """A :class:`ModelFileError` naming this file and the section/key at fault."""
        return ModelFileError(f"{self.path}: {where}: {problem}")


def load_model(model: str | os.PathLike) -> ModelSpec:
    """Read, parse and check a model file.

    Parameters
    ----------
    model : str or path
        A path to a ``.toml`` file or the name of a model in ``models/``.

    Raises
    ------
    ModelFileError
        Naming the file and the section or key at fault.
    """
    path = resolve_model_path(model)
    text = path.read_text(encoding="utf-8")
    chain = model_chain(path)
    raw = _merged_tables(chain)

    def fail(where, problem):
        return ModelFileError(f"{path}: {where}: {problem}")

    _check_keys(raw, _TOP_KEYS, {"model", "parameters", "equations", "groups", "protocol"},
                "top level", fail)
    meta = raw["model"]
    _check_keys(meta, {"name", "title", "deviations"}, {"name"}, "[model]", fail)
    parameters = _parse_parameters(raw["parameters"], path)
    equations = raw["equations"]
    for name, value in equations.items():
        if not isinstance(value, str):
            raise fail(f"[equations] {name}", "must be a string of Brian2 equations")
    groups = {name: _parse_group(name, section, equations, fail)
              for name, section in raw["groups"].items()}
    for required in ("exc",):
        if required not in groups:
            raise fail("[groups]", f"a group named '{required}' (the output layer) is required")
    synapses = {name: _parse_synapses(name, section, groups, fail, path)
                for name, section in raw.get("synapses", {}).items()}
    _check_layouts(synapses, fail)
    stdp = _parse_stdp(raw["stdp"], synapses, fail) if "stdp" in raw else None
    protocol = _parse_protocol(raw["protocol"], parameters, synapses, path, fail)
    return ModelSpec(path=path, text=text, bases=tuple(chain[1:]), name=meta["name"],
                     title=meta.get("title", ""),
                     deviations=tuple(meta.get("deviations", ())), parameters=parameters,
                     equations=dict(equations), groups=groups, synapses=synapses, stdp=stdp,
                     protocol=protocol, raw=raw)


def _merged_tables(chain: list) -> dict:
    """The tables of a model file with those of the files it extends underneath
    (``chain``: the file first, its base last)."""
    raw = {}
    for file in reversed(chain):  # the base first, each variant's changes on top
        table = read_model_table(file)
        if file != chain[-1] and "name" not in table.get("model", {}):
            raise ModelFileError(f"{file}: [model] name: a model that extends another needs "
                                 f"a name of its own")
        if "remove" in table and "extends" not in table:
            raise ModelFileError(f"{file}: remove: only a model that extends another can "
                                 f"remove keys")
        raw = merge_tables(remove_keys(raw, table.get("remove", []), file),
                           {key: value for key, value in table.items()
                            if key not in ("extends", "remove")})
    return raw


def _parse_group(name: str, section: dict, equations: dict, fail) -> GroupSpec:
    """One ``[groups.NAME]`` table, checked."""
    where = f"[groups.{name}]"
    _check_keys(section, _GROUP_KEYS, {"size", "equations", "threshold"}, where, fail)
    parts = section["equations"]
    if isinstance(parts, str):
        parts = [{"template": parts}]
    for k, part in enumerate(parts):
        if not isinstance(part, dict) or "template" not in part:
            raise fail(f"{where} equations[{k}]", "needs a 'template' key")
        if part["template"] not in equations:
            raise fail(f"{where} equations[{k}]",
                       f"template {part['template']!r} is not defined in [equations] "
                       f"(defined: {', '.join(equations)})")
    for key in ("after_input", "extra_spikes", "slot_start", "threshold", "reset"):
        if not isinstance(section.get(key, ""), str):
            raise fail(f"{where} {key}", "must be a string of Brian2 code")
    for key in ("threshold_after_input", "one_spike_per_step"):
        if not isinstance(section.get(key, False), bool):
            raise fail(f"{where} {key}", "must be true or false")
    if section.get("one_spike_per_step", False) and section.get("extra_spikes"):
        raise fail(f"{where} one_spike_per_step", "cannot be combined with extra_spikes "
                   "(both decide which neurons above threshold count as spikes); remove one")
    if section.get("extra_spikes") and name != "exc":
        raise fail(f"{where} extra_spikes", "only the output layer 'exc' can have extra "
                   "spikes (they count in its spike counts)")
    for key in ("after_input", "events"):
        if section.get(key) and not section.get("threshold_after_input", False):
            raise fail(f"{where} {key}", "needs threshold_after_input = true (it runs "
                       "between the synaptic input and the threshold)")
    events = section.get("events", {})
    if not isinstance(events, dict) or not all(isinstance(c, str) for c in events.values()):
        raise fail(f"{where} events", "must be a table of name = \"condition\"")
    for event in events:
        if event in _RESERVED_EVENTS or not event.isidentifier():
            raise fail(f"{where} events", f"{event!r} cannot name an event (use an "
                       f"identifier other than {', '.join(map(repr, _RESERVED_EVENTS))})")
    return GroupSpec(
        name=name, size=str(section["size"]), equations=tuple(parts),
        threshold=section["threshold"], reset=section.get("reset", ""),
        refractory=section.get("refractory", ""), method=section.get("method", "euler"),
        initial=dict(section.get("initial", {})),
        threshold_after_input=section.get("threshold_after_input", False),
        after_input=section.get("after_input", ""),
        extra_spikes=section.get("extra_spikes", ""),
        slot_start=section.get("slot_start", ""), events=dict(events),
        one_spike_per_step=section.get("one_spike_per_step", False))


def _parse_synapses(name: str, section: dict, groups: dict, fail, path) -> SynapseSpec:
    """One ``[synapses.NAME]`` table, checked against the groups."""
    where = f"[synapses.{name}]"
    _check_keys(section, _SYNAPSE_KEYS, {"source", "target", "connect", "model", "on_pre"},
                where, fail)
    for end in ("source", "target"):
        if section[end] != "inp" and section[end] not in groups:
            raise fail(f"{where} {end}", f"unknown group {section[end]!r} (groups: inp, "
                       f"{', '.join(groups)})")
    on_event = section.get("on_event", "")
    if on_event and (section["source"] == "inp"
                     or on_event not in groups[section["source"]].events):
        known = ", ".join(groups[section["source"]].events) if section["source"] != "inp" \
            else ""
        raise fail(f"{where} on_event", f"{on_event!r} is not an event of the source group "
                   f"{section['source']!r} (its events: {known or 'none'})")
    connect = parse_connect(section["connect"], f"{path}: {where} connect")
    return SynapseSpec(
        name=name, source=section["source"], target=section["target"],
        connect=connect, model=section["model"], on_pre=section["on_pre"],
        on_post=section.get("on_post", ""), initial=dict(section.get("initial", {})),
        delay=section.get("delay", ""), on_event=on_event)


def _check_layouts(synapses: dict, fail) -> None:
    """At most one patch layout onto each group."""
    seen = {}
    for name, syn in synapses.items():
        if isinstance(syn.connect, PatchLayout):
            if syn.target in seen:
                raise fail(f"[synapses.{name}] connect", f"group {syn.target!r} already has "
                           f"a patch layout ([synapses.{seen[syn.target]}]); a group can "
                           f"have one")
            seen[syn.target] = name


def _parse_stdp(section: dict, synapses: dict, fail) -> STDPSpec:
    """The ``[stdp]`` table: which synapses learn, the timing part and the weight
    dependence."""
    _check_keys(section, _STDP_KEYS, {"synapses"}, "[stdp]", fail)
    if section["synapses"] not in synapses:
        raise fail("[stdp] synapses", f"unknown synapses {section['synapses']!r}")
    return STDPSpec(synapses=section["synapses"], on_pre=section.get("on_pre", ""),
                    on_post=section.get("on_post", ""),
                    after_pre=section.get("after_pre", ""),
                    after_post=section.get("after_post", ""),
                    ltp=section.get("ltp", "1"), ltd=section.get("ltd", "1"))



def _check_keys(section, allowed, required, where, fail):
    if not isinstance(section, dict):
        raise fail(where, "must be a table")
    unknown = sorted(set(section) - allowed)
    if unknown:
        raise fail(where, f"unknown key(s) {', '.join(unknown)} (allowed: "
                   f"{', '.join(sorted(allowed))})")
    missing = sorted(set(required) - set(section))
    if missing:
        raise fail(where, f"missing key(s) {', '.join(missing)}")


def _unit_namespace() -> dict:
    from brian2.units import allunits, stdunits

    ns = {name: value for module in (allunits, stdunits) for name, value in vars(module).items()
          if isinstance(value, brian2.Unit)}
    ns.update(exp=math.exp, log=math.log, sqrt=math.sqrt, pi=math.pi)
    return ns


_UNITS = None


#: One statement of a model file's code block: target, operator, expression.
_STATEMENT = re.compile(r"^\s*([A-Za-z_]\w*)\s*(\+=|-=|\*=|/=|=)\s*(.+?)\s*$")


def statements(code: str) -> list:
    """(target, operator, expression) of each statement of a code block of a model file
    (``reset``, ``on_pre``, ``slot_start``, ...), comments and blank lines left out."""
    out = []
    for raw in code.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _STATEMENT.match(line)
        if match:
            out.append(match.groups())
    return out


def evaluate_expression(expr, names, path, where):
    """Evaluate a parameter expression with Brian2 units and earlier names only."""
    global _UNITS
    if _UNITS is None:
        _UNITS = _unit_namespace()
    if not isinstance(expr, str | int | float):
        raise ModelFileError(f"{path}: {where}: must be a string such as \"10*ms\"")
    try:
        return eval(str(expr), {"__builtins__": {}}, {**_UNITS, **names})  # noqa: S307
    except NameError as err:
        raise ModelFileError(f"{path}: {where} = {expr!r}: undefined name ({err})") from None
    except Exception as err:
        raise ModelFileError(f"{path}: {where} = {expr!r}: {type(err).__name__}: {err}") from None


def _parse_parameters(section, path):
    if not isinstance(section, dict):
        raise ModelFileError(f"{path}: [parameters]: must be a table of name = \"value\"")
    values = {}
    for name, expr in section.items():
        if name in RUNNER_NAMES:
            raise ModelFileError(f"{path}: [parameters] {name}: this name is set by the runner "
                                 f"({', '.join(RUNNER_NAMES)}); rename the parameter")
        values[name] = evaluate_expression(expr, values, path, f"[parameters] {name}")
    return values


def _parse_protocol(section, parameters, synapses, path, fail):
    _check_keys(section, _PROTOCOL_KEYS, _PROTOCOL_REQUIRED, "[protocol]", fail)
    if section["encoder"] == "poisson":
        missing = sorted(_POISSON_KEYS - set(section))
        if missing:
            raise fail("[protocol]", f"encoder = \"poisson\" needs {', '.join(missing)}")

    def quantity(key, unit, allow_zero=False):
        value = evaluate_expression(section[key], parameters, path, f"[protocol] {key}")
        if not brian2.have_same_dimensions(value, unit):
            raise fail(f"[protocol] {key}", f"{section[key]!r} should have units of {unit!r}")
        if float(value / unit) < 0 or (float(value / unit) == 0 and not allow_zero):
            raise fail(f"[protocol] {key}", "must be positive")
        return value

    def number(key, kind=float, minimum=0, default=None):
        if key not in section:
            return default
        value = evaluate_expression(section[key], parameters, path, f"[protocol] {key}")
        if isinstance(value, Quantity) and not value.is_dimensionless:
            raise fail(f"[protocol] {key}", f"{section[key]!r} must be dimensionless")
        if kind is int and float(value) != int(value):
            raise fail(f"[protocol] {key}", "must be a whole number")
        if float(value) < minimum:
            raise fail(f"[protocol] {key}", f"must be at least {minimum}")
        return kind(value)

    if section["encoder"] not in ENCODERS:
        raise fail("[protocol] encoder", f"unknown encoder {section['encoder']!r} "
                   f"(known: {', '.join(ENCODERS)})")
    normalise = section.get("normalise", "")
    if normalise and normalise not in synapses:
        raise fail("[protocol] normalise", f"unknown synapses {normalise!r}")
    for key in ("receptive_field", "cap_neurons"):
        if not isinstance(section.get(key, False), bool):
            raise fail(f"[protocol] {key}", "must be true or false")
    labelling = section.get("labelling", "standard")
    if labelling not in LABELLINGS:
        raise fail("[protocol] labelling", f"unknown labelling {labelling!r} (known: "
                   f"{', '.join(LABELLINGS)})")
    spikes_min = number("spikes_min", default=1.0)
    spikes_max = number("spikes_max", default=50.0)
    if not 0 < spikes_min <= spikes_max:
        raise fail("[protocol] spikes_min", f"need 0 < spikes_min <= spikes_max, not "
                   f"{spikes_min} and {spikes_max}")
    protocol = Protocol(
        dt=quantity("dt", brian2.second), t_present=quantity("t_present", brian2.second),
        t_rest=quantity("t_rest", brian2.second, allow_zero=True),
        encoder=section["encoder"],
        rate_scale=(quantity("rate_scale", brian2.Hz) if "rate_scale" in section
                    else 0 * brian2.Hz),
        intensity_start=number("intensity_start", default=1.0),
        intensity_step=number("intensity_step", default=0.0),
        min_spikes=number("min_spikes", int, default=0),
        max_presentations=number("max_presentations", int, 1, default=1),
        weight_sum=str(section.get("weight_sum", "0")), normalise=normalise,
        receptive_field=section.get("receptive_field", False), spikes_min=spikes_min,
        spikes_max=spikes_max, labelling=labelling,
        cap_neurons=section.get("cap_neurons", False),
        t_present_eval=(quantity("t_present_eval", brian2.second)
                        if "t_present_eval" in section else None))
    for key in ("t_present", "t_rest", "t_present_eval"):
        if getattr(protocol, key) is None:
            continue
        steps = float(getattr(protocol, key) / protocol.dt)
        if abs(steps - round(steps)) > 1e-9:
            raise fail(f"[protocol] {key}", "must be a whole number of time steps dt")
    return protocol
