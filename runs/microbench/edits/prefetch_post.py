"""An edit for ``EDITS=... thread_waits.py``: STDP at output spikes (``inp_exc_post``)
prefetches the weight, arrival time and target of the synapse ``AHEAD`` places further in
the slot's list (default 16), synapse by synapse: a timing check of whether the loop waits
on memory (each synapse of a spiking neuron lies in another input's row). Tried on
``5905848``, before the template prefetched (runs/NOTES.md, "Early serial objects"): it
is the fastest form, but with the test inside the loop GCC orders the loop's arithmetic
otherwise (weights 1 ulp off Brian2's program), so the template prefetches a piece of
16 synapses ahead instead; on the current template this edit adds its prefetches to
those."""

import os

LOOP_TOP = ("            const size_t _idx = (*_spiking_synapses)[_spiking_synapse_idx];\n")


def edit(name, text):
    if name != "inp_exc_post_codeobject":
        return text
    assert text.count(LOOP_TOP) == 1, "the template changed"
    ahead = int(os.environ.get("AHEAD", "16"))
    return text.replace(LOOP_TOP, LOOP_TOP + f"""\
            if (_spiking_synapse_idx + {ahead} < _end)
            {{
                const size_t _next = (*_spiking_synapses)[_spiking_synapse_idx + {ahead}];
                __builtin_prefetch(&_ptr_array_inp_exc_w[_next], 1);
                __builtin_prefetch(&_ptr_array_inp_exc_t_arrival[_next], 0);
                __builtin_prefetch(&_ptr_array_inp_exc__synaptic_post[_next], 0);
            }}
""")
