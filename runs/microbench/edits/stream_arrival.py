"""An edit for ``EDITS=... thread_waits.py``: the input pathway writes each synapse's
arrival time with a non-temporal store (``_mm_stream_si64``), the same bits, so that the
core does not first read the line it overwrites (write-allocate) and the line does not
take a place in the cache. The arrival time is written at every event and read only at
the target's spikes, a few per step (runs/NOTES.md, "Arrival times written past the
cache")."""

_STORE = "_ptr_array_inp_exc_t_arrival[_idx] = t_arrival;"
_STREAM = ("{ long long _bits; std::memcpy(&_bits, &t_arrival, sizeof _bits); "
           "_mm_stream_si64((long long*)&_ptr_array_inp_exc_t_arrival[_idx], _bits); }")


def edit(name, text):
    if not name.startswith("inp_exc_pre_codeobject"):
        return text
    assert text.count(_STORE) == 1, f"{name}: the template changed"
    text = text.replace(_STORE, _STREAM)
    # the stores are weakly ordered: fence them before another thread reads the array
    end = "\nBRIAN_STDP_SPLIT(_run_inp_exc_pre_codeobject"
    assert text.count(end) == 1, f"{name}: the registration changed"
    body_end = text.rindex("}", 0, text.index(end))
    text = text[:body_end] + "    _mm_sfence();\n" + text[body_end:]
    return "#include <immintrin.h>\n#include <cstring>\n" + text
