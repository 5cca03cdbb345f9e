"""Write-only synaptic values stored past the cache: which stores the event code streams.
(That the program so built simulates Brian2's network to the bit is checked in
test_spike_queue.py and test_threads.py.)"""

import pytest

from brian_stdp.backends.streamed_stores import stream_write_only, streams, worth_streaming

W, T_ARRIVAL, POST1 = "_ptr_array_s_w", "_ptr_array_s_t_arrival", "_ptr_array_s_post1"
# the shape of Brian2's event code for on_pre = "ge_post += w", "t_arrival = t"
CODE = f"""const int32_t _postsynaptic_idx = _ptr_array_s__synaptic_post[_idx];
double w = {W}[_idx];
double t_arrival;
w = w + 1;
t_arrival = t;
{T_ARRIVAL}[_idx] = t_arrival;
{W}[_idx] = w;"""


@pytest.mark.codegen_independent
def test_a_value_written_and_not_read_is_streamed():
    new = stream_write_only(CODE, [W, T_ARRIVAL])
    assert f"_brian_stdp_stream(&{T_ARRIVAL}[_idx], t_arrival);" in new
    assert f"{T_ARRIVAL}[_idx] = t_arrival;" not in new
    assert f"{W}[_idx] = w;" in new  # read as well: stored as before
    assert streams(new) and not streams(CODE)


@pytest.mark.codegen_independent
def test_lines_and_indentation_are_kept():
    new = stream_write_only(["    " + line for line in CODE.split("\n")], [T_ARRIVAL])
    assert new.split("\n")[5] == f"    _brian_stdp_stream(&{T_ARRIVAL}[_idx], t_arrival);"
    assert len(new.split("\n")) == len(CODE.split("\n"))


@pytest.mark.codegen_independent
@pytest.mark.parametrize("code", [
    CODE + f"\nconst double again = {T_ARRIVAL}[_idx];",  # read after the store
    CODE + f"\n{T_ARRIVAL}[_idx] = w;",  # written twice
    CODE.replace(f"{T_ARRIVAL}[_idx] = t_arrival;", f"{T_ARRIVAL}[_idx] = t_arrival + 1;"),
])
def test_a_value_read_or_stored_otherwise_is_not_streamed(code):
    assert stream_write_only(code, [W, T_ARRIVAL]) == code


@pytest.mark.codegen_independent
def test_only_the_arrays_of_the_synapses_are_streamed():
    code = CODE + f"\n{POST1}[_postsynaptic_idx] = w;"
    new = stream_write_only(code, [T_ARRIVAL, POST1])
    assert new.endswith(f"\n{POST1}[_postsynaptic_idx] = w;")
    assert stream_write_only(CODE, []) == CODE


@pytest.mark.codegen_independent
def test_short_runs_store_as_before():
    # runs of about 19 synapses (400 neurons, one thread) against 38 (1,600 on two threads)
    assert not worth_streaming(19.05) and worth_streaming(38.1)
