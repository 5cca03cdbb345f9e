"""An edit for ``EDITS=... thread_waits.py``: the first of two threads runs through its
block of the state updates named in ``DESCEND`` (comma-separated code object names;
default: both neuron groups') from the top down, as ``threshold.cpp`` does for the
thresholds. The same result (each neuron's update reads only its own values); GCC 12
does not vectorise the descending loop. With ``RUNS=64``: in runs of 64 neurons taken
from the top down, each run upwards, which GCC vectorises (runs/NOTES.md, "Prefetching
across the blocks")."""

import os
import re

_LOOP = re.compile(r"    brian_stdp::block\(_N, _lo, _hi\);\n"
                   r"    for\(size_t _idx=_lo; _idx<_hi; _idx\+\+\)\n    (\{\n.*?\n    \})\n", re.S)


def edit(name, text):
    names = os.environ.get("DESCEND", "exc_stateupdater_codeobject,inh_stateupdater_codeobject")
    if name not in names.split(","):
        return text
    found = _LOOP.search(text)
    assert found, f"{name}: the template changed"
    body = found.group(1)
    run = os.environ.get("RUNS")
    if run:
        new = ("    brian_stdp::block(_N, _lo, _hi);\n    size_t _top = _hi;\n"
               f"    if (brian_stdp::descends())\n    for(; _top >= _lo + {run}; _top -= {run})\n"
               f"    for(size_t _k=0, _base=_top-{run}; _k<{run}; _k++)\n"
               "    {\n    const size_t _idx = _base + _k;\n    " + body + "\n    }\n"
               "    for(size_t _idx=_lo; _idx<_top; _idx++)\n    " + body + "\n")
        return text.replace(found.group(0), new)
    new = ("    brian_stdp::block(_N, _lo, _hi);\n"
           "    if (brian_stdp::descends())\n"
           "    for(size_t _idx=_hi; _idx-- > _lo; )\n    " + body + "\n    else\n"
           "    for(size_t _idx=_lo; _idx<_hi; _idx++)\n    " + body + "\n")
    return text.replace(found.group(0), new)
