"""An edit for ``EDITS=... thread_waits.py``: whole code objects per thread. The state
update and threshold of each neuron group named in ``OWNERS`` (``group:thread`` pairs,
comma-separated; default ``exc:1,inh:0``) run whole on that thread, instead of split by
blocks of neurons; the other threads skip them. Each object still reads only its own
group's neurons, so these objects still meet no barrier between them; the threshold's
owner writes the number of events itself (no gathering). Everything else (the input
pathway split by blocks of targets, the serial objects) is unchanged (runs/NOTES.md,
"Whole code objects per thread")."""

import os

_OWNED = """
// owned_groups.py: this thread's part [lo, hi) of n elements of an object that runs whole
// on thread `owner` (modulo the number of threads): all of them there, none elsewhere.
inline void owned_block(size_t n, int owner, size_t &lo, size_t &hi)
{
    lo = 0;
    hi = omp_get_thread_num() == owner % omp_get_num_threads() ? n : 0;
}

}  // namespace brian_stdp
#endif
"""


def _owners():
    pairs = os.environ.get("OWNERS", "exc:1,inh:0").split(",")
    return {group: int(thread) for group, thread in (p.split(":") for p in pairs)}


def edit_header(text):
    end = "}  // namespace brian_stdp\n#endif\n"
    assert text.endswith(end), "the header changed"
    return text[: -len(end)] + _OWNED


def edit(name, text):
    for group, thread in _owners().items():
        if name.startswith(f"{group}_stateupdater_codeobject"):
            before = "brian_stdp::block(_N, _lo, _hi);"
            assert text.count(before) == 1, f"{name}: the template changed"
            return text.replace(before, f"brian_stdp::owned_block(_N, {thread}, _lo, _hi);")
        if name.startswith(f"{group}_spike_thresholder_codeobject"):
            space = f"_ptr_array_{group}__spikespace"
            edits = [("brian_stdp::block(N, _lo, _hi);",
                      f"brian_stdp::owned_block(N, {thread}, _lo, _hi);"),
                     ("const bool _down = brian_stdp::descends();", "const bool _down = false;"),
                     (f"brian_stdp::gather_events({space}, N, _count - (long)_lo, _thread_counts);",
                      f"if (_hi > _lo) {space}[N] = _count;")]
            for before, after in edits:
                assert text.count(before) == 1, f"{name}: the template changed ({before})"
                text = text.replace(before, after)
            return text
    return text
