{# brian_stdp: Brian2's cpp_standalone "stateupdate" template with the loop on one thread.
   Used (network.serial_codeobject_class) for run_regularly code that adds into another
   group's variable, such as ``w_in_sum_post += w``: under OpenMP, Brian2 splits that loop
   over threads, which then add into the same target at once and lose additions. #}
{# USES_VARIABLES { N } #}
{# ALLOWS_SCALAR_WRITE #}
{% extends 'common_group.cpp' %}

{% block maincode %}
    const size_t _vectorisation_idx = -1;
    {{scalar_code|autoindent}}
    const int _N = {{constant_or_scalar('N', variables['N'])}};
    for(int _idx=0; _idx<_N; _idx++)
    {
        const size_t _vectorisation_idx = _idx;
        {{vector_code|autoindent}}
    }
{% endblock %}
