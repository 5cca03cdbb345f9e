"""The plan of a time step split over threads: the order of its code objects, and which
serial ones the first thread runs without waiting.

In a time step split over threads (:mod:`~brian_stdp.backends.threads`), a code object
that runs on the first thread alone waits at a barrier for the split code before it, and
the split code after it waits for it. On Diehl & Cook's network that left the second
thread waiting while the first ran the input group's threshold, monitor and push, the
monitor and pushes of the output spikes and the input's reset, although none of them
touches what the split code around them computes.

Two objects are *independent* where they share no global name of the program (an array
of ``objects.h``, a pathway's queue, the random number generators; the clocks' time
arrays excepted, which change between steps only). The plan (:func:`plan`):

- **Early**: a serial object independent of the serial objects between it and the run of
  split objects before it, and of that run, moves up to run right after the run (after
  the early objects already there), on the first thread, while the other threads may
  still run their part of the run. Two orders of independent objects give the same
  values, and no thread reads what another writes.
- **Moved down**: a serial object that waits before a run of split objects (for the run
  before it) moves down to run early right after that run, where it is independent of
  the run and of the serial objects it passes, which keep their place.
- **No wait for the gathering**: after the barrier that ends split thresholds, the first
  thread moves their events together (``brian_stdp::finish_gathers``); a run of split
  objects independent of every gathering threshold need not wait for that.

The program runs the objects in the plan's order; an early object runs on the first
thread without a barrier before it, and the next object waits for it
(``brian_stdp::EARLY`` in the loop of ``network.cpp``). Where objects have clocks of
their own, a step may run only some of them: an early object then first waits, as a
serial one, wherever split code before its run ran since the last barrier (the plan
gives each early object the position of its run's first object). The rule compares names, not
reads and writes: two objects that only read one array keep their order, which is safe,
only slower. Code that talks through anything else than these names (a static variable
shared by two code objects) is not seen; Brian2's and this project's templates have none.
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
_SPLIT = re.compile(r"^BRIAN_STDP_SPLIT\((\w+),\s*\w+,\s*(\w+)\)", re.M)
_EXTERN = re.compile(r"^extern\b[^;(]*?\b(\w+)\s*;", re.M)
_NAME = re.compile(r"\b[A-Za-z_]\w*\b")
_CLOCK_ARRAYS = ("t", "dt", "timestep")


class StepObject(NamedTuple):
    """One code object of a time step: its function (``_run_...``), whether every
    thread calls it (``split``), the global names its code uses (``uses``), and whether it
    leaves events for ``brian_stdp::finish_gathers`` (``gathers``, split thresholds)."""

    function: str
    split: bool
    uses: frozenset
    gathers: bool = False


class StepPlan(NamedTuple):
    """How the program runs a time step: its functions in the order it runs them
    (``order``), the serial ones that the first thread runs without waiting (``early``),
    for each of them the position in ``order`` of the first object of the run of split
    code it runs beside (``run_starts``), and the split ones after which no thread waits
    for the first to gather the split thresholds' events (``no_gather_wait``: they and the
    split objects after them, up to the next barrier, share no name with a threshold that
    gathers)."""

    order: list
    early: list
    run_starts: list
    no_gather_wait: list


def plan(step: list) -> StepPlan:
    """The :class:`StepPlan` of ``step`` (:class:`StepObject` in the order the network
    runs them; see the module's docstring). A clock without code (no function) runs
    nothing, and the program's loop passes over it: it is left out, so that it ends no
    run of split objects."""
    step = [obj for obj in step if obj.function]
    placed = _deferred(_with_early(step))
    gathering = [obj for obj in step if obj.gathers]
    no_wait = []
    for first, last in _split_runs(placed):
        run = [obj for obj, _ in placed[first:last]]
        if all(_independent(obj, gathering) for obj in run):
            no_wait.append(run[0].function)
    starts, run_start = [], 0
    for k, (obj, early) in enumerate(placed):
        if obj.split and (k == 0 or not placed[k - 1][0].split):
            run_start = k
        if early:
            starts.append(run_start)
    return StepPlan([obj.function for obj, _ in placed],
                    [obj.function for obj, early in placed if early], starts, no_wait)


def _independent(obj: StepObject, others) -> bool:
    """Whether ``obj`` shares no name with any of ``others``."""
    return not any(obj.uses & other.uses for other in others)


def _with_early(step: list) -> list:
    """``step`` as ``(StepObject, early)`` pairs, each serial object that shares no name
    with the serial objects it passes nor with the split objects just before them moved
    up to run right after those split objects (and the early objects already there)."""
    placed = []
    insert_at = None  # after the last split object and the early objects after it
    for obj in step:
        if obj.split:
            placed.append((obj, False))
            insert_at = len(placed)
            continue
        if insert_at is not None:
            passed = [other for other, _ in placed[insert_at:]]
            alongside = [other for other, _ in _run_before(placed, insert_at)]
            if _independent(obj, passed + alongside):
                placed.insert(insert_at, (obj, True))
                insert_at += 1
                continue
        placed.append((obj, False))
    return placed


def _run_before(placed: list, position: int) -> list:
    """The split objects of the run that ends before the early objects ending at
    ``position``."""
    k = position - 1
    while k >= 0 and placed[k][1]:
        k -= 1
    run = []
    while k >= 0 and placed[k][0].split:
        run.append(placed[k])
        k -= 1
    return run[::-1]


def _split_runs(placed: list) -> list:
    """``(first, stop)`` of each run of consecutive split objects in ``placed``."""
    runs, first = [], None
    for k, (obj, _) in enumerate(placed + [(StepObject("", False, frozenset()), False)]):
        if obj.split and first is None:
            first = k
        elif not obj.split and first is not None:
            runs.append((first, k))
            first = None
    return runs


def _deferred(placed: list) -> list:
    """``placed`` with each serial object that waits before a run of split objects (the
    serial objects between the early ones before it and the run) moved down to run
    early, right after the run, where it shares no name with the run nor with the serial
    objects it passes. Those left in place still need their barrier; the others keep
    their order, before the early objects already after the run."""
    placed = list(placed)
    for first, stop in reversed(_split_runs(placed)):
        run = [obj for obj, _ in placed[first:stop]]
        gap = first
        while gap > 0 and not placed[gap - 1][0].split and not placed[gap - 1][1]:
            gap -= 1
        kept, moved = [], []
        for obj, _ in reversed(placed[gap:first]):
            if _independent(obj, run + kept):
                moved.insert(0, (obj, True))
            else:
                kept.insert(0, obj)
        if not moved:
            continue
        placed[gap:stop] = [(obj, False) for obj in kept] + placed[first:stop] + moved
    return placed


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
        marks = dict(_SPLIT.findall(text))
        step.append(StepObject(function, function in marks,
                               frozenset(_NAME.findall(text)) & names,
                               marks.get(function) == "true"))
    return step


def header_text(step_plan: StepPlan | None) -> str:
    """The C++ header that registers ``step_plan`` (``brian_stdp::register_plan``; none:
    the network's own order, no early objects)."""
    step_plan = step_plan or StepPlan([], [], [], [])
    functions = sorted(set(step_plan.order))
    lines = ["// brian_stdp: the order of the code objects in a time step split over threads,",
             "// the serial ones that the first thread runs without waiting, and the split",
             "// ones that need not wait for the gathering of thresholds' events",
             "// (brian_stdp/backends/step_order.py). Generated for this build.",
             "#ifndef BRIAN_STDP_EARLY_H", "#define BRIAN_STDP_EARLY_H"]
    lines += [f"void {function}();" for function in functions]

    def listed(names):
        return "{" + ", ".join(f"&{name}" for name in names) + "}"

    lines += ["namespace brian_stdp {",
              "static const bool step_planned = register_plan(",
              f"    {listed(step_plan.order)},",
              f"    {listed(step_plan.early)},",
              "    {" + ", ".join(str(k) for k in step_plan.run_starts) + "},",
              f"    {listed(step_plan.no_gather_wait)});",
              "}", "#endif", ""]
    return "\n".join(lines)


def write_header(build_dir) -> StepPlan | None:
    """Write :data:`HEADER` for the program in ``build_dir`` (only where its text
    changes, so that nothing is compiled again); return its plan (None: none made)."""
    step = step_of(build_dir)
    step_plan = plan(step) if step is not None else None
    path = Path(build_dir) / HEADER
    text = header_text(step_plan)
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)
    return step_plan


__all__ = ["HEADER", "StepObject", "StepPlan", "globals_of",
           "header_text", "network_steps", "plan", "step_of", "write_header"]
