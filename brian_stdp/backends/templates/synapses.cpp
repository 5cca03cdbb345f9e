{# brian_stdp: Brian2's cpp_standalone "synapses" template (the event code of a pathway),
   reading the spike queue's slot in place. Brian2's SynapticPathway::peek() copies the
   slot of every thread's queue into one vector before the loop: with one thread (no
   OpenMP) that copy holds the same indices in the same order, so this template reads the
   one queue's slot instead (network.pathway_codeobject_class).
   With ``ranged_events`` (network.ranged_codeobject_class), a presynaptic pathway's queue
   holds runs of synapses, (first synapse, number of synapses) pairs
   (backends/spike_queue.py, store_ranges): the loop runs through each run, the same
   synapses in the same order as the list of indices it replaces.
   With ``thread_split`` (backends/threads.py) and runs: the synapses are stored by block
   of targets (backends/delay_order.py), so every run's targets are in one thread's block;
   every thread runs the event code of the runs onto its block, writing the targets
   directly, and no two threads touch one cache line of the pathway or of its targets but
   at the ends of the blocks. Without runs: "accumulate", every thread runs the event code
   of its share of the slot's list of synapses, adding into buffers of its own in place of
   the target variables, which are then added to them in thread order; "post", every
   thread the synapses whose target is in its block of targets.
   With runs and ``stream_stores`` (runs long enough to fill cache lines), a value that the
   event code writes and does not read (an arrival time) is stored past the cache
   (backends/streamed_stores.py). #}
{% extends 'common_synapses.cpp' %}

{% import 'thread_split.cpp' as split with context %}

{% block extra_headers %}
{{ split.include_header() }}
{% if ranged_events is defined and ranged_events and stream_stores %}
{{ stream_helper }}
{% endif %}
{% endblock %}

{% set _non_synaptic = [] %}
{% for var in variables %}
    {% if variable_indices[var] not in ('_idx', '0') %}
        {% if _non_synaptic.append(1) %}{% endif %}
    {% endif %}
{% endfor %}

{% block maincode %}

    // This is only needed for the _debugmsg function below
    {# USES_VARIABLES { _synaptic_pre } #}

    // scalar code
    const size_t _vectorisation_idx = -1;
    {{scalar_code|autoindent}}
    {% set _mode = thread_split if thread_split is defined else None %}
    {# STDP at output spikes (a postsynaptic pathway): the synapses of a spiking neuron lie
       each in another source's row, so that the loop waits on memory for each one. It
       runs through the list in pieces of 16 and first fetches the synaptic values that its
       code reads (arrays indexed by the synapse) of the next piece (runs/NOTES.md, "Early
       serial objects"). Prefetching changes no value; the loop over a piece is the loop
       over the list, so that the compiler orders its arithmetic as in Brian2's template
       (tests/backends/test_spike_queue.py compares the two to the bit). #}
    {# the arrays indexed by the synapse (prefetched here, streamed below) #}
    {% set _synaptic_arrays = [] %}
    {% for var in variables | sort %}
        {% if variable_indices[var] == '_idx'
              and variables[var].__class__.__name__ in ('ArrayVariable', 'DynamicArrayVariable')
              and _synaptic_arrays.append(get_array_name(variables[var])) %}{% endif %}
    {% endfor %}
    {% set _prefetched = [] %}
    {% set _vector_text = vector_code if vector_code is string else vector_code | join('\n') %}
    {% if pathway.prepost == 'post' %}
    {% for _array in _synaptic_arrays %}
        {% if (_array ~ '[') in _vector_text and _prefetched.append(_array) %}{% endif %}
    {% endfor %}
    {% endif %}
    {% set _ranged = ranged_events is defined and ranged_events and pathway.prepost == 'pre'
                     and openmp_pragma('get_num_threads') == '1' %}
    {# the per-thread buffers are added into the targets after the events #}
    {% set _reduces = _mode == 'accumulate' and thread_accumulate and not _ranged %}
    {% if _mode %}
    {% set _post = get_array_name(variables['_postsynaptic_idx']) %}
    {% endif %}
    {% if _mode == 'post' and not _ranged %}
    long _post_lo, _post_hi;
    brian_stdp::target_block({{thread_split_targets}}, _post_lo, _post_hi);
    {% endif %}
    {% if _reduces %}
    {% for _pointer, _size, _type in thread_accumulate %}
    static std::vector<{{_type}}> _accumulators_{{loop.index}}[BRIAN_STDP_MAX_THREADS];
    {% endfor %}
    {% endif %}

    {% if _ranged %}
    {# with stream_stores, a value written at every event and read nowhere in it (an
       arrival time) is stored past the cache (backends/streamed_stores.py) #}
    {% set _event_code = stream_write_only(vector_code, _synaptic_arrays) if stream_stores
                         else vector_code %}
    std::vector<int> *_runs = {{pathway.name}}.queue[0]->peek();
    const size_t _n_runs = _runs->size() / 2;
    {% if _mode %}
    // this thread's synapses, those onto its block of targets: the runs in them are its own
    // (found once per program run; the synapses do not change while it runs)
    static size_t _own_synapses[BRIAN_STDP_MAX_THREADS][3];  // synapses + 1, first, stop
    size_t * const _own = _own_synapses[omp_get_thread_num()];
    if (_own[0] != _num_postsynaptic_idx + 1)
    {
        brian_stdp::synapse_block({{_post}}, _num_postsynaptic_idx, {{thread_split_targets}},
                                  _own[1], _own[2]);
        _own[0] = _num_postsynaptic_idx + 1;
    }
    const size_t _own_first = _own[1], _own_stop = _own[2];
    {% endif %}
    for(size_t _run=0; _run<_n_runs; _run++)
    {
        const size_t _first = (*_runs)[2 * _run];
        const size_t _stop = _first + (*_runs)[2 * _run + 1];
        {% if _mode %}
        if (_first < _own_first || _first >= _own_stop)
            continue;
        {% endif %}
        for(size_t _idx=_first; _idx<_stop; _idx++)
        {
            const size_t _vectorisation_idx = _idx;
            {{_event_code|autoindent}}
        }
    }
    {% if streams(_event_code) %}
    _brian_stdp_stream_fence();
    {% endif %}
    {% else %}
    {{ openmp_pragma('parallel') }}
    {
    {% if openmp_pragma('get_num_threads') == '1' %}
    std::vector<int> *_spiking_synapses = {{pathway.name}}.queue[0]->peek();
    {% else %}
    std::vector<int> *_spiking_synapses = {{pathway.name}}.peek();
    {% endif %}
    const int _num_spiking_synapses = _spiking_synapses->size();
    {% if _mode == 'accumulate' %}
    size_t _begin, _end;
    brian_stdp::block(_num_spiking_synapses, _begin, _end);
    {% for _pointer, _size, _type in thread_accumulate %}
    {{_type}} * const {{_pointer}} = brian_stdp::accumulator(_accumulators_{{loop.index}}, {{_size}});
    {% endfor %}
    {% else %}
    const size_t _begin = 0, _end = _num_spiking_synapses;
    {% endif %}

    {% if _non_synaptic %}
    {{ openmp_pragma('master') }}
    {
        {% if _prefetched %}
        for(size_t _piece=_begin; _piece<_end; _piece+=16)
        {
        const size_t _piece_end = std::min(_piece + 16, (size_t)_end);
        for(size_t _ahead=_piece_end; _ahead<std::min(_piece_end + 16, (size_t)_end); _ahead++)
        {
            const size_t _next = (*_spiking_synapses)[_ahead];
            {% for _array in _prefetched %}
            __builtin_prefetch(&{{_array}}[_next]);
            {% endfor %}
        }
        for(size_t _spiking_synapse_idx=_piece;
            _spiking_synapse_idx<_piece_end;
            _spiking_synapse_idx++)
        {% else %}
        for(size_t _spiking_synapse_idx=_begin;
            _spiking_synapse_idx<_end;
            _spiking_synapse_idx++)
        {% endif %}
        {
            const size_t _idx = (*_spiking_synapses)[_spiking_synapse_idx];
            {% if _mode == 'post' %}
            const long _target = {{_post}}[_idx];
            if (_target < _post_lo || _target >= _post_hi)
                continue;
            {% endif %}
            const size_t _vectorisation_idx = _idx;
            {{vector_code|autoindent}}
        }
        {% if _prefetched %}
        }
        {% endif %}
    }
    {% else %}
    {{ openmp_pragma('static') }}
    for(int _spiking_synapse_idx=_begin;
        _spiking_synapse_idx<(int)_end;
        _spiking_synapse_idx++)
    {
        const size_t _idx = (*_spiking_synapses)[_spiking_synapse_idx];
        {% if _mode == 'post' %}
        const long _target = {{_post}}[_idx];
        if (_target < _post_lo || _target >= _post_hi)
            continue;
        {% endif %}
        const size_t _vectorisation_idx = _idx;
        {{vector_code|autoindent}}
    }

    {% endif %}
    }
    {% if _reduces %}
    const bool _any_events = !{{pathway.name}}.queue[0]->peek()->empty();
    {% endif %}
    {% endif %}
    {% if _reduces %}
    if (_any_events)
    {
        brian_stdp::barrier();
        {% for _pointer, _size, _type in thread_accumulate %}
        brian_stdp::reduce({{_pointer}}, _accumulators_{{loop.index}}, {{_size}});
        {% endfor %}
    }
    {% endif %}
{% endblock %}


{% block extra_functions_cpp %}
{{ split.register('false') }}
void _debugmsg_{{codeobj_name}}()
{
    using namespace brian;
    std::cout << "Number of synapses: " << {{_dynamic__synaptic_pre}}.size() << endl;
}
{% endblock %}

{% block extra_functions_h %}
void _debugmsg_{{codeobj_name}}();
{% endblock %}

{% macro main_finalise() -%}
#ifdef DEBUG
_debugmsg_{{codeobj_name}}();
#endif
{% endmacro %}
