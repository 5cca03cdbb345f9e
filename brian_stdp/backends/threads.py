"""Split each time step of a ``cpp_standalone`` program over threads, by blocks of neurons.

Brian2's OpenMP mode opens a parallel region in every code object, about 20 per time step
of a 0.5 ms step that one core computes in 5 to 80 µs, and runs the event code of a
pathway that writes a postsynaptic variable on one thread: two threads trained slower
than one at every network size. With ``--threads N`` (N > 1) the program is built
without Brian2's OpenMP, and instead:

- the network's loop over time steps runs in one parallel region
  (:func:`patch_network`, in ``network.cpp``);
- a code object whose template can split its work (``brian_stdp/backends/templates``,
  told how by :class:`SplitCodeGenerator`, :func:`split_mode`) is called by every
  thread. ``index``: each thread a block of the owner's elements (state updates,
  thresholds, code that writes only its own element). A pathway whose queue holds runs
  of synapses (:mod:`~brian_stdp.backends.spike_queue`) has them stored by block of
  targets (:mod:`~brian_stdp.backends.delay_order`): each thread the runs onto its own
  block of targets, writing them directly, so that the pathway's and the targets' cache
  lines stay in one core. Elsewhere, ``accumulate``: synaptic code whose only writes to
  the target are additions (``ge_post += w``, ``w_in_sum_post += w``): each thread a
  share of the synapses, adding into a buffer of its own; the buffers are then added to
  the target in thread order. ``post``: other synaptic code that writes its target, each
  thread the synapses onto its block of targets. No two threads write one value;
- every other code object (spike queues, monitors, resets, anything that draws random
  numbers or writes a presynaptic or shared variable) runs on the first thread alone,
  where it shares no array with the split code around it without waiting for it, in the
  order of :mod:`~brian_stdp.backends.step_order` (the plan of the step);
- every array the program allocates starts on a cache line and fills whole lines (the
  allocation functions, replaced in ``network.cpp``), so that small arrays written by one
  thread share no line with those another reads; the arrays of 1 KB or more of ``new[]``
  (the split groups' variables) lie between 4 KB that no one uses, so that a core's
  prefetcher streaming past the end of its last block fetches no lines of another
  thread's first block;
- the threads wait for each other (a spinning barrier, ``brian_stdp::barrier``) only where
  the results of one code object meet another: not between the state updates and
  thresholds of the neuron groups, which read only their own neurons' values
  (``block_local``).

Reproducible: for a seed and a number of threads, the same result to the bit (every split
is fixed by the counts, and the random numbers are drawn on the first thread in the order
of one thread's program). Another number of threads simulates the same network up to
floating-point rounding: where additions into a target go through buffers, they are
grouped per thread, and the compiler (``-ffast-math``) may order a split loop's arithmetic
otherwise. The input pathway stored by block adds into each target in one thread's order:
on Diehl & Cook's network of 12 neurons over 10 images, two threads give one thread's
spikes and state to the bit; on the LC-SNN (buffers), the same spikes and states equal to
1e-9 (``tests/backends/test_threads.py``). Over a long run one spike that differs changes
what follows, so where the states differ, results agree in distribution, not to the digit.
"""

from __future__ import annotations

import functools
from pathlib import Path

from brian2.codegen.generators.cpp_generator import CPPCodeGenerator
from brian2.core.functions import Function

from brian_stdp.backends import step_order, streamed_stores

#: The header that the split templates and the edited ``network.cpp`` include.
HEADER = "brianlib/brian_stdp_threads.h"

#: Most threads a program supports (per-thread tables in the header are this long).
MAX_THREADS = 256
#: A neuron group with fewer elements runs its code on the first thread: its work is less
#: than the barrier a split costs.
MIN_SPLIT = 1024


def block_starts(n: int, blocks: int) -> list:
    """Where each block of ``n`` elements split over ``blocks`` threads starts, and ``n``:
    ``n*k // blocks`` (``brian_stdp::block_start`` in C++).

    Returns
    -------
    starts : list of int, length ``blocks + 1``
    """
    return [n * k // blocks for k in range(blocks + 1)]


_HEADER_TEXT = """\
// brian_stdp: one time step split over threads by blocks of neurons
// (brian_stdp/backends/threads.py). Generated for this build.
#ifndef BRIAN_STDP_THREADS_H
#define BRIAN_STDP_THREADS_H
#include <omp.h>
#include <sched.h>
#include <stdint.h>
#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>
#include <initializer_list>
#include <map>
#include <utility>
#include <vector>

#define BRIAN_STDP_THREADS {threads}
#define BRIAN_STDP_MAX_THREADS {max_threads}
// Registers a split code object: it is called by every thread of the time step.
// block_local: it reads only its own elements' values; gathers: it calls gather_events.
#define BRIAN_STDP_SPLIT(func, block_local, gathers) \\
    static const bool func##_is_split = brian_stdp::register_split(&func, block_local, gathers);

namespace brian_stdp {{

typedef void (*step_function)();
enum Kind {{ SERIAL = 0, SPLIT = 1, BLOCK_LOCAL = 2, GATHERS = 4, EARLY = 8,
             NO_GATHER_WAIT = 16 }};

inline std::map<step_function, int>& kinds()
{{
    static std::map<step_function, int> registered;
    return registered;
}}

inline bool register_split(step_function func, bool block_local, bool gathers)
{{
    kinds()[func] = (block_local ? BLOCK_LOCAL : SPLIT) | (gathers ? GATHERS : 0);
    return true;
}}

// The plan of a time step (brian_stdp/backends/step_order.py): the code objects in the
// order to run them, the serial ones that the first thread runs without waiting (EARLY),
// and the split ones after which no thread waits for finish_gathers (NO_GATHER_WAIT).
struct Plan
{{
    std::vector<step_function> order;
    std::vector<step_function> early, no_gather_wait;
    std::vector<size_t> run_starts;  // of each early object: where its run starts in order
}};

inline Plan& the_plan()
{{
    static Plan plan;
    return plan;
}}

inline bool register_plan(std::initializer_list<step_function> order,
                          std::initializer_list<step_function> early,
                          std::initializer_list<size_t> run_starts,
                          std::initializer_list<step_function> no_gather_wait)
{{
    Plan &plan = the_plan();
    plan.order.assign(order);
    plan.early.assign(early);
    plan.run_starts.assign(run_starts);
    plan.no_gather_wait.assign(no_gather_wait);
    return true;
}}

// The order in which to run `funcs` (the network's objects; 0 for a clock without code):
// the plan's, where it lists every function of them; else their own. With the plan's,
// kinds gets the flags EARLY and NO_GATHER_WAIT of each object, and run_starts the
// position in the order where the run of split code that an early object runs beside
// starts.
inline std::vector<size_t> planned_order(const std::vector<step_function> &funcs,
                                         std::vector<int> &kinds,
                                         std::vector<size_t> &run_starts)
{{
    run_starts.assign(funcs.size(), 0);
    const Plan &plan = the_plan();
    std::vector<size_t> order;
    std::vector<bool> placed(funcs.size(), false);
    for (size_t k = 0; k < plan.order.size(); k++)
        for (size_t i = 0; i < funcs.size(); i++)
            if (!placed[i] && funcs[i] == plan.order[k])
            {{
                order.push_back(i);
                placed[i] = true;
                break;
            }}
    for (size_t i = 0; i < funcs.size(); i++)
        if (!placed[i])
        {{
            if (funcs[i])  // an object the plan does not know: the network's own order
            {{
                order.clear();
                for (size_t j = 0; j < funcs.size(); j++)
                    order.push_back(j);
                return order;
            }}
            order.push_back(i);
        }}
    for (size_t i = 0; i < funcs.size(); i++)
    {{
        const std::vector<step_function>::const_iterator early =
            std::find(plan.early.begin(), plan.early.end(), funcs[i]);
        if (early != plan.early.end())
        {{
            kinds[i] = EARLY;
            run_starts[i] = plan.run_starts[early - plan.early.begin()];
        }}
        if (std::find(plan.no_gather_wait.begin(), plan.no_gather_wait.end(), funcs[i])
                != plan.no_gather_wait.end())
            kinds[i] |= NO_GATHER_WAIT;
    }}
    return order;
}}

// SERIAL (the first thread runs it) or SPLIT or BLOCK_LOCAL (every thread calls it), with
// GATHERS where it leaves events for finish_gathers.
inline int kind_of(step_function func)
{{
    std::map<step_function, int>::const_iterator found = kinds().find(func);
    return found == kinds().end() ? SERIAL : found->second;
}}

// Wait until every thread of the team has arrived. A thread spins a few microseconds
// (the work between two barriers of a time step is of that order), then yields its core
// (so that a machine with more threads than free cores still makes progress).
struct Barrier
{{
    alignas(64) std::atomic<int> arrived;
    alignas(64) std::atomic<int> phase;
}};

inline Barrier& the_barrier()
{{
    static Barrier shared = {{ {{0}}, {{0}} }};
    return shared;
}}

inline void barrier()
{{
    const int threads = omp_get_num_threads();
    if (threads == 1)
        return;
    Barrier &b = the_barrier();
    const int phase = b.phase.load(std::memory_order_acquire);
    if (b.arrived.fetch_add(1, std::memory_order_acq_rel) == threads - 1)
    {{
        b.arrived.store(0, std::memory_order_relaxed);
        b.phase.store(phase + 1, std::memory_order_release);
        return;
    }}
    for (long spins = 0; b.phase.load(std::memory_order_acquire) == phase; spins++)
    {{
        if (spins < 20000)
        {{
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }}
        else
            sched_yield();
    }}
}}

// Where block `thread` of n elements starts (n for thread == threads): n*thread/threads
// (block_starts in brian_stdp/backends/threads.py computes the same).
inline size_t block_start(size_t n, size_t thread, size_t threads)
{{
    return n * thread / threads;
}}

// Whether this thread runs through its block from the top down: the first of several.
// Its loop then ends where it starts, away from the second thread's first elements, which
// a core's prefetcher, streaming up past the end of a block, would fetch in every pass
// (runs/microbench/prefetch_boundary.cpp). For loops whose order does not change what
// they compute, and that the compiler does not vectorise (the thresholds).
inline bool descends()
{{
    return omp_get_thread_num() == 0 && omp_get_num_threads() > 1;
}}

// This thread's block [lo, hi) of n elements.
inline void block(size_t n, size_t &lo, size_t &hi)
{{
    const size_t thread = omp_get_thread_num(), threads = omp_get_num_threads();
    lo = block_start(n, thread, threads);
    hi = block_start(n, thread + 1, threads);
}}

// The first of n synapses stored by block of targets (brian_stdp/backends/delay_order.py)
// whose target (post) is bound or above.
inline size_t first_onto(const int32_t *post, size_t n, size_t bound)
{{
    size_t lo = 0, hi = n;
    while (lo < hi)
    {{
        const size_t mid = lo + (hi - lo) / 2;
        if ((size_t)post[mid] < bound)
            lo = mid + 1;
        else
            hi = mid;
    }}
    return lo;
}}

// This thread's synapses [lo, hi) of n synapses stored by block of targets: those onto
// its block of the n_targets targets.
inline void synapse_block(const int32_t *post, size_t n, size_t n_targets, size_t &lo,
                          size_t &hi)
{{
    size_t target_lo, target_hi;
    block(n_targets, target_lo, target_hi);
    lo = first_onto(post, n, target_lo);
    hi = first_onto(post, n, target_hi);
}}

// This thread's targets [lo, hi): the blocks of n targets, the first one open below and
// the last one open above, so that every index belongs to exactly one thread.
inline void target_block(long n, long &lo, long &hi)
{{
    const long thread = omp_get_thread_num(), threads = omp_get_num_threads();
    lo = thread == 0 ? LONG_MIN : (long)block_start(n, thread, threads);
    hi = thread == threads - 1 ? LONG_MAX : (long)block_start(n, thread + 1, threads);
}}

// An event space whose threads' parts the first thread has yet to move together.
struct Gather
{{
    int32_t *space;
    size_t n;
    long *counts;
}};

inline std::vector<Gather>& pending_gathers()
{{
    static std::vector<Gather> pending;
    return pending;
}}

// After each thread wrote the events of its block of n neurons from the start of its block
// in the event space (count of them): with one thread, write their number at position n;
// else note it for finish_gathers. counts: one entry per thread, of the caller.
inline void gather_events(int32_t *space, size_t n, long count, long *counts)
{{
    const int thread = omp_get_thread_num(), threads = omp_get_num_threads();
    if (threads == 1)
    {{
        space[n] = count;
        return;
    }}
    counts[thread] = count;
    if (thread == 0)
        pending_gathers().push_back(Gather{{space, n, counts}});
}}

// On the first thread, after a barrier that follows gather_events: move every pending
// event space's parts together in index order and write their number at position n.
inline void finish_gathers()
{{
    const int threads = omp_get_num_threads();
    std::vector<Gather> &pending = pending_gathers();
    for (size_t k = 0; k < pending.size(); k++)
    {{
        const Gather &g = pending[k];
        long total = g.counts[0];
        for (int other = 1; other < threads; other++)
        {{
            const size_t lo = block_start(g.n, other, threads);
            if (g.counts[other] && (size_t)total != lo)
                std::memmove(g.space + total, g.space + lo, g.counts[other] * sizeof(int32_t));
            total += g.counts[other];
        }}
        g.space[g.n] = total;
    }}
    pending.clear();
}}

// This thread's buffer of n zeros (and zeros again after each reduce) among a code
// object's per-thread buffers, into which it adds in place of the target array.
template <typename T>
inline T* accumulator(std::vector<T> *buffers, size_t n)
{{
    std::vector<T> &mine = buffers[omp_get_thread_num()];
    if (mine.size() != n)
        mine.assign(n, T(0));
    return mine.data();
}}

// Add every thread's buffer into target, in thread order, for this thread's block of the
// n elements, and zero the buffers there. Call after a barrier that follows the additions.
template <typename T>
inline void reduce(T *target, std::vector<T> *buffers, size_t n)
{{
    const int threads = omp_get_num_threads();
    size_t lo, hi;
    block(n, lo, hi);
    for (size_t j = lo; j < hi; j++)
    {{
        T value = target[j];
        for (int thread = 0; thread < threads; thread++)
        {{
            T &added = buffers[thread][j];
            value += added;
            added = T(0);
        }}
        target[j] = value;
    }}
}}

}}  // namespace brian_stdp
#endif
"""

_NETWORK_INCLUDE_BEFORE = '#include "network.h"\n'
#: The allocation functions that replace the C++ library's in a split program.
ALLOCATION = """\
#include <cstdlib>
#include <new>
#include <stdlib.h>

// brian_stdp: each array that the program allocates with new[] (Brian2's arrays of the
// groups, clocks and spike spaces), and each block of 4 KB or more (the synapses'
// vectors), starts on a cache line and fills whole lines. A small array that one thread
// writes in every step (a clock's time, the controller's counts) then shares no line with
// one that the other thread reads, and the block of one thread starts on a line of its
// own wherever its first byte is a multiple of 64.
// An array of new[] of 1 KB or more (a split group's variables) also has 4 KB that no one
// uses before and after it: a core's prefetcher, streaming to the end of the last block
// of one array (or down past the start of the first), then fetches nothing of the first
// block of the next array, which another thread writes (runs/NOTES.md, "Prefetching
// across the blocks").
static void* brian_stdp_line_aligned(std::size_t size)
{
    const std::size_t line = 64, bytes = size ? (size + line - 1) / line * line : line;
    void *p = 0;
    if (posix_memalign(&p, line, bytes) != 0)
        throw std::bad_alloc();
    return p;
}
// new[]: the array after `guard` bytes, whose number the word before the array holds
// (for delete[]).
void* operator new[](std::size_t size)
{
    const std::size_t guard = size >= 1024 ? 4096 : 64;
    char *p = (char*)brian_stdp_line_aligned(size + 2 * guard);
    ((std::size_t*)(p + guard))[-1] = guard;
    return p + guard;
}
void* operator new(std::size_t size)
{
    if (size >= 4096)
        return brian_stdp_line_aligned(size);
    void *p = std::malloc(size ? size : 1);
    if (!p)
        throw std::bad_alloc();
    return p;
}
static void brian_stdp_free_array(void *p)
{
    if (p)
        std::free((char*)p - ((std::size_t*)p)[-1]);
}
void operator delete[](void *p) noexcept { brian_stdp_free_array(p); }
void operator delete[](void *p, std::size_t) noexcept { brian_stdp_free_array(p); }
void operator delete(void *p) noexcept { std::free(p); }
void operator delete(void *p, std::size_t) noexcept { std::free(p); }
"""
_NETWORK_INCLUDE_AFTER = (_NETWORK_INCLUDE_BEFORE + f'#include "{HEADER}"\n'
                          + f'#include "{step_order.HEADER}"\n' + ALLOCATION)

_LOOP_BEFORE = """\
    while(clock && clock->running() && !Network::_globally_stopped)
    {
        t = clock->t[0];

        for(size_t i=0; i<objects.size(); i++)
        {
            if (report_func)
            {
                current = std::chrono::high_resolution_clock::now();
                const double elapsed = std::chrono::duration<double>(current - start).count();
                if (elapsed > next_report_time)
                {
                    report_func(elapsed, (clock->t[0]-t_start)/duration, t_start, duration);
                    next_report_time += report_period;
                }
            }
            BaseClock *obj_clock = objects[i].first;
            // Only execute the object if it uses the right clock for this step
            if (curclocks.find(obj_clock) != curclocks.end())
            {
                codeobj_func func = objects[i].second;
                if (func)  // code objects can be NULL in cases where we store just the clock
                    func();
            }
        }
        for(std::set<BaseClock*>::iterator i=curclocks.begin(); i!=curclocks.end(); i++)
            (*i)->tick();
        clock = next_clocks();


    }
"""

_LOOP_AFTER = """\
    // brian_stdp: the loop over time steps in one parallel region
    // (brian_stdp/backends/threads.py). Split code objects are called by every thread,
    // the others by the first one; a barrier where results of one meet another.
    std::vector<int> _kinds(objects.size());
    for(size_t i=0; i<objects.size(); i++)
        _kinds[i] = objects[i].second ? brian_stdp::kind_of(objects[i].second) : brian_stdp::SERIAL;
    // the order of a step, and which objects run early (brian_stdp/backends/step_order.py)
    std::vector<brian_stdp::step_function> _funcs(objects.size());
    for(size_t i=0; i<objects.size(); i++)
        _funcs[i] = objects[i].second;
    std::vector<size_t> _run_starts;
    const std::vector<size_t> _order = brian_stdp::planned_order(_funcs, _kinds, _run_starts);
    bool _go = clock && clock->running() && !Network::_globally_stopped;
#if defined(__SSE__)
    const unsigned int _float_mode = __builtin_ia32_stmxcsr();  // FTZ/DAZ for every thread
#endif
    #pragma omp parallel num_threads(BRIAN_STDP_THREADS)
    {
#if defined(__SSE__)
    __builtin_ia32_ldmxcsr(_float_mode);
#endif
    const bool _first = omp_get_thread_num() == 0;
    while(_go)
    {
        if (_first)
            t = clock->t[0];
        // what ran since the last barrier: nothing, block-local split objects only,
        // objects on the first thread, or other split objects
        enum { NONE_YET, LOCAL_ONLY, FIRST_ONLY, ANY_SPLIT } _since = NONE_YET;
        bool _gathering = false;  // events left by split thresholds (gather_events)
        size_t _split_from = (size_t)-1;  // where the split code since the last barrier began
        for(size_t _n=0; _n<_order.size(); _n++)
        {
            const size_t i = _order[_n];
            if (_first && report_func)
            {
                current = std::chrono::high_resolution_clock::now();
                const double elapsed = std::chrono::duration<double>(current - start).count();
                if (elapsed > next_report_time)
                {
                    report_func(elapsed, (clock->t[0]-t_start)/duration, t_start, duration);
                    next_report_time += report_period;
                }
            }
            BaseClock *obj_clock = objects[i].first;
            codeobj_func func = objects[i].second;
            if (!func || curclocks.find(obj_clock) == curclocks.end())
                continue;
            int kind = _kinds[i] & ~(brian_stdp::GATHERS | brian_stdp::NO_GATHER_WAIT);
            if (kind == brian_stdp::EARLY)
            {
                // without waiting, where the split code since the last barrier is its run's
                // (else it waits as a serial object); the next object waits for it
                if (_split_from < _run_starts[i])
                    kind = brian_stdp::SERIAL;
                else
                {
                    if (_first)
                        func();
                    _since = (_since == LOCAL_ONLY || _since == ANY_SPLIT) ? ANY_SPLIT : FIRST_ONLY;
                    continue;
                }
            }
            const bool _wait = kind == brian_stdp::SERIAL
                ? (_since == LOCAL_ONLY || _since == ANY_SPLIT)
                : (_since == FIRST_ONLY || _since == ANY_SPLIT
                   || (_since == LOCAL_ONLY && kind != brian_stdp::BLOCK_LOCAL));
            if (_wait)
            {
                brian_stdp::barrier();
                _since = NONE_YET;
                _split_from = (size_t)-1;
                if (_gathering)  // the events of split thresholds, moved together
                {
                    if (_first)
                        brian_stdp::finish_gathers();
                    _gathering = false;
                    if (kind != brian_stdp::SERIAL && !(_kinds[i] & brian_stdp::NO_GATHER_WAIT))
                        brian_stdp::barrier();
                }
            }
            if (kind == brian_stdp::SERIAL)
            {
                if (_first)
                    func();
                _since = FIRST_ONLY;
            }
            else
            {
                if (_split_from == (size_t)-1)
                    _split_from = _n;
                func();
                _since = (kind == brian_stdp::BLOCK_LOCAL && _since != ANY_SPLIT)
                    ? LOCAL_ONLY : ANY_SPLIT;
                _gathering = _gathering || (_kinds[i] & brian_stdp::GATHERS);
            }
        }
        if (_since == LOCAL_ONLY || _since == ANY_SPLIT)
            brian_stdp::barrier();
        if (_first)
        {
            if (_gathering)
                brian_stdp::finish_gathers();
            for(std::set<BaseClock*>::iterator i=curclocks.begin(); i!=curclocks.end(); i++)
                (*i)->tick();
            clock = next_clocks();
            _go = clock && clock->running() && !Network::_globally_stopped;
        }
        brian_stdp::barrier();
    }
    }
"""


def header_text(threads: int) -> str:
    """The C++ header of a program built for ``threads`` threads."""
    if not 1 < threads <= MAX_THREADS:
        raise ValueError(f"threads must be in 2..{MAX_THREADS}, not {threads}")
    return _HEADER_TEXT.format(threads=int(threads), max_threads=MAX_THREADS)


def patched_network_source(text: str) -> str | None:
    """``network.cpp``'s text with the loop over time steps in one parallel region, or None
    where its lines are not the ones this edit was written for."""
    if text.count(_LOOP_BEFORE) != 1 or text.count(_NETWORK_INCLUDE_BEFORE) != 1:
        return None
    return (text.replace(_NETWORK_INCLUDE_BEFORE, _NETWORK_INCLUDE_AFTER)
            .replace(_LOOP_BEFORE, _LOOP_AFTER))


def patch_network(build_dir, threads: int) -> None:
    """Write the header and edit ``network.cpp`` of a generated program for ``threads``.

    Raises
    ------
    RuntimeError
        Where ``network.cpp`` has other lines than this Brian2 version's (a program built
        with them would run every code object on every thread).
    """
    build_dir = Path(build_dir)
    header = build_dir / HEADER
    text = header_text(threads)
    if not header.is_file() or header.read_text() != text:
        header.write_text(text)
    step_order.write_header(build_dir)
    path = build_dir / "network.cpp"
    source = path.read_text()
    if _LOOP_AFTER in source:
        return
    new = patched_network_source(source)
    if new is None:
        raise RuntimeError(f"{path}: not the network loop that brian_stdp/backends/threads.py "
                           f"edits (another Brian2 version?); run with --threads 1")
    path.write_text(new)


def _stochastic(generator, statements) -> bool:
    """Whether any statement calls a function with a state (``rand``, ``randn``, ...)."""
    from brian2.utils.stringtools import get_identifiers

    for block in statements.values():
        for stmt in block:
            for name in get_identifiers(stmt.expr):
                func = generator.variables.get(name)
                if isinstance(func, Function) and not func.stateless:
                    return True
    return False


def _n_targets(generator) -> int | None:
    """The size of a synapse object's target group, or None (not synapses)."""
    owner = generator.owner
    synapses = getattr(owner, "synapses", owner)  # a pathway's, or the object itself
    target = getattr(synapses, "target", None)
    if target is None or not hasattr(synapses, "_synaptic_updaters"):
        return None
    return len(target)


def _pathway(generator):
    """The pathway (``SynapticPathway``) whose event code ``generator`` writes."""
    for pathway in generator.owner._pathways:
        if generator.name.startswith(pathway.name + "_codeobject"):
            return pathway
    raise ValueError(f"{generator.name}: no pathway of {generator.owner.name} has this code")


def _size(owner) -> int:
    """The number of elements of a neuron group (0 where it cannot be told)."""
    try:
        return len(owner)
    except Exception:  # noqa: BLE001  (synapses before they are made, other owners)
        return 0


def _accumulations(generator, scalar_statements, vector_statements, names) -> list | None:
    """``(pointer, size, C type)`` of each variable in ``names`` if every statement that
    touches it adds to it (``x_post += ...``, ``x_post`` read nowhere else), else None."""
    from brian2.codegen.generators.cpp_generator import c_data_type
    from brian2.utils.stringtools import get_identifiers

    for name in names:
        for statements, vector in ((scalar_statements, False), (vector_statements, True)):
            for block in statements.values():
                for stmt in block:
                    if name in get_identifiers(stmt.expr):
                        return None
                    if stmt.var == name and not (vector and stmt.op == "+="):
                        return None
    variables = generator.variables
    return [(generator.get_array_name(variables[name]), int(variables[name].size),
             c_data_type(variables[name].dtype)) for name in sorted(names)]


def split_mode(generator, scalar_statements, vector_statements) -> tuple:
    """How a code object's work is split over threads:
    ``(mode, n_targets, block_local, accumulate)``.

    ``mode`` is

    - ``"index"``: each thread a block of the owner's elements (code that writes only its
      own element);
    - ``"accumulate"`` (synapses' code whose only writes to the target are additions,
      ``ge_post += w``): each thread a share of the synapses (of a queue slot's list, or
      of all synapses), adding into a buffer of its own instead of each variable in
      ``accumulate`` (``(pointer, size, C type)``); the buffers are then added to the
      variable in thread order. Where the slot holds runs stored by block of targets,
      each thread the runs onto its block, adding into the variable itself;
    - ``"post"`` (the event code of a pathway that writes its targets otherwise): each
      thread the synapses onto its block of the ``n_targets`` targets;
    - None: the first thread alone (random numbers, shared or presynaptic variables
      written; events at postsynaptic spikes; neuron groups under :data:`MIN_SPLIT`).

    ``n_targets``: the size of the target group of synapses' code (else 0). Synapses
    stored by block of targets (``ranged_events``) split their ``index`` and
    ``accumulate`` code by those blocks: each thread the synapses onto its own targets.

    ``block_local``: an ``index`` split of a neuron group's code that reads only its own
    neurons' values, so it needs no barrier after another such code object.
    """
    serial = None, 0, False, []
    template = generator.template_name
    if template not in ("stateupdate", "threshold", "synapses"):
        return serial
    if _stochastic(generator, scalar_statements) or _stochastic(generator, vector_statements):
        return serial  # random numbers stay on one thread, in one order
    indices = generator.variable_indices
    written, read, written_post = set(), set(), set()
    for name in scalar_statements:
        sc_read, sc_write, _, _ = generator.arrays_helper(scalar_statements[name])
        if sc_write:
            return serial  # a shared variable written
        ve_read, ve_write, _, _ = generator.arrays_helper(vector_statements[name])
        written |= {indices[v] for v in ve_write}
        written_post |= {v for v in ve_write if indices[v] == "_postsynaptic_idx"}
        read |= {indices[v] for v in ve_read | sc_read}
    n_targets = _n_targets(generator)
    if template == "synapses" and _pathway(generator).prepost == "post":
        return serial  # events at output spikes: a few per step, at any network size
    if n_targets is None and _size(generator.owner) < MIN_SPLIT:
        return serial  # a small group: its work is less than a barrier's
    if n_targets is not None and (template == "synapses" or written_post):
        if not written <= {"_idx", "_postsynaptic_idx"}:
            return serial
        accumulate = _accumulations(generator, scalar_statements, vector_statements,
                                    written_post)
        if accumulate is not None:
            return "accumulate", n_targets, False, accumulate
        if template == "synapses" and "_postsynaptic_idx" in generator.variables:
            return "post", n_targets, False, []
        return serial
    if template == "synapses" or not written <= {"_idx"}:
        return serial
    block_local = n_targets is None and read <= {"_idx", "0"}
    return "index", n_targets or 0, block_local, []


class SplitCodeGenerator(CPPCodeGenerator):
    """Brian2's C++ generator, which also tells the template how to split the code over
    threads (template variables ``thread_split``, ``thread_split_targets``,
    ``block_local`` and ``thread_accumulate``; :func:`split_mode`)."""

    def translate_statement_sequence(self, sc_statements, ve_statements):
        scalar, vector, kwds = super().translate_statement_sequence(sc_statements,
                                                                    ve_statements)
        mode, n_targets, block_local, accumulate = split_mode(self, sc_statements,
                                                              ve_statements)
        kwds.update(thread_split=mode, thread_split_targets=n_targets,
                    block_local="true" if block_local else "false",
                    thread_accumulate=accumulate)
        return scalar, vector, kwds


@functools.cache
def split_codeobject_class(ranged_events: bool = False, stream: bool = False):
    """The ``cpp_standalone`` code object class of a program split over threads; with
    ``ranged_events``, for a presynaptic pathway whose queue holds runs of synapses
    (:mod:`~brian_stdp.backends.spike_queue`), and with ``stream`` as well, whose event
    code stores the values it writes and does not read past the cache
    (:mod:`~brian_stdp.backends.streamed_stores`)."""
    from brian2.devices.cpp_standalone.codeobject import CPPStandaloneCodeObject

    class SplitCPPStandaloneCodeObject(CPPStandaloneCodeObject):
        """cpp_standalone code split over threads by blocks of neurons
        (``brian_stdp/backends/threads.py``, ``brian_stdp/backends/templates``)."""

        generator_class = SplitCodeGenerator
        templater = CPPStandaloneCodeObject.templater.derive(
            "brian_stdp.backends", env_globals={"split_threads": True,
                                                "ranged_events": ranged_events,
                                                **streamed_stores.template_globals(stream)})

    return SplitCPPStandaloneCodeObject


__all__ = ["ALLOCATION", "HEADER", "MAX_THREADS", "header_text", "patch_network",
           "patched_network_source", "split_mode", "SplitCodeGenerator", "split_codeobject_class"]
