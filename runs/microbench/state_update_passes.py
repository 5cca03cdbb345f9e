"""Why the excitatory state update does not scale on two threads: cold data or slow code.

A measurement, not part of the package. It builds the ``--threads 2`` program through
``runs/microbench/thread_waits.py`` (per-object TSC cycles of each thread), then edits that
program's excitatory state update (``exc_stateupdater_codeobject.cpp``) and rebuilds it:

``second-pass``
    after the update, the same loop runs again over the thread's block of neurons, on the
    values just read and written, storing its results into arrays of its own thread;
    that pass is timed apart. It computes what the update computes, on data that the
    update has just brought into this core, so it measures the code without the cost of
    reaching each step's data.
``serial``
    the first thread runs the whole update (all neurons) while the second waits: the
    one-thread code inside the two-thread program.
``target-split``
    the input pathway (``inp_exc_pre_codeobject.cpp``) no longer gives each thread whole
    runs of synapses added into a buffer of its own: each thread takes, from every run,
    the synapses whose target is in its block of neurons (the run's targets ascend) and
    adds into ``ge`` directly. Each thread then reads ``post1`` and writes ``ge`` of its
    own block only. Each target's sum is added in the order one thread adds it (so the
    same spikes are expected; not checked here).
``first-block-only``
    as ``target-split``, but only the first thread adds its block's synapses; the second
    thread's neurons get no input. Not the model's network (fewer spikes): it times one
    thread's share of the pathway when no other thread writes the same cache lines of
    ``w`` and ``t_arrival``.

``BRIAN_STDP_NT=1`` runs the same program on one thread.

Written for the program of commit 6fa0a83, before the input synapses were stored by block
of targets (its edits stop with a message on today's templates): run it from a checkout of
that commit (``git worktree add ../wt-6fa0a83 6fa0a83``).

    BRIAN_STDP_NT=1 python runs/microbench/state_update_passes.py 1600 200 /tmp/passes second-pass
    BRIAN_STDP_NT=2 python runs/microbench/state_update_passes.py 1600 200 /tmp/passes second-pass
    BRIAN_STDP_NT=2 python runs/microbench/state_update_passes.py 1600 200 /tmp/serial serial
    BRIAN_STDP_NT=2 python runs/microbench/state_update_passes.py 1600 200 /tmp/targets target-split
    BRIAN_STDP_NT=2 python runs/microbench/state_update_passes.py 1600 200 /tmp/first first-block-only

Arguments: NEURONS SLOTS BUILD_FOLDER MODE (model diehl_cook_2015; one folder per mode).
Output in Gcycles (10^9 TSC ticks).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import thread_waits  # noqa: E402

from brian_stdp.backends.session import StandaloneSession  # noqa: E402

_CODE = "code_objects/exc_stateupdater_codeobject.cpp"
_LOOP = "    for(size_t _idx=_lo; _idx<_hi; _idx++)"
_FUNCTION = "void _run_exc_stateupdater_codeobject()"
_SPLIT = "BRIAN_STDP_SPLIT(_run_exc_stateupdater_codeobject, true, false)"
_BLOCK = "    brian_stdp::block(_N, _lo, _hi);\n"
_WRITTEN = {"ge": "double", "gi": "double", "not_refractory": "char", "post1": "double",
            "post2": "double", "theta": "double", "v": "double"}
_REPORT = """
#include <cstdio>
#include <vector>
static unsigned long long* second_pass_cycles() { static unsigned long long c[64 * 8]; return c; }
struct SecondPassReport
{
    ~SecondPassReport()
    {
        FILE *f = fopen("REPORT_PATH", "w");
        fprintf(f, "%llu %llu\\n", second_pass_cycles()[0], second_pass_cycles()[8]);
        fclose(f);
    }
};
static SecondPassReport _second_pass_report;
"""


def second_pass(text: str, report: Path) -> str:
    """The update's text with a timed copy of its loop that writes to per-thread arrays."""
    start = text.index(_LOOP)
    loop = text[start:text.index("\n    }\n", start) + len("\n    }\n")]
    copy = loop
    for name in _WRITTEN:
        copy = copy.replace(f"_ptr_array_exc_{name}[_idx] = {name};", f"_own_{name}[_idx] = {name};")
    scratch = "".join(f"    static thread_local std::vector<{kind}> _vector_{name}(_N);\n"
                      f"    {kind} * const _own_{name} = _vector_{name}.data();\n"
                      for name, kind in _WRITTEN.items())
    timed = (scratch + "    const unsigned long long _start = __builtin_ia32_rdtsc();\n" + copy
             + "    second_pass_cycles()[omp_get_thread_num() * 8] += __builtin_ia32_rdtsc() - _start;\n")
    text = text.replace(loop, loop + timed, 1)
    return text.replace(_FUNCTION, _REPORT.replace("REPORT_PATH", str(report)) + _FUNCTION, 1)


def serial(text: str) -> str:
    """The update's text run whole by the first thread (no longer a split code object)."""
    assert _BLOCK in text and _SPLIT in text, "the split template changed"
    return text.replace(_BLOCK, "    _lo = 0; _hi = _N;\n").replace(_SPLIT, "")


_PATHWAY = "code_objects/inp_exc_pre_codeobject.cpp"
_PATHWAY_EDITS = [  # (text of the split synapses template's output, its replacement)
    ("    brian_stdp::run_share(*_runs, _run_begin, _run_end);\n",
     "    _run_begin = 0;\n    _run_end = _n_runs;\n"
     "    size_t _block_lo, _block_hi;\n    brian_stdp::block(_numge_post, _block_lo, _block_hi);\n"
     "    const long _bound_lo = _block_lo == 0 ? LONG_MIN : (long)_block_lo;\n"
     "    const long _bound_hi = _block_hi == _numge_post ? LONG_MAX : (long)_block_hi;\n"),
    ("    double * const _ptr_array_exc_ge = brian_stdp::accumulator(_accumulators_1, N);\n", ""),
    ("        const size_t _first = (*_runs)[2 * _run];\n"
     "        const size_t _stop = _first + (*_runs)[2 * _run + 1];\n",
     "        const size_t _run_first = (*_runs)[2 * _run];\n"
     "        const size_t _run_stop = _run_first + (*_runs)[2 * _run + 1];\n"
     "        const size_t _first = brian_stdp::split_point(_ptr_array_inp_exc__synaptic_post, _run_first, _run_stop, _bound_lo, _numge_post);\n"
     "        const size_t _stop = brian_stdp::split_point(_ptr_array_inp_exc__synaptic_post, _run_first, _run_stop, _bound_hi, _numge_post);\n"),
    ("        brian_stdp::barrier();\n        brian_stdp::reduce(_ptr_array_exc_ge, _accumulators_1, N);\n", ""),
]


def target_split(text: str) -> str:
    """The input pathway's text split by blocks of targets instead of whole runs."""
    neurons = re.search(r"const size_t _numge_post = (\d+);", text).group(1)
    for before, after in _PATHWAY_EDITS:
        before = before.replace(", N);", f", {neurons});")
        assert text.count(before) == 1, f"the split synapses template changed: {before!r}"
        text = text.replace(before, after)
    return text


def first_block_only(text: str) -> str:
    """``target_split`` with the second thread's share of every run left out."""
    loop = "    for(size_t _run=_run_begin; _run<_run_end; _run++)\n"
    assert text.count(loop) == 1, "the split synapses template changed"
    return target_split(text).replace(loop, "    if (omp_get_thread_num() == 0)\n" + loop)


_MARK = "// edited by runs/microbench/state_update_passes.py: "
_MODES = {  # mode: (the file it edits, its edit; None: second_pass)
    "second-pass": (_CODE, None),
    "serial": (_CODE, serial),
    "target-split": (_PATHWAY, target_split),
    "first-block-only": (_PATHWAY, first_block_only),
}


def main(neurons: int, slots: int, folder: Path, mode: str) -> None:
    report = folder / "second_pass.txt"
    compile_program = StandaloneSession.compile

    def compile_edited(session: StandaloneSession) -> None:
        compile_program(session)
        file, edit = _MODES[mode]
        path = folder / "build" / file
        text = path.read_text()
        if text.startswith(_MARK):
            return  # edited in an earlier call
        path.write_text(_MARK + mode + "\n" + (second_pass(text, report) if edit is None else edit(text)))
        subprocess.run(["make", "-j2"], cwd=folder / "build", check=True, capture_output=True)

    StandaloneSession.compile = compile_edited
    thread_waits.main("diehl_cook_2015", neurons, slots, folder)
    if mode == "second-pass":
        cycles = [int(c) / 1e9 for c in report.read_text().split()]
        print("second pass of the excitatory state update, each thread: "
              + ", ".join(f"{c:.3f}" for c in cycles if c))


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[4] not in _MODES:
        sys.exit(__doc__)
    main(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4])
