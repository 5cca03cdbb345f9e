"""An edit for ``EDITS=... thread_waits.py``: the excitatory state update runs through
its block ``REPS`` times per call (default 2): a timing check only, it changes the
result. Where a second pass costs as much as the first, the cost is not data gone cold
between calls (runs/NOTES.md, "Prefetching across the blocks")."""

import os

LOOP = "    for(size_t _idx=_lo; _idx<_hi; _idx++)\n"


def edit(name, text):
    if name != "exc_stateupdater_codeobject":
        return text
    assert text.count(LOOP) == 1, "the template changed"
    reps = int(os.environ.get("REPS", "2"))
    return text.replace(LOOP, f"    for(int _rep=0; _rep<{reps}; _rep++)\n  " + LOOP)
