"""brian2genn 1.7, fixed for synaptic operations that use the target group's variables.

brian2genn runs ``run_regularly`` operations on the host, between GeNN's time
steps. For an operation of a Synapses object it copies every variable the
code reads or writes as if it were a synaptic variable. The weight
normalisation (:func:`brian_stdp.backends.network.add_normalisation`) reads and
writes variables of the target group from synaptic operations
(``w_in_sum_post += w``, ``w *= w_in_scale_post``), so the generated engine
refers to arrays that do not exist and GeNN's build fails (``'w_in_sum_postinp_exc'
was not declared``).

:class:`StdpGeNNDevice` is brian2genn's device with that fixed: such a
variable is copied between GeNN's array of the target group and Brian's, and
pushed back to the device after the operation wrote it. Two more fixes:
``lastspike`` may be set from an array (brian2genn 1.7 accepts one value
only), and ``main`` seeds C's ``rand()``, which draws the seeds of GeNN's
random numbers, from ``BRIAN_STDP_SEED`` (otherwise every build draws the
same numbers). Nothing else of brian2genn changes. It is registered as the Brian2 device ``genn_stdp``.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager

import numpy as np

#: Name under which :class:`StdpGeNNDevice` is registered with Brian2.
DEVICE_NAME = "genn_stdp"

_READ_FOREIGN = """{% set _v = obj['owner'].variables[var] %}
                {% if obj['isSynaptic'] and _v.owner.name != obj['owner'].name %}
                  {% if _v.scalar %}
      *brian::_array_{{_v.owner.name}}_{{_v.name}} = {{_v.name}}{{_v.owner.name}};
                  {% else %}
      std::copy_n({{_v.name}}{{_v.owner.name}}, {{_v.size}}, brian::_array_{{_v.owner.name}}_{{_v.name}});
                  {% endif %}
                {% elif obj['isSynaptic'] %}"""

_WRITE_FOREIGN = """{% set _v = obj['owner'].variables[var] %}
              {% if obj['isSynaptic'] and _v.owner.name != obj['owner'].name %}
      std::copy_n(brian::_array_{{_v.owner.name}}_{{_v.name}}, {{_v.size}}, {{_v.name}}{{_v.owner.name}});
      pushCurrent{{_v.name}}{{_v.owner.name}}ToDevice();
              {% elif obj['isSynaptic'] %}"""


#: Seeds C's ``rand()``, which draws the per-neuron seeds of GeNN's random numbers.
_SEED_MAIN = """// initialise random seeds (if any are used)
  {
      const char* _seed_text = getenv("BRIAN_STDP_SEED");
      if (_seed_text)
          srand((unsigned int) strtoul(_seed_text, NULL, 10));
  }
"""


def patched_main_source(source: str) -> str:
    """brian2genn's ``main.cpp`` template, seeding ``rand()`` from ``BRIAN_STDP_SEED``.

    Without it every build draws the same random numbers.
    """
    marker = "// initialise random seeds (if any are used)\n"
    if marker not in source:
        raise RuntimeError("brian2genn's main.cpp template is not the one of brian2genn "
                           "1.7.0 that brian_stdp.backends.brian2genn.device patches; install "
                           "brian2genn==1.7.0")
    return source.replace(marker, _SEED_MAIN, 1)


#: Compiles GeNN's own code (neuron and synapse updates) optimised: brian2genn leaves
#: GeNN's ``optimizeCode`` preference at its default (off), so GeNN's CPU backend compiled
#: the simulation kernels without any ``-O`` flag.
_OPTIMISE_MODEL = """    GENN_PREFERENCES.optimizeCode = true;  // brian_stdp: -O3 -ffast-math for GeNN's code
    {{ dtDef }}"""


def patched_model_source(source: str) -> str:
    """brian2genn's ``model.cpp`` template with GeNN's ``optimizeCode`` preference on.

    Raises
    ------
    RuntimeError
        If the template is not the one of brian2genn 1.7 this patch was written for.
    """
    marker = "    {{ dtDef }}"
    if source.count(marker) != 1:
        raise RuntimeError("brian2genn's model.cpp template is not the one of brian2genn "
                           "1.7.0 that brian_stdp.backends.brian2genn.device patches; install "
                           "brian2genn==1.7.0")
    return source.replace(marker, _OPTIMISE_MODEL, 1)


def patched_engine_source(source: str) -> str:
    """brian2genn's ``engine.cpp`` template with target-group variables of synaptic
    operations handled (see the module docstring).

    Raises
    ------
    RuntimeError
        If the template is not the one of brian2genn 1.7 this patch was written for.
    """
    marker = "// Execute run_regularly operation"
    head, sep, tail = source.partition(marker)
    read_at = tail.find("{% for var in obj['read'] %}")
    write_at = tail.find("{% for var in obj['write'] %}")
    anchor = "{% if obj['isSynaptic'] %}"
    first = tail.find(anchor, read_at)
    second = tail.find(anchor, write_at)
    if not sep or min(read_at, write_at, first, second) < 0 or not read_at < first < write_at:
        raise RuntimeError("brian2genn's engine.cpp template is not the one of brian2genn "
                           "1.7.0 that brian_stdp.backends.brian2genn.device patches; install "
                           "brian2genn==1.7.0")
    first = tail.find(anchor, read_at)
    second = tail.find(anchor, tail.find("{% for var in obj['write'] %}"))
    tail = (tail[:first] + _READ_FOREIGN + tail[first + len(anchor):second] + _WRITE_FOREIGN
            + tail[second + len(anchor):])
    return head + sep + tail


class _PatchedTemplater:
    """brian2genn's templater, with the patched ``engine``, ``main`` and ``model``
    templates."""

    def __init__(self, templater):
        from brian2.codegen.templates import CodeObjectTemplate

        self._templater = templater
        for name, patch in (("engine", patched_engine_source), ("main", patched_main_source),
                            ("model", patched_model_source)):
            source = templater.env.loader.get_source(templater.env, f"{name}.cpp")[0]
            patched = patch(source)
            setattr(self, name, CodeObjectTemplate(templater.env.from_string(patched), patched))

    def __getattr__(self, name):
        return getattr(self._templater, name)


@contextmanager
def _patched_templates():
    from brian2genn.codeobject import GeNNCodeObject

    original = GeNNCodeObject.templater
    GeNNCodeObject.templater = _PatchedTemplater(original)
    try:
        yield
    finally:
        GeNNCodeObject.templater = original


def _device_class():
    from brian2genn.device import GeNNDevice

    class StdpGeNNDevice(GeNNDevice):
        """brian2genn's device; synaptic operations may use target-group variables."""

        def generate_engine_source(self, writer, objects):
            with _patched_templates():
                super().generate_engine_source(writer, objects)

        def generate_main_source(self, writer, main_lines):
            with _patched_templates():
                super().generate_main_source(writer, main_lines)

        def generate_model_source(self, writer, main_lines, use_GPU):
            with _patched_templates():
                super().generate_model_source(writer, main_lines, use_GPU)

        def fill_with_array(self, var, arr):
            """brian2genn's, but an array of ``lastspike`` values (one per neuron, as a
            chunk hands them on) is accepted, not only one value."""
            values = np.asarray(arr)
            if var.name == "lastspike" and values.size > 1:
                from brian2.devices.cpp_standalone.device import CPPStandaloneDevice

                values = np.where(np.isneginf(values), -1e4, values)
                return CPPStandaloneDevice.fill_with_array(self, var, values)
            return super().fill_with_array(var, arr)

        def consolidate_pull_operations(self, run_regularly_operations):
            """brian2genn's, with variables pulled under their own name and group."""
            renamed = []
            for op in run_regularly_operations:
                variables = op["owner"].variables
                reads = {name for name in op["read"] if name in ("t", "dt")}
                foreign = defaultdict(set)
                for name in op["read"]:
                    if name in ("t", "dt"):
                        continue
                    var = variables[name]
                    if var.owner.name == op["owner"].name:
                        reads.add(name)
                    else:
                        foreign[var.owner.name].add(var.name)
                renamed.append(dict(op, read=reads))
                renamed += [dict(op, read=names, owner=_Group(owner_name, names))
                            for owner_name, names in foreign.items()]
            return super().consolidate_pull_operations(renamed)

    return StdpGeNNDevice


class _Group:
    """Stands for a neuron group where :meth:`consolidate_pull_operations` reads only
    ``owner.variables[name].owner.name``."""

    def __init__(self, name, names):
        self.name = name
        self.variables = {var: self for var in names}

    @property
    def owner(self):
        return self


def register() -> str:
    """Register :class:`StdpGeNNDevice` with Brian2 (once); return its device name."""
    import brian2genn  # noqa: F401  (registers brian2genn's preferences and device)
    from brian2.devices.device import all_devices

    if DEVICE_NAME not in all_devices:
        all_devices[DEVICE_NAME] = _device_class()()
    return DEVICE_NAME
