"""An edit for ``EDITS=... thread_waits.py``: the excitatory state update times each
run of 100 neurons of its block (TSC cycles per call, averaged), printed per thread at
the program's end ("TIMES thread T: ..."). Where a block's first neurons cost more than
the rest, its data came from another core (runs/NOTES.md, "Prefetching across the
blocks")."""

NAME = "exc_stateupdater_codeobject"
TIMES = """
#include <cstdio>
struct _TimesPer100
{
    unsigned long long cycles[2][64], calls[2];
    ~_TimesPer100()
    {
        for (int t = 0; t < 2; t++)
            if (calls[t])
            {
                std::fprintf(stderr, "TIMES thread %d:", t);
                for (int k = 0; k < 16; k++)
                    std::fprintf(stderr, " %.0f", cycles[t][k] / (double)calls[t]);
                std::fprintf(stderr, "\\n");
            }
    }
};
static _TimesPer100 _times_per_100;
"""
LOOP = "    brian_stdp::block(_N, _lo, _hi);\n    for(size_t _idx=_lo; _idx<_hi; _idx++)\n"
TIMED_LOOP = ("    brian_stdp::block(_N, _lo, _hi);\n"
              "    const int _th = omp_get_thread_num();\n    _times_per_100.calls[_th]++;\n"
              "    for (size_t _s = _lo; _s < _hi; _s += 100) {\n"
              "    const unsigned long long _c1 = __builtin_ia32_rdtsc();\n"
              "    const size_t _e = _s + 100 < _hi ? _s + 100 : _hi;\n"
              "    for(size_t _idx=_s; _idx<_e; _idx++)\n")


def edit(name, text):
    if name != NAME:
        return text
    head = f"void _run_{NAME}()\n{{\n"
    assert text.count(head) == 1 and text.count(LOOP) == 1, "the template changed"
    text = text.replace(head, TIMES + head).replace(LOOP, TIMED_LOOP)
    end = text.index("\n}\n", text.index(head))
    return (text[:end] + "\n    _times_per_100.cycles[_th][(_s - _lo) / 100] += "
            "__builtin_ia32_rdtsc() - _c1; }\n" + text[end:])
