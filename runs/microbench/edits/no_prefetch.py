"""An edit for ``EDITS=... thread_waits.py``: the program without the prefetches of STDP at
output spikes (``brian_stdp/backends/templates/synapses.cpp``), to time what they gain."""


def edit(name, text):
    return "".join(line for line in text.splitlines(keepends=True)
                   if "__builtin_prefetch(" not in line)
