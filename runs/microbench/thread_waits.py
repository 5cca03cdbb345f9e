"""Where the threads of a ``--threads N`` program work and wait, per code object.

A measurement, not part of the package: it edits, in this process only, the C++ text that
``brian_stdp/backends/threads.py`` writes (the barrier and the loop over time steps), so
that each thread adds the TSC cycles (``rdtsc``, wall-clock ticks) it spends in each code
object and waiting at each barrier; builds the network; trains it on the first SLOTS
training images; and prints, per code object in the order of the time step, for each
thread: work (cycles in the object, less its own barrier), the wait at the barrier before
it, and the wait at a barrier inside it. ``BRIAN_STDP_NT=1`` runs the same program on
one thread, for per-object figures to compare with (the split code then runs whole on the
one thread, still through its per-thread buffer: the input pathway's one-thread figure
includes adding that buffer into ``ge``, which a ``--threads 1`` program does not do).

    BRIAN_STDP_NT=2 python runs/microbench/thread_waits.py diehl_cook_2015 6400 60 /tmp/waits
    BRIAN_STDP_NT=1 python runs/microbench/thread_waits.py diehl_cook_2015 6400 60 /tmp/waits

Arguments: MODEL NEURONS SLOTS BUILD_FOLDER (the program is built for 2 threads there and
kept, so a second call rebuilds nothing). Output in Gcycles (10^9 TSC ticks).

``EDITS=file.py`` tries a change of the generated program before it is written into the
package: the file defines ``edit(name, text)``, which returns the new text of the code
object ``name`` (``code_objects/<name>.cpp``), and may define ``edit_header(text)`` and
``edit_network(text)`` for the threads' header and ``network.cpp``; they are applied
before each compilation (use a build folder of its own per edit).
``runs/microbench/edits/`` holds the edits that runs/NOTES.md quotes.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import numpy as np

from brian_stdp.backends import threads as T

_BARRIER = """inline void barrier()
{{
    const int threads = omp_get_num_threads();
    if (threads == 1)
        return;"""
_TIMED_BARRIER = """inline int& site() {{ static thread_local int s = 0; return s; }}
typedef unsigned long long Table[BRIAN_STDP_MAX_THREADS][512];
inline Table& waits() {{ static Table t; return t; }}
inline Table& works() {{ static Table t; return t; }}
struct WaitTimer
{{
    unsigned long long t0;
    WaitTimer() : t0(__builtin_ia32_rdtsc()) {{}}
    ~WaitTimer() {{ waits()[omp_get_thread_num()][site()] += __builtin_ia32_rdtsc() - t0; }}
}};
""" + _BARRIER + """
    WaitTimer _timer;"""

INSIDE, END_OF_STEP = 256, 500  # site of a barrier inside object i: INSIDE + i

_EDITS = [  # (text of threads._LOOP_AFTER, its replacement)
    ("num_threads(BRIAN_STDP_THREADS)",
     'num_threads(getenv("BRIAN_STDP_NT") ? atoi(getenv("BRIAN_STDP_NT")) : BRIAN_STDP_THREADS)'),
    ("                    if (_first)\n                        func();\n"
     "                    _since = (_since == LOCAL_ONLY",
     "                    const unsigned long long _e0 = __builtin_ia32_rdtsc();\n"
     "                    if (_first)\n                        func();\n"
     "                    brian_stdp::works()[omp_get_thread_num()][i] += __builtin_ia32_rdtsc() - _e0;\n"
     "                    _since = (_since == LOCAL_ONLY"),
    ("            if (_wait)\n",
     "            brian_stdp::site() = (int)i;\n            if (_wait)\n"),
    ("            if (kind == brian_stdp::SERIAL)\n            {\n                if (_first)",
     "            brian_stdp::site() = %d + (int)i;\n"
     "            const unsigned long long _w0 = __builtin_ia32_rdtsc();\n"
     "            if (kind == brian_stdp::SERIAL)\n            {\n                if (_first)" % INSIDE),
    ("                _gathering = _gathering || (_kinds[i] & brian_stdp::GATHERS);\n            }\n",
     "                _gathering = _gathering || (_kinds[i] & brian_stdp::GATHERS);\n            }\n"
     "            brian_stdp::works()[omp_get_thread_num()][i] += __builtin_ia32_rdtsc() - _w0;\n"),
    ("        if (_since == LOCAL_ONLY || _since == ANY_SPLIT)\n            brian_stdp::barrier();",
     "        brian_stdp::site() = %d;\n"
     "        if (_since == LOCAL_ONLY || _since == ANY_SPLIT)\n            brian_stdp::barrier();"
     % END_OF_STEP),
    ("        brian_stdp::barrier();\n    }\n    }\n",
     "        brian_stdp::site() = %d;\n        brian_stdp::barrier();\n    }\n    }\n"
     "    {\n        FILE *f = fopen(\"STATS_PATH\", \"w\");\n"
     "        for (int th = 0; th < BRIAN_STDP_MAX_THREADS; th++)\n"
     "            for (int s = 0; s < 512; s++)\n"
     "                if (brian_stdp::waits()[th][s] || brian_stdp::works()[th][s])\n"
     "                    fprintf(f, \"%%d %%d %%llu %%llu\\n\", th, s, brian_stdp::works()[th][s],\n"
     "                            brian_stdp::waits()[th][s]);\n"
     "        fclose(f);\n    }\n" % END_OF_STEP),
]


def instrument(stats_path: Path) -> None:
    """Edit the texts that :mod:`brian_stdp.backends.threads` writes into the program."""
    assert T._HEADER_TEXT.count(_BARRIER) == 1, "threads.py's barrier changed"
    T._HEADER_TEXT = T._HEADER_TEXT.replace(_BARRIER, _TIMED_BARRIER)
    loop = T._LOOP_AFTER
    for before, after in _EDITS:
        assert loop.count(before) == 1, f"threads.py's loop changed: {before!r}"
        loop = loop.replace(before, after)
    T._LOOP_AFTER = loop.replace("STATS_PATH", str(stats_path))


def table(stats_path: Path, main_cpp: Path) -> str:
    """The per-object table of the stats file the program wrote (Gcycles)."""
    names = re.findall(r"\w+\.add\(&[^,]+, _run_(\w+)\)", main_cpp.read_text())
    cells: dict[tuple[int, int], tuple[int, int]] = {}
    for line in stats_path.read_text().split("\n"):
        if line:
            thread, site, work, wait = map(int, line.split())
            cells[thread, site] = (work, wait)
    threads = 1 + max(thread for thread, _ in cells)
    lines = [f"{'code object':40s}" + "".join(f" | work{t} before{t} inside{t}"
                                               for t in range(threads))]
    totals = np.zeros((threads, 3))
    ends = {END_OF_STEP: "end of step, after the objects", END_OF_STEP + 1: "end of step, after the clock"}
    for site in [*range(len(names)), *ends]:
        name = names[site] if site < len(names) else ends[site]
        row = []
        for t in range(threads):
            work, before = cells.get((t, site), (0, 0))
            inside = cells.get((t, INSIDE + site), (0, 0))[1] if site < len(names) else 0
            row.append((work - inside, before, inside))
        totals += row
        if any(map(any, row)):
            lines.append(f"{name[:40]:40s}" + "".join(f" | {a / 1e9:5.3f} {b / 1e9:7.3f} {c / 1e9:7.3f}"
                                                      for a, b, c in row))
    lines.append(f"{'total':40s}" + "".join(f" | {a / 1e9:5.3f} {b / 1e9:7.3f} {c / 1e9:7.3f}"
                                            for a, b, c in totals))
    return "\n".join(lines)


def apply_edits(path: Path) -> None:
    """Have the program's compilation first apply the edits of ``path`` (see EDITS above)."""
    import runpy

    from brian2.devices.cpp_standalone.device import CPPStandaloneDevice

    edits = runpy.run_path(str(path))
    compile_source = CPPStandaloneDevice.compile_source

    def edited_compile_source(self, directory, *args, **kwds):
        files = [(p, edits["edit"], p.stem)
                 for p in sorted(Path(directory, "code_objects").glob("*.cpp"))]
        files += [(Path(directory, T.HEADER), edits.get("edit_header"), None),
                  (Path(directory, "network.cpp"), edits.get("edit_network"), None)]
        for file, edit, name in files:
            if edit is None:
                continue
            text = file.read_text()
            new = edit(name, text) if name else edit(text)
            if new != text:
                file.write_text(new)
                print(f"edited {file.name}")
        return compile_source(self, directory, *args, **kwds)

    CPPStandaloneDevice.compile_source = edited_compile_source


def main(model: str, neurons: int, slots: int, folder: Path) -> None:
    from brian_stdp.backends.network import draw_fixed
    from brian_stdp.backends.session import ControllerState, StandaloneSession
    from brian_stdp.data.datasets import load_dataset
    from brian_stdp.data.encoding import encode
    from brian_stdp.model.spec import load_model

    folder.mkdir(parents=True, exist_ok=True)
    stats = folder / "stats.txt"
    instrument(stats)
    if os.environ.get("EDITS"):
        apply_edits(Path(os.environ["EDITS"]))
    spec = load_model(model)
    rng = np.random.default_rng(5)
    session = StandaloneSession(spec, neurons, 784, slots, draw_fixed(spec, neurons, 784, rng),
                                directory=str(folder / "build"), threads=2)
    state = session.initial_state(rng)
    session.compile()
    stimulus = encode(load_dataset("mnist", "train").images[:slots])
    session.run_chunk(stimulus, slots, state, ControllerState.fresh(spec.protocol.min_spikes),
                      plastic=True, seed=11)
    info = (folder / "build/results/last_run_info.txt").read_text().split()
    print(f"{model}, {neurons} neurons, {slots} slots, "
          f"{os.environ.get('BRIAN_STDP_NT', '2')} thread(s): network run {info[0]} s")
    print(table(stats, folder / "build/main.cpp"))
    session.close()


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
