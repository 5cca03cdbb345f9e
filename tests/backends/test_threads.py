"""A time step split over threads (brian_stdp/backends/threads.py): the edit of Brian2's
network loop, which code objects split their work and how, and the simulation itself
against one thread's."""

import re

import numpy as np
import pytest

from brian_stdp.backends import step_order, streamed_stores, threads
from brian_stdp.backends.network import draw_fixed
from brian_stdp.backends.session import ControllerState, StandaloneSession
from brian_stdp.data.datasets import load_dataset
from brian_stdp.data.encoding import encode
from brian_stdp.model.files import MODELS_DIR
from brian_stdp.model.spec import load_model
from brian_stdp.training import config
from brian_stdp.training.config import AUTO_THREADS_FROM, resolve_threads

SLOTS = 12


def brian2_network_source() -> str:
    """``network.cpp`` as this Brian2 writes it into a build folder."""
    from brian2.devices.cpp_standalone.codeobject import CPPStandaloneCodeObject

    return CPPStandaloneCodeObject.templater.network(None, None, maximum_run_time=None).cpp_file


@pytest.mark.codegen_independent
def test_network_edit_applies_to_this_brian2():
    text = brian2_network_source()
    patched = threads.patched_network_source(text)
    assert patched is not None, "Brian2's network.cpp changed: update backends/threads.py"
    assert "#pragma omp parallel num_threads(BRIAN_STDP_THREADS)" in patched
    assert patched.count("brian_stdp::barrier();") == 4
    assert threads.patched_network_source("int main() {}") is None


@pytest.mark.codegen_independent
def test_patch_network_refuses_an_unknown_loop(tmp_path):
    (tmp_path / "brianlib").mkdir()
    (tmp_path / "network.cpp").write_text('#include "network.h"\nvoid Network::run() {}\n')
    with pytest.raises(RuntimeError, match="--threads 1"):
        threads.patch_network(tmp_path, 2)
    (tmp_path / "network.cpp").write_text(brian2_network_source())
    threads.patch_network(tmp_path, 3)
    threads.patch_network(tmp_path, 3)  # a second edit changes nothing
    assert (tmp_path / "network.cpp").read_text().count("omp parallel") == 1
    assert "#define BRIAN_STDP_THREADS 3" in (tmp_path / threads.HEADER).read_text()


_ALLOCATION_CHECK = r"""
#include <cstdint>
#include <cstdio>
#include <vector>
int main()
{
    // arrays of new[]: on a cache line; from 1 KB, 4 KB before and after them unused
    const std::size_t sizes[] = {0, 1, 8, 1023, 1024, 12800, 100000};
    for (std::size_t size : sizes)
    {
        char *a = new char[size];
        const std::size_t guard = ((std::size_t*)a)[-1];
        if ((std::uintptr_t)a % 64 || guard != (size >= 1024 ? 4096u : 64u))
            return 1;
        for (std::size_t k = 0; k < size; k++)  // the whole array is writable
            a[k] = 1;
        delete[] a;
    }
    // blocks of 4 KB or more of new (the synapses' vectors): on a cache line
    std::vector<double> v(600, 1.0);
    if ((std::uintptr_t)v.data() % 64)
        return 2;
    std::printf("ok\n");
    return 0;
}
"""


@pytest.mark.codegen_independent
def test_allocation_lines_up_arrays_and_guards_the_large_ones(tmp_path):
    import shutil
    import subprocess

    compiler = shutil.which("g++") or shutil.which("c++")
    if compiler is None:
        pytest.skip("no C++ compiler")
    source = tmp_path / "allocation.cpp"
    source.write_text(threads.ALLOCATION + _ALLOCATION_CHECK)
    subprocess.run([compiler, "-std=c++11", "-O1", "-fsanitize=address", str(source), "-o",
                    str(tmp_path / "check")], check=True)
    done = subprocess.run([str(tmp_path / "check")], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == "ok\n", (done.returncode, done.stderr)


@pytest.mark.codegen_independent
@pytest.mark.parametrize("count", [0, 1, threads.MAX_THREADS + 1])
def test_header_needs_two_threads_at_least(count):
    with pytest.raises(ValueError, match="threads"):
        threads.header_text(count)


@pytest.mark.codegen_independent
@pytest.mark.parametrize("cores, large", [(1, 1), (2, 1), (3, 2), (16, 2)])
def test_auto_threads_follow_the_network_size_and_leave_a_core(monkeypatch, cores, large):
    monkeypatch.setattr(config, "available_cores", lambda: cores)
    assert resolve_threads(None, AUTO_THREADS_FROM - 1) == 1
    assert resolve_threads(None, AUTO_THREADS_FROM) == large
    assert resolve_threads(3, 10) == 3  # a number asked for is kept
    assert resolve_threads(1, AUTO_THREADS_FROM) == 1


@pytest.fixture(autouse=True)
def split_small_groups(monkeypatch):
    """Split the code of the small groups of these tests too, and stream the stores of
    their short runs of synapses (:mod:`~brian_stdp.backends.streamed_stores`)."""
    monkeypatch.setattr(threads, "MIN_SPLIT", 1)
    monkeypatch.setattr(streamed_stores, "MIN_RUN", 1)


def _chunk(tmp_path, name, model, n_neurons, count):
    """One plastic chunk of 10 images with ``count`` threads: (result, build folder)."""
    spec = load_model(model)
    rng = np.random.default_rng(5)
    fixed = draw_fixed(spec, n_neurons, 784, rng)
    build = tmp_path / name
    session = StandaloneSession(spec, n_neurons, 784, SLOTS, fixed, directory=build,
                                threads=count)
    try:
        state = session.initial_state(rng)
        session.compile()
        stimulus = np.zeros((SLOTS, 784))
        stimulus[:10] = encode(load_dataset("mnist", "train").images[:10])
        ctrl = ControllerState.fresh(spec.protocol.min_spikes)
        return session.run_chunk(stimulus, 10, state, ctrl, plastic=True, seed=11), build
    finally:
        session.close()


def _bare(function: str) -> str:
    """A code object's function (``_run_exc_stateupdater_codeobject_1``) as its name
    without ``_run_``, ``_codeobject`` and Brian2's number (``exc_stateupdater``)."""
    return re.sub(r"(_codeobject)?(_\d+)?$", "", function.removeprefix("_run_"))


def _split_objects(texts) -> dict:
    """Code object name (without its number) -> its BRIAN_STDP_SPLIT line's block_local
    flag, for the code objects (``{file stem: text}``) that split their work."""
    marks = {}
    for stem, text in texts.items():
        for line in text.splitlines():
            if line.startswith("BRIAN_STDP_SPLIT("):
                marks[stem.rsplit("_codeobject", 1)[0]] = line.rstrip(")").split(", ")[1]
    return marks


@pytest.mark.standalone_compatible
def test_the_split_of_diehl_and_cooks_network(tmp_path, run_code_objects):
    _, build = _chunk(tmp_path, "two", "diehl_cook_2015", 12, 2)
    marks = _split_objects(run_code_objects(build))
    # the neuron groups' state updates and thresholds read only their own neurons
    for name in ("exc_stateupdater", "inh_stateupdater", "exc_spike_thresholder",
                 "inh_spike_thresholder"):
        assert marks.get(name) == "true", name
    # synapses: the input pathway, each thread the runs onto its block of targets, adding
    # into ge directly; the normalisation's sum and scaling, each thread the synapses onto
    # its block of targets
    for name in ("inp_exc_pre", "inp_exc_w_in_sum", "inp_exc_normalise", "exc_w_in_scale"):
        assert name in marks, name
    for name in ("inp_exc_pre", "inp_exc_w_in_sum", "inp_exc_normalise"):
        code = run_code_objects(build, name)
        assert "brian_stdp::synapse_block(" in code and "brian_stdp::reduce" not in code
    # the input pathway stores the arrival times past the cache, and fences them before
    # the barrier after it
    code = run_code_objects(build, "inp_exc_pre")
    assert "_brian_stdp_stream(&_ptr_array_inp_exc_t_arrival[_idx], t_arrival);" in code
    assert code.index("_brian_stdp_stream_fence();") > code.index("_brian_stdp_stream(&")
    # the resets stay on the first thread, the input's with its random numbers; so do the
    # one-to-one pathway and STDP at output spikes (a few events per step)
    for name in ("inp_spike_resetter", "exc_spike_resetter", "inh_spike_resetter",
                 "exc_inh_pre", "inp_exc_post"):
        assert name not in marks, name
    # the first thread runs the input's threshold, monitor and push before the barrier that
    # ends the neuron updates; the output spikes' monitor and pushes and the input's reset
    # alongside the input pathway, which waits for no gathering of the thresholds' events
    # (brian_stdp/backends/step_order.py)
    steps = step_order.plan(step_order.step_of(build))
    early = [_bare(function) for function in steps.early]
    assert early == [
        "ctrl_slot", "inp_slot", "slots", "inp_spike_thresholder", "inp_spikes",
        "inp_exc_pre_push_spikes", "exc_spikes", "exc_count_pre_push_spikes", "exc_count_pre",
        "exc_inh_pre_push_spikes", "exc_inh_pre", "inh_exc_uniform_deliver",
        "inp_exc_post_push_spikes", "inh_spike_resetter", "inp_spike_resetter"]
    assert [_bare(function) for function in steps.no_gather_wait] == [
        "exc_w_in_reset", "inp_exc_pre"]
    # the input's threshold runs beside the run that starts with the excitatory update
    position = steps.run_starts[early.index("inp_spike_thresholder")]
    assert _bare(steps.order[position]) == "exc_stateupdater"
    header = (build / step_order.HEADER).read_text()
    assert all(f"&{function}" in header for function in steps.order)


def _assert_same_network(two, one, exact: bool) -> None:
    """The same spikes and input; the state equal to the bit (``exact``), or up to the
    rounding of sums made in another order."""
    np.testing.assert_array_equal(two.spike_slot, one.spike_slot)
    np.testing.assert_array_equal(two.spike_neuron, one.spike_neuron)
    assert two.input_spikes == one.input_spikes
    for key, value in one.state.items():
        if exact:
            np.testing.assert_array_equal(two.state[key], value, err_msg=key)
        else:
            np.testing.assert_allclose(two.state[key], value, rtol=1e-9, atol=1e-12,
                                       err_msg=key)


@pytest.mark.standalone_compatible
@pytest.mark.parametrize("model, n_neurons, exact", [
    # the input pathway by blocks of targets, each target's sums in one thread's order
    ("diehl_cook_2015", 12, True),
    ("diehl_cook_2015", 13, True),  # blocks of 6 and 7 neurons
    ("lc_snn", 18, False),  # patches of the input, inhibition by a condition: 2 x 9 places
])
def test_two_threads_simulate_the_network_of_one(tmp_path, model, n_neurons, exact):
    one, _ = _chunk(tmp_path, "one", model, n_neurons, 1)
    two, _ = _chunk(tmp_path, "two", model, n_neurons, 2)
    again, _ = _chunk(tmp_path, "again", model, n_neurons, 2)
    assert len(one.spike_slot) > 20, "the comparison needs spikes"
    _assert_same_network(two, one, exact)
    # and reproducible to the bit for a given number of threads
    np.testing.assert_array_equal(again.spike_neuron, two.spike_neuron)
    for key, value in two.state.items():
        np.testing.assert_array_equal(again.state[key], value, err_msg=key)


@pytest.mark.standalone_compatible
def test_two_threads_with_one_delay_for_all_input_synapses(tmp_path, edited_model):
    # one delay: Brian2's queue pushes a source's synapses as one group, here one run per
    # block of targets
    model = edited_model(MODELS_DIR / "diehl_cook_2015.toml", 'delay = "rand()*delay_max"',
                         'delay = "5*ms"')
    one, _ = _chunk(tmp_path, "one", model, 12, 1)
    two, _ = _chunk(tmp_path, "two", model, 12, 2)
    assert len(one.spike_slot) > 20, "the comparison needs spikes"
    _assert_same_network(two, one, exact=True)
