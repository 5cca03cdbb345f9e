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
the same order, without writing and reading an index per synaptic event. In a program split
over threads the synapses are stored by block of targets first, so a group is one run per
block (``blocks``), each pushed as a pair in the same order. ``prepare`` lists each
source's groups with the pairs of their runs side by side (``ranges``), so that ``push``
appends a group with one ``insert`` and finds its slot without an integer modulo; it
checks that no group is more runs than ``blocks`` and stops the program with a message
where one is.

The edit needs the lines it replaces. Where a Brian2 version has other lines (or no
``brianlib/spikequeue.h``: brian2cuda, GeNN), :func:`patch_spike_queue` changes nothing
and the program runs with Brian2's queue.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

#: Marks a patched file, so that a second call changes nothing.
MARK = "// brian_stdp: delay groups"

#: C++ for ``main`` that makes a pathway's queue hold runs of synapses (format with
#: ``pathway``, the C++ name of the pathway, such as ``inp_exc_pre``, and ``blocks``, the
#: runs a delay group may be made of: the threads of a split program, else 1).
STORE_RANGES_CODE = ("brian::{pathway}.queue[0]->store_ranges = true; "
                     "brian::{pathway}.queue[0]->blocks = {blocks};")

_INCLUDE_BEFORE = "#include<assert.h>\n"
_INCLUDE_AFTER = _INCLUDE_BEFORE + "#include<cstdlib>\n"

_MEMBERS_BEFORE = "    vector< vector<int> > synapses;\n"
_MEMBERS_AFTER = _MEMBERS_BEFORE + f"""    {MARK}: each source's synapses sorted by delay (stable), and per source
    // the (delay, number of synapses) of each group, in the order of that list (without
    // store_ranges)
    vector< vector<int> > synapses_by_delay;
    vector< vector< pair<int, int> > > delay_groups;
    // brian_stdp: with store_ranges, a slot holds (first synapse, number of synapses) pairs,
    // and ranges, per source and delay group, the delay, the number of values that follow
    // and the pairs of the group's runs: at most `blocks` runs per group (synapses stored by
    // block of targets, then delay: one run per thread of a split program)
    vector< vector<int> > ranges;
    bool store_ranges = false;
    int blocks = 1;
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
                if (store_ranges)
                    continue;  // push reads the runs (ranges, below)
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
        ranges.assign(store_ranges ? synapses.size() : 0, vector<int>());
        if (store_ranges)
        {
            const int * const global_delays = delays - openmp_padding;
            for (size_t source = 0; source < synapses.size(); source++)
            {
                const vector<int> &listed = scalar_delay ? synapses[source] : synapses_by_delay[source];
                vector<int> &runs = ranges[source];
                size_t group = 0;  // where the last group starts in runs
                for (size_t k = 0; k < listed.size(); k++)
                {
                    const int delay = scalar_delay ? 0 : global_delays[listed[k]];
                    const bool same_delay = k > 0 && runs[group] == delay;
                    if (same_delay && listed[k] == listed[k - 1] + 1)
                    {
                        runs.back()++;
                        continue;
                    }
                    if (!same_delay)
                    {
                        group = runs.size();
                        runs.insert(runs.end(), {delay, 0});
                    }
                    runs[group + 1] += 2;
                    if (runs[group + 1] > 2 * blocks)
                    {
                        std::cerr << "brian_stdp: a delay group of the queue is more than " << blocks
                                  << " run(s) of synapses (store_ranges); the synapses must be stored "
                                  << "sorted by block of targets, then delay" << std::endl;
                        std::exit(1);
                    }
                    runs.insert(runs.end(), {listed[k], 1});
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
_PUSH_AFTER = """                const size_t n_slots = queue.size();
                if (store_ranges)
                {
                    // offset and every delay are below n_slots (ensure_delay)
                    const vector<int> &runs = ranges[idx_neuron];
                    for (size_t k = 0; k < runs.size(); k += 2 + runs[k + 1])
                    {
                        size_t at = offset + runs[k];
                        at -= at >= n_slots ? n_slots : 0;
                        const int * const pairs = &runs[k + 2];
                        queue[at].insert(queue[at].end(), pairs, pairs + runs[k + 1]);
                    }
                    continue;
                }
                const int* cur_indices = &(synapses_by_delay[idx_neuron][0]);
                const vector< pair<int, int> > &groups = delay_groups[idx_neuron];
                for (size_t g = 0; g < groups.size(); g++)
                {
                    vector<int32_t> &slot = queue[(offset + groups[g].first) % n_slots];
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
                    const vector<int> &runs = ranges[idx_neuron];  // one group
                    homog_queue.insert(homog_queue.end(), runs.begin() + 2, runs.end());
                    continue;
                }
                const int cur_homog_queue_size = homog_queue.size();
"""

_EDITS = ((_MEMBERS_BEFORE, _MEMBERS_AFTER), (_PREPARE_BEFORE, _PREPARE_AFTER),
          (_PUSH_BEFORE, _PUSH_AFTER), (_HOMOGENEOUS_BEFORE, _HOMOGENEOUS_AFTER))

#: Names this version of the edit: part of the build cache's key, and written into the
#: file, so that a build folder patched by another version is patched again.
EDIT_VERSION = hashlib.sha256(repr(_EDITS).encode()).hexdigest()[:12]
_VERSION_LINE = f"// brian_stdp: spike queue edit {EDIT_VERSION}\n"
_EDITS = ((_INCLUDE_BEFORE, _INCLUDE_AFTER + _VERSION_LINE),) + _EDITS


def patched_source(text: str) -> str | None:
    """``spikequeue.h``'s text with the delay groups, or None where its lines are not the
    ones this edit was written for (each must occur exactly once), or where another
    version of the edit is there already."""
    if MARK in text:
        return text if _VERSION_LINE in text else None
    for before, after in _EDITS:
        if text.count(before) != 1:
            return None
        text = text.replace(before, after)
    return text


def _brian2_source() -> str | None:
    """The text of this Brian2's own ``spikequeue.h``, or None where it has none."""
    import brian2

    path = Path(brian2.__file__).parent / "synapses" / "spikequeue.h"
    return path.read_text() if path.is_file() else None


#: Beside the edited file in a build folder: the version of the edit that the folder's
#: program was compiled with (written by :func:`record_compiled`, read by
#: :func:`patch_spike_queue`).
VERSION_FILE = "brianlib/spikequeue.edit"


def record_compiled(build_dir) -> None:
    """Note in ``build_dir`` that its program is compiled with this version of the edit
    (call it after the compilation succeeded)."""
    (Path(build_dir) / VERSION_FILE).write_text(EDIT_VERSION + "\n")


def patch_spike_queue(build_dir) -> bool:
    """Edit ``build_dir/brianlib/spikequeue.h`` to push delay groups; True if the file
    is (now) patched.

    The file keeps its modification time (Brian2 copies it with the time of its own
    copy), so that a build folder copied from a compiled one compiles nothing again. Where
    the folder's program was compiled with another version of the edit (its
    :data:`VERSION_FILE`, or a program and no such file), or the file holds another
    version's edit, the file gets the current time, so that ``make`` compiles what
    includes it: Brian2 copies its own file over an edited one with that file's old time,
    and objects compiled from the other edit, linked with this one, crash the program.
    """
    path = Path(build_dir) / "brianlib" / "spikequeue.h"
    if not path.is_file():
        return False
    text = path.read_text()
    new = patched_source(text)
    stale = new is None and MARK in text
    if stale:
        original = _brian2_source()
        new = patched_source(original) if original is not None else None
    if new is None:
        log.debug("%s: not the lines the delay-group edit expects; Brian2's queue is used",
                  path)
        return False
    version_file = Path(build_dir) / VERSION_FILE
    if version_file.is_file():
        other_program = version_file.read_text().strip() != EDIT_VERSION
    else:  # a program compiled before the record was kept, or none yet
        other_program = (Path(build_dir) / "main").exists()
    stale = stale or other_program
    if new != text:
        stat = path.stat()
        path.write_text(new)
        if not stale:
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    elif stale:
        os.utime(path)
    return True
