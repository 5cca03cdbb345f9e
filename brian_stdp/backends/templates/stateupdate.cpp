{# brian_stdp: Brian2's cpp_standalone "stateupdate" template (state updates and
   run_regularly code), without OpenMP. With ``thread_split`` (backends/threads.py):
   "index", every thread updates its block of the elements; "accumulate" (synapses' code
   that adds into its target, such as ``w_in_sum_post += w``), every thread its block of
   the synapses, adding into buffers of its own, which are then added to the targets in
   thread order. Synapses stored by block of targets (``ranged_events``,
   backends/delay_order.py): every thread the synapses onto its block of targets, adding
   into the targets directly. #}
{# USES_VARIABLES { N } #}
{# ALLOWS_SCALAR_WRITE #}
{% extends 'common_group.cpp' %}

{% import 'thread_split.cpp' as split with context %}

{% block extra_headers %}
{{ split.include_header() }}
{% endblock %}

{% block maincode %}
    const size_t _vectorisation_idx = -1;
    {{scalar_code|autoindent}}
    const int _N = {{constant_or_scalar('N', variables['N'])}};
    {% set _by_targets = thread_split is defined and thread_split and thread_split_targets
                         and ranged_events is defined and ranged_events %}
    {% if _by_targets %}
    size_t _lo, _hi;  // the synapses onto this thread's block of targets
    brian_stdp::synapse_block({{get_array_name(variables['_postsynaptic_idx'])}}, _N,
                              {{thread_split_targets}}, _lo, _hi);
    for(size_t _idx=_lo; _idx<_hi; _idx++)
    {% elif thread_split is defined and thread_split == 'accumulate' %}
    {% for _pointer, _size, _type in thread_accumulate %}
    static std::vector<{{_type}}> _accumulators_{{loop.index}}[BRIAN_STDP_MAX_THREADS];
    {% endfor %}
    size_t _lo, _hi;
    brian_stdp::block(_N, _lo, _hi);
    {
    {% for _pointer, _size, _type in thread_accumulate %}
    {{_type}} * const {{_pointer}} = brian_stdp::accumulator(_accumulators_{{loop.index}}, {{_size}});
    {% endfor %}
    for(size_t _idx=_lo; _idx<_hi; _idx++)
    {
        const size_t _vectorisation_idx = _idx;
        {{vector_code|autoindent}}
    }
    }
    brian_stdp::barrier();
    {% for _pointer, _size, _type in thread_accumulate %}
    brian_stdp::reduce({{_pointer}}, _accumulators_{{loop.index}}, {{_size}});
    {% endfor %}
    {% elif thread_split is defined and thread_split == 'index' %}
    size_t _lo, _hi;
    brian_stdp::block(_N, _lo, _hi);
    for(size_t _idx=_lo; _idx<_hi; _idx++)
    {% else %}
    for(int _idx=0; _idx<_N; _idx++)
    {% endif %}
    {% if _by_targets or not (thread_split is defined and thread_split == 'accumulate') %}
    {
        const size_t _vectorisation_idx = _idx;
        {{vector_code|autoindent}}
    }
    {% endif %}
{% endblock %}

{% block extra_functions_cpp %}
{{ split.register('false') }}
{% endblock %}
