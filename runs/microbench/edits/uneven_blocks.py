"""An edit for ``EDITS=... thread_waits.py``: with two threads, the first thread's block
is the share ``SHARE`` (default 0.52) of each group's elements, in the C++ blocks and in
the blocks by which the input synapses are stored alike (runs/NOTES.md, "Prefetching
across the blocks"). Loaded before the program is built, it replaces the blocks of
``brian_stdp.backends.threads`` in this process."""

import os

import brian_stdp.backends.threads as threads

SHARE = float(os.environ.get("SHARE", "0.52"))
_even = threads.block_starts


def _uneven(n, blocks):
    return [0, int(n * SHARE), n] if blocks == 2 else _even(n, blocks)


threads.block_starts = _uneven
_START = "    return n * thread / threads;\n"
assert _START in threads._HEADER_TEXT, "the header changed"
threads._HEADER_TEXT = threads._HEADER_TEXT.replace(
    _START, f"    if (threads == 2 && thread == 1) return (size_t)(n * {SHARE!r});\n" + _START)


def edit(name, text):
    return text
