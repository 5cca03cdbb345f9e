{# brian_stdp: what every template split over threads (backends/threads.py) adds to
   Brian2's: the header of the split helpers, and the registration that has every thread
   call the code object. Imported with context by threshold.cpp, stateupdate.cpp and
   synapses.cpp. #}
{% macro include_header() %}
{% if thread_split is defined and thread_split %}
#include "brianlib/brian_stdp_threads.h"
{% endif %}
{% endmacro %}

{# gathers: "true" where the code object leaves events for brian_stdp::finish_gathers. #}
{% macro register(gathers) %}
{% if thread_split is defined and thread_split %}
BRIAN_STDP_SPLIT(_run_{{codeobj_name}}, {{block_local}}, {{gathers}})
{% endif %}
{% endmacro %}
