"""An edit for ``EDITS=... thread_waits.py``: the blocks between threads start at the
nearest multiple of ``ROUND`` elements (default 128), in the C++ blocks and in the
blocks by which the input synapses are stored alike (runs/NOTES.md, "Input synapses
stored by block of targets" and "Prefetching across the blocks"). Loaded before the
program is built, it replaces the blocks of ``brian_stdp.backends.threads`` in this
process."""

import os

import brian_stdp.backends.threads as threads

ROUND = int(os.environ.get("ROUND", "128"))


def _rounded(n, blocks):
    return [min(n, (n * k // blocks + ROUND // 2) // ROUND * ROUND) if 0 < k < blocks
            else n * k // blocks for k in range(blocks + 1)]


threads.block_starts = _rounded
_START = "    return n * thread / threads;\n"
assert _START in threads._HEADER_TEXT, "the header changed"
threads._HEADER_TEXT = threads._HEADER_TEXT.replace(
    _START, "    if (thread == 0 || thread == threads) return n * thread / threads;\n"
            f"    const size_t b = (n * thread / threads + {ROUND // 2}) / {ROUND} * {ROUND};\n"
            "    return b < n ? b : n;\n")


def edit(name, text):
    return text
