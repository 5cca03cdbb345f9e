"""Write a pathway's write-only synaptic values past the cache (``cpp_standalone``).

The event code of Diehl & Cook's input pathway writes each synapse's arrival time
(``after_pre = "t_arrival = t"``) at every event and does not read it; only STDP at the
target's spikes, a few synapses per step, reads it. An ordinary store first reads the
cache line it writes into (write-allocate): at 6,400 neurons, the arrival time costs
about as much memory traffic per event as the weight that the code reads and writes
(runs/NOTES.md, "Arrival times written past the cache").

In the event code of runs of synapses (:mod:`~brian_stdp.backends.spike_queue`, where a
run is a stretch of consecutive synapses) whose runs are long enough to fill cache lines
(:func:`worth_streaming`), :func:`stream_write_only` writes such a value
with a non-temporal store (``_mm_stream_si64``, ``_mm_stream_si32``): the same bits, sent
to memory without reading the line or keeping it in the cache. It applies to an array
indexed by the synapse that the code writes once and reads nowhere. The code object ends
with a store fence (``_mm_sfence``), so that the values are in memory before another
thread reads them after the next barrier. Elsewhere (other processors, other value
sizes) :data:`HELPER` stores as before. The simulation is the same to the bit
(``tests/backends/test_spike_queue.py``, ``test_threads.py``).
"""

from __future__ import annotations

import re

#: The mean number of synapses per run from which a pathway streams. A streamed store
#: pays where it fills whole cache lines: in runs of about 19 synapses (400 neurons, one
#: thread) training was 10-17 % slower, in runs of 38 (1,600 neurons on two threads)
#: 4-6 % faster, and of 76 and 152 (1,600 on one thread, 6,400) 4-6 % faster
#: (runs/NOTES.md, "Arrival times written past the cache").
MIN_RUN = 32

#: The C++ helper that the event code calls for each streamed value (in the code object's
#: own file, so that one-thread and split programs alike have it).
HELPER = """\
#include <cstring>
#if defined(__x86_64__) && defined(__SSE2__)
#include <immintrin.h>
#endif
// brian_stdp: store a value that this code object writes and does not read, past the
// cache where the processor can (brian_stdp/backends/streamed_stores.py).
template <typename T>
static inline void _brian_stdp_stream(T *where, T value)
{
#if defined(__x86_64__) && defined(__SSE2__)
    if (sizeof(T) == 8)
    {
        long long bits;
        std::memcpy(&bits, &value, sizeof bits);
        _mm_stream_si64((long long*)where, bits);
        return;
    }
    if (sizeof(T) == 4)
    {
        int bits;
        std::memcpy(&bits, &value, sizeof bits);
        _mm_stream_si32((int*)where, bits);
        return;
    }
#endif
    *where = value;
}
// Make the streamed stores visible to other threads before they go on (a store fence).
static inline void _brian_stdp_stream_fence()
{
#if defined(__x86_64__) && defined(__SSE2__)
    _mm_sfence();
#endif
}
"""


def stream_write_only(vector_code, arrays) -> str:
    """``vector_code`` with each store into an array of ``arrays`` that the code writes
    once and reads nowhere (``A[_idx] = x;``) made a call of ``_brian_stdp_stream``.

    Parameters
    ----------
    vector_code : str or list of str
        The event code of one synapse, as the template receives it.
    arrays : iterable of str
        The C names of the arrays indexed by the synapse (``_ptr_array_...``).

    Returns
    -------
    str
        The code, unchanged where no array qualifies.
    """
    text = vector_code if isinstance(vector_code, str) else "\n".join(vector_code)
    for array in arrays:
        if text.count(array + "[") != 1:
            continue  # read, or written more than once, or not at all
        store = re.compile(rf"^(\s*){re.escape(array)}\[_idx\] = (\w+);$", re.M)
        text = store.sub(rf"\1_brian_stdp_stream(&{array}[_idx], \2);", text)
    return text


def streams(vector_code) -> bool:
    """Whether code that :func:`stream_write_only` returned streams any value (and so
    needs the fence)."""
    text = vector_code if isinstance(vector_code, str) else "\n".join(vector_code)
    return "_brian_stdp_stream(" in text


def worth_streaming(mean_run: float) -> bool:
    """Whether a pathway whose runs hold ``mean_run`` synapses on average streams its
    write-only values: from :data:`MIN_RUN` on."""
    return mean_run >= MIN_RUN


def template_globals(stream: bool) -> dict:
    """What the templates of runs of synapses get (``env_globals``): ``stream_stores``
    (whether to stream) and the functions and helper of this module."""
    return {"stream_stores": bool(stream), "stream_write_only": stream_write_only,
            "streams": streams, "stream_helper": HELPER}


__all__ = ["HELPER", "MIN_RUN", "stream_write_only", "streams", "template_globals",
           "worth_streaming"]
