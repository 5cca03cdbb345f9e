{# brian_stdp: Brian2's cpp_standalone "threshold" template. With ``thread_split``
   (backends/threads.py) every thread tests its block of the neurons and writes its
   events from the start of its block in the event space; the first thread then moves
   them together, in index order, as one thread writes them. The first thread of several
   runs through its block from the top down (brian_stdp::descends) and puts its events
   back in index order. #}
{# USES_VARIABLES { N } #}
{% extends 'common_group.cpp' %}

{% import 'thread_split.cpp' as split with context %}

{% block extra_headers %}
{{ split.include_header() }}
{% endblock %}

{% block maincode %}
       {# not_refractory and lastspike are added as needed_variables in the
       Thresholder class, we cannot use the USES_VARIABLE mechanism
       conditionally
       Same goes for "eventspace" (e.g. spikespace) which depends on the type of
       event #}

    //// MAIN CODE ////////////
    // scalar code
    const int _vectorisation_idx = -1;
    {{scalar_code|autoindent}}

    {#  Get the name of the array that stores these events (e.g. the spikespace array) #}
    {% set _eventspace = get_array_name(eventspace_variable) %}

    {% if thread_split is defined and thread_split %}
    static long _thread_counts[BRIAN_STDP_MAX_THREADS];
    size_t _lo, _hi;
    brian_stdp::block(N, _lo, _hi);
    long _count = _lo;
    const bool _down = brian_stdp::descends();
    for(size_t _step=_lo; _step<_hi; _step++)
    {% else %}
    long _count = 0;
    for(size_t _step=0; _step<N; _step++)
    {% endif %}
    {
        {% if thread_split is defined and thread_split %}
        const size_t _idx = _down ? _lo + _hi - 1 - _step : _step;
        {% else %}
        const size_t _idx = _step;
        {% endif %}
        const size_t _vectorisation_idx = _idx;
        {{vector_code|autoindent}}
        if(_cond) {
            {{_eventspace}}[_count++] = _idx;
            {% if _uses_refractory %}
            {{not_refractory}}[_idx] = false;
            {{lastspike}}[_idx] = {{t}};
            {% endif %}
        }
    }
    {% if thread_split is defined and thread_split %}
    if (_down)  // found from the top down: in index order again
        std::reverse({{_eventspace}} + _lo, {{_eventspace}} + _count);
    brian_stdp::gather_events({{_eventspace}}, N, _count - (long)_lo, _thread_counts);
    {% else %}
    {{_eventspace}}[N] = _count;
    {% endif %}
{% endblock %}

{% block after_code %}
{% set _eventspace = get_array_name(eventspace_variable) %}
{{_eventspace}}[N] = 0;  // Note that this is not an off-by-1-error: the array has N+1 elements
{% endblock %}

{% block extra_functions_cpp %}
{{ split.register('true') }}
{% endblock %}
