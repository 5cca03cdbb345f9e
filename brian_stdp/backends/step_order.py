"""Serial code objects that the first thread of a split program runs early, without waiting.

In a time step split over threads (:mod:`~brian_stdp.backends.threads`), a code object
that runs on the first thread alone waits at a barrier for the split code before it. On
Diehl & Cook's network the first thread then also runs the input group's threshold, its
monitor and the push of its spikes into the input pathway's queue, while the second thread
waits, although none of them touches what the neuron updates before them compute.

An object is *early* when it runs on the first thread (serial) and shares no global array
or object of the program (an array of ``objects.h``, a pathway's queue, the random number
generators; the clocks' time arrays excepted, which change between steps only) with

- the serial objects between it and the split object before it, which it then runs
  before: so those two orders give the same values, and
- the split objects just before it (back to the serial object before them), which the
  other threads may still be running while the first thread runs it: so no thread reads
  what another writes.

The program runs an early object right after that split object (and after the early
objects already placed there), on the first thread, before the barrier that follows; the
next object waits for it (``brian_stdp::EARLY`` in the loop of ``network.cpp``). The
rule compares names, not reads and writes: two objects that only read one array are kept
in their order, which is safe, only slower.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

#: The generated header that registers a program's early objects (included by
#: ``network.cpp``).
HEADER = "brianlib/brian_stdp_early.h"

_ADD = re.compile(r"^\s*(\w+)\.add\(&(\w+),\s*(\w+)\);", re.M)
_RUN = re.compile(r"^\s*(\w+)\.run\(", re.M)
_SPLIT = re.compile(r"^BRIAN_STDP_SPLIT\((\w+),", re.M)
_EXTERN = re.compile(r"^extern\b[^;(]*?\b(\w+)\s*;", re.M)
_NAME = re.compile(r"\b[A-Za-z_]\w*\b")
_CLOCK_ARRAYS = ("t", "dt", "timestep")


class StepObject(NamedTuple):
    """One code object of a time step: its function (``_run_...``), whether every
    thread calls it (``split``), and the global names its code uses (``uses``)."""

    function: str
    split: bool
    uses: frozenset


def early_functions(step: list) -> list:
    """The functions of ``step`` (:class:`StepObject` in the order the network runs them)
    that are early, in that order (see the module's docstring).

    Returns
    -------
    functions : list of str
    """
    placed = []  # the step as the program runs it: (StepObject, early)
    insert_at = None  # after the last split object and the early objects after it
    early = []
    for obj in step:
        if obj.split:
            placed.append((obj, False))
            insert_at = len(placed)
            continue
        if insert_at is not None and obj.function and _can_run_early(obj, placed, insert_at):
            placed.insert(insert_at, (obj, True))
            insert_at += 1
            early.append(obj.function)
        else:
            placed.append((obj, False))
    return early


def _can_run_early(obj: StepObject, placed: list, insert_at: int) -> bool:
    """Whether ``obj`` shares no name with the serial objects from ``insert_at`` on, nor
    with the split objects just before the early ones at ``insert_at``."""
    passed = [other for other, _ in placed[insert_at:]]
    alongside = []
    k = insert_at - 1
    while k >= 0 and placed[k][1]:  # the early objects already placed there
        k -= 1
    while k >= 0 and placed[k][0].split:
        alongside.append(placed[k][0])
        k -= 1
    return not any(obj.uses & other.uses for other in passed + alongside)


def globals_of(objects_header: str) -> frozenset:
    """The names that ``objects.h`` declares ``extern`` (arrays, queues, generators)."""
    return frozenset(_EXTERN.findall(objects_header))


def network_steps(main_source: str) -> list:
    """For each ``run`` of a network in ``main.cpp``: ``[(clock, function), ...]``, the
    objects added to it since its last run (Brian2 clears it before adding them), in the
    order it runs them."""
    steps, current = [], {}
    events = sorted([(m.start(), "add", m.groups()) for m in _ADD.finditer(main_source)]
                    + [(m.start(), "run", (m.group(1),)) for m in _RUN.finditer(main_source)])
    for _, kind, groups in events:
        network = groups[0]
        if kind == "add":
            current.setdefault(network, []).append((groups[1], groups[2]))
        else:
            steps.append(current.pop(network, []))
    return steps


def step_of(build_dir) -> list | None:
    """The :class:`StepObject` list of the program in ``build_dir``, or None where it has
    no ``main.cpp`` or runs more than one network (not needed by this project's programs;
    none is early)."""
    build_dir = Path(build_dir)
    if not (build_dir / "main.cpp").is_file():
        return None
    steps = network_steps((build_dir / "main.cpp").read_text())
    if len(steps) != 1:
        return None
    names = globals_of((build_dir / "objects.h").read_text())
    clocks = {clock for clock, _ in steps[0]}
    names -= {f"_array_{clock}_{var}" for clock in clocks for var in _CLOCK_ARRAYS}
    step = []
    for _, function in steps[0]:
        if function == "NULL":  # a clock without code
            step.append(StepObject("", False, frozenset()))
            continue
        path = build_dir / "code_objects" / (function.removeprefix("_run_") + ".cpp")
        text = path.read_text()
        split = function in _SPLIT.findall(text)
        step.append(StepObject(function, split, frozenset(_NAME.findall(text)) & names))
    return step


def header_text(functions) -> str:
    """The C++ header that registers ``functions`` as early (``brian_stdp::EARLY``)."""
    lines = ["// brian_stdp: the serial code objects that the first thread runs before the",
             "// barrier that ends the split code before them (brian_stdp/backends/"
             "step_order.py).",
             "// Generated for this build.",
             "#ifndef BRIAN_STDP_EARLY_H", "#define BRIAN_STDP_EARLY_H"]
    lines += [f"void {function}();" for function in functions]
    lines += ["namespace brian_stdp {",
              "static const bool early_registered = register_early({"
              + ", ".join(f"&{function}" for function in functions) + "});",
              "}", "#endif", ""]
    return "\n".join(lines)


def write_header(build_dir) -> list:
    """Write :data:`HEADER` for the program in ``build_dir`` (only where its text
    changes, so that nothing is compiled again); return its early functions."""
    step = step_of(build_dir)
    functions = early_functions(step) if step is not None else []
    path = Path(build_dir) / HEADER
    text = header_text(functions)
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)
    return functions


__all__ = ["HEADER", "StepObject", "early_functions", "globals_of", "header_text",
           "network_steps", "step_of", "write_header"]
