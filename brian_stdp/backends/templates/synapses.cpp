{# brian_stdp: Brian2's cpp_standalone "synapses" template (the event code of a pathway),
   reading the spike queue's slot in place. Brian2's SynapticPathway::peek() copies the
   slot of every thread's queue into one vector before the loop: with one thread (no
   OpenMP) that copy holds the same indices in the same order, so this template reads the
   one queue's slot instead (network.pathway_codeobject_class).
   With ``ranged_events`` (network.ranged_codeobject_class), a presynaptic pathway's queue
   holds runs of synapses, (first synapse, number of synapses) pairs
   (backends/spike_queue.py, store_ranges): the loop runs through each run, the same
   synapses in the same order as the list of indices it replaces. #}
{% extends 'common_synapses.cpp' %}

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

    {% if ranged_events is defined and ranged_events and pathway.prepost == 'pre'
          and openmp_pragma('get_num_threads') == '1' %}
    {
    std::vector<int> *_runs = {{pathway.name}}.queue[0]->peek();
    const int _num_run_values = _runs->size();
    for(int _run=0; _run<_num_run_values; _run+=2)
    {
        const size_t _first = (*_runs)[_run];
        const size_t _stop = _first + (*_runs)[_run + 1];
        for(size_t _idx=_first; _idx<_stop; _idx++)
        {
            const size_t _vectorisation_idx = _idx;
            {{vector_code|autoindent}}
        }
    }
    }
    {% else %}
    {{ openmp_pragma('parallel') }}
    {
    {% if openmp_pragma('get_num_threads') == '1' %}
    std::vector<int> *_spiking_synapses = {{pathway.name}}.queue[0]->peek();
    {% else %}
    std::vector<int> *_spiking_synapses = {{pathway.name}}.peek();
    {% endif %}
    const int _num_spiking_synapses = _spiking_synapses->size();

    {% if _non_synaptic %}
    {{ openmp_pragma('master') }}
    {
        for(int _spiking_synapse_idx=0;
            _spiking_synapse_idx<_num_spiking_synapses;
            _spiking_synapse_idx++)
        {
            const size_t _idx = (*_spiking_synapses)[_spiking_synapse_idx];
            const size_t _vectorisation_idx = _idx;
            {{vector_code|autoindent}}
        }
    }
    {% else %}
    {{ openmp_pragma('static') }}
    for(int _spiking_synapse_idx=0;
        _spiking_synapse_idx<_num_spiking_synapses;
        _spiking_synapse_idx++)
    {
        const size_t _idx = (*_spiking_synapses)[_spiking_synapse_idx];
        const size_t _vectorisation_idx = _idx;
        {{vector_code|autoindent}}
    }

    {% endif %}
    }
    {% endif %}
{% endblock %}


{% block extra_functions_cpp %}
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
