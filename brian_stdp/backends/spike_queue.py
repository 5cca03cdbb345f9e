"""Push spikes into Brian2's heterogeneous-delay queue one delay group at a time, or as
runs of synapses (``cpp_standalone``).

Brian2's ``CSpikeQueue`` puts every synapse of a spiking neuron into the queue slot of
its own delay, one ``push_back`` and one integer modulo per synapse. At 400 neurons that
is 314,000 synapses from 784 inputs, about 900,000 pushes per training image and a fifth
of the simulation's time. :func:`patch_spike_queue` edits the copy of ``spikequeue.h``
in a build folder so that ``prepare`` also sorts each source's synapses by delay (a
stable sort) and ``push`` appends each delay group with one ``insert``.

The queue holds the same synapse indices in the same order as before: within one
source and one delay the sort keeps the index order, sources are pushed in spike order
as before, and different delays go to different slots. So the synaptic events run in
the same order and the spikes are the same (``tests/backends/test_spike_queue.py``).

Where a pathway's synapses are stored sorted by delay
(:mod:`~brian_stdp.backends.delay_order`), every delay group of a source is a run of
consecutive synapses. A queue whose ``store_ranges`` is set (by the program's ``main``,
before the queue is prepared: :data:`STORE_RANGES_CODE`) then holds each group as two
numbers, its first synapse and its length, and the pathway's event code
(``brian_stdp/backends/templates/synapses.cpp``) runs through each run: the same synapses in
the same order, without writing and reading an index per synaptic event. ``prepare`` checks
that the groups are runs and stops the program with a message where one is not.

The edit needs the lines it replaces. Where a Brian2 version has other lines (or no
``brianlib/spikequeue.h``: brian2cuda, GeNN), :func:`patch_spike_queue` changes nothing
and the program runs with Brian2's queue.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

#: Marks a patched file, so that a second call changes nothing.
MARK = "// brian_stdp: delay groups"

#: C++ for ``main`` that makes a pathway's queue hold runs of synapses (format with
#: ``pathway``, the C++ name of the pathway, such as ``inp_exc_pre``).
STORE_RANGES_CODE = "brian::{pathway}.queue[0]->store_ranges = true;"

_INCLUDE_BEFORE = "#include<assert.h>\n"
_INCLUDE_AFTER = _INCLUDE_BEFORE + "#include<cstdlib>\n"

_MEMBERS_BEFORE = "    vector< vector<int> > synapses;\n"
_MEMBERS_AFTER = _MEMBERS_BEFORE + f"""    {MARK}: each source's synapses sorted by delay (stable), and per source
    // the (delay, number of synapses) of each group, in the order of that list
    vector< vector<int> > synapses_by_delay;
    vector< vector< pair<int, int> > > delay_groups;
    // brian_stdp: with store_ranges, a slot holds (first synapse, number of synapses) pairs
    bool store_ranges = false;
"""

_PREPARE_BEFORE = "        scalar_delay = (min_delay == max_delay);\n"
_PREPARE_AFTER = _PREPARE_BEFORE + """        synapses_by_delay.assign(synapses.size(), vector<int>());
        delay_groups.assign(synapses.size(), vector< pair<int, int> >());
        if (!scalar_delay)
        {
            const int * const global_delays = delays - openmp_padding;
            for (size_t source = 0; source < synapses.size(); source++)
            {
                vector<int> &sorted = synapses_by_delay[source];
                sorted = synapses[source];
                stable_sort(sorted.begin(), sorted.end(),
                            [global_delays](int a, int b) { return global_delays[a] < global_delays[b]; });
                vector< pair<int, int> > &groups = delay_groups[source];
                for (size_t k = 0; k < sorted.size(); k++)
                {
                    const int delay = global_delays[sorted[k]];
                    if (groups.empty() || groups.back().first != delay)
                        groups.push_back(make_pair(delay, 0));
                    groups.back().second++;
                }
            }
        }
        if (store_ranges)
        {
            for (size_t source = 0; source < synapses.size(); source++)
            {
                const vector<int> &listed = scalar_delay ? synapses[source] : synapses_by_delay[source];
                size_t k = 0;
                const size_t n_groups = scalar_delay ? (listed.empty() ? 0 : 1) : delay_groups[source].size();
                for (size_t g = 0; g < n_groups; g++)
                {
                    const size_t n = scalar_delay ? listed.size() : (size_t)delay_groups[source][g].second;
                    for (size_t m = 1; m < n; m++)
                        if (listed[k + m] != listed[k] + (int)m)
                        {
                            std::cerr << "brian_stdp: a delay group of the queue is not a run of synapses "
                                      << "(store_ranges); the synapses must be stored sorted by delay" << std::endl;
                            std::exit(1);
                        }
                    k += n;
                }
            }
        }
"""

_PUSH_BEFORE = """                const int* __restrict cur_indices = &(synapses[idx_neuron][0]);
                for(int idx_indices=0; idx_indices<num_indices; idx_indices++)
                {
                    const int synaptic_index = cur_indices[idx_indices];
                    int delay = rdelays[synaptic_index];
                    queue[(offset+delay)%queue.size()].push_back(synaptic_index);
                }
"""
_PUSH_AFTER = """                const int* cur_indices = &(synapses_by_delay[idx_neuron][0]);
                const size_t n_slots = queue.size();
                const vector< pair<int, int> > &groups = delay_groups[idx_neuron];
                for (size_t g = 0; g < groups.size(); g++)
                {
                    vector<int32_t> &slot = queue[(offset + groups[g].first) % n_slots];
                    if (store_ranges)
                    {
                        slot.push_back(cur_indices[0]);
                        slot.push_back(groups[g].second);
                    }
                    else
                        slot.insert(slot.end(), cur_indices, cur_indices + groups[g].second);
                    cur_indices += groups[g].second;
                }
"""

_HOMOGENEOUS_BEFORE = """                const int* __restrict cur_indices = &(synapses[idx_neuron][0]);
                const int cur_homog_queue_size = homog_queue.size();
"""
_HOMOGENEOUS_AFTER = """                const int* __restrict cur_indices = &(synapses[idx_neuron][0]);
                if (store_ranges)
                {
                    homog_queue.push_back(cur_indices[0]);
                    homog_queue.push_back(num_indices);
                    continue;
                }
                const int cur_homog_queue_size = homog_queue.size();
"""

_EDITS = ((_INCLUDE_BEFORE, _INCLUDE_AFTER), (_MEMBERS_BEFORE, _MEMBERS_AFTER),
          (_PREPARE_BEFORE, _PREPARE_AFTER), (_PUSH_BEFORE, _PUSH_AFTER),
          (_HOMOGENEOUS_BEFORE, _HOMOGENEOUS_AFTER))


def patched_source(text: str) -> str | None:
    """``spikequeue.h``'s text with the delay groups, or None where its lines are not the
    ones this edit was written for (each must occur exactly once)."""
    if MARK in text:
        return text
    for before, after in _EDITS:
        if text.count(before) != 1:
            return None
        text = text.replace(before, after)
    return text


def patch_spike_queue(build_dir) -> bool:
    """Edit ``build_dir/brianlib/spikequeue.h`` to push delay groups; True if the file
    is (now) patched.

    The file keeps its modification time (Brian2 copies it with the time of its own
    copy), so that a build folder copied from a compiled one compiles nothing again.
    """
    path = Path(build_dir) / "brianlib" / "spikequeue.h"
    if not path.is_file():
        return False
    text = path.read_text()
    new = patched_source(text)
    if new is None:
        log.debug("%s: not the lines the delay-group edit expects; Brian2's queue is used",
                  path)
        return False
    if new != text:
        stat = path.stat()
        path.write_text(new)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    return True
