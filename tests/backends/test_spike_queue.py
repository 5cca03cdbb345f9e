"""The changes to Brian2's compiled program that make training faster (delay groups in the
spike queue, denormals flushed to zero, input synapses sorted by delay and delivered as runs,
the queue read in place, the lateral inhibition without per-synapse records) leave the
simulation as it was."""

import os

import brian2
import numpy as np
import pytest

from brian_stdp.backends import streamed_stores
from brian_stdp.backends.network import draw_fixed
from brian_stdp.backends.session import ControllerState, StandaloneSession
from brian_stdp.backends.spike_queue import (EDIT_VERSION, MARK, VERSION_FILE,
                                             patch_spike_queue, patched_source,
                                             record_compiled)
from brian_stdp.data.datasets import load_dataset
from brian_stdp.data.encoding import encode
from brian_stdp.model.spec import load_model

# 42 excitatory neurons: GCC vectorises the excitatory update of the faster program (from
# about 32 neurons on; 42 is no multiple of the vector's width), so that its vector loop
# and the loop's remainder are both compared with Brian2's scalar program (runs/NOTES.md,
# "Vectorised state updates").
N_NEURONS, SLOTS = 42, 12


def brian2_spike_queue() -> str:
    """The text of the spike queue that this Brian2 copies into a build folder."""
    root = os.path.dirname(brian2.__file__)
    for relative in ("synapses/spikequeue.h", "synapses/cspikequeue.cpp"):  # 2.10, 2.5
        path = os.path.join(root, relative)
        if os.path.isfile(path):
            return open(path).read()
    pytest.fail("this Brian2 has no spikequeue.h")


@pytest.mark.codegen_independent
def test_edit_applies_to_this_brian2_and_only_once():
    text = brian2_spike_queue()
    patched = patched_source(text)
    assert patched is not None, "Brian2's spikequeue.h changed: update spike_queue.py"
    assert patched.count(MARK) == 1 and "push_back(synaptic_index)" not in patched
    assert patched_source(patched) == patched


@pytest.mark.codegen_independent
def test_unknown_queue_is_left_alone(tmp_path):
    assert patched_source("class CSpikeQueue {};") is None
    assert patch_spike_queue(tmp_path) is False  # no brianlib/spikequeue.h at all
    (tmp_path / "brianlib").mkdir()
    path = tmp_path / "brianlib" / "spikequeue.h"
    path.write_text("class CSpikeQueue {};")
    assert patch_spike_queue(tmp_path) is False
    assert path.read_text() == "class CSpikeQueue {};"


@pytest.mark.codegen_independent
def test_another_versions_edit_is_made_again_and_compiled(tmp_path):
    # a build folder from a cache or run of an earlier version of this edit: make sees
    # the file as new, or it links objects compiled from the other edit
    (tmp_path / "brianlib").mkdir()
    path = tmp_path / "brianlib" / "spikequeue.h"
    current = patched_source(brian2_spike_queue())
    earlier = current.replace(f"spike queue edit {EDIT_VERSION}", "spike queue edit 0123abcd")
    path.write_text(earlier.replace("int blocks = 1;", ""))
    os.utime(path, ns=(10**18, 10**18))
    assert patched_source(path.read_text()) is None
    assert patch_spike_queue(tmp_path) is True
    assert path.read_text() == current and path.stat().st_mtime_ns > 10**18


@pytest.mark.codegen_independent
@pytest.mark.parametrize("compiled_with", ["0123abcd", None])
def test_a_program_of_another_edit_is_compiled_again(tmp_path, compiled_with):
    # a kept build folder (a run resumed after an update): Brian2 has copied its own queue
    # over the edited one, with its old time; the objects of the folder's program were
    # compiled from another version of the edit (0123abcd), or from one before the
    # version file (None)
    (tmp_path / "brianlib").mkdir()
    (tmp_path / "main").write_text("a program")
    if compiled_with:
        (tmp_path / VERSION_FILE).write_text(compiled_with)
    path = tmp_path / "brianlib" / "spikequeue.h"
    for _ in range(2):  # a compilation that stopped: the next build compiles again
        path.write_text(brian2_spike_queue())
        os.utime(path, ns=(10**18, 10**18))
        assert patch_spike_queue(tmp_path) is True
        assert MARK in path.read_text() and path.stat().st_mtime_ns > 10**18
    record_compiled(tmp_path)  # compiled
    assert (tmp_path / VERSION_FILE).read_text().strip() == EDIT_VERSION
    path.write_text(brian2_spike_queue())  # the next build of the same version
    os.utime(path, ns=(10**18, 10**18))
    assert patch_spike_queue(tmp_path) is True
    assert path.stat().st_mtime_ns == 10**18


@pytest.mark.codegen_independent
def test_patch_keeps_the_modification_time(tmp_path):
    (tmp_path / "brianlib").mkdir()
    path = tmp_path / "brianlib" / "spikequeue.h"
    path.write_text(brian2_spike_queue())
    os.utime(path, ns=(10**18, 10**18))
    assert patch_spike_queue(tmp_path) is True
    assert MARK in path.read_text() and path.stat().st_mtime_ns == 10**18


def _train_chunk(tmp_path, name, faster: bool, model="diehl_cook_2015", n_neurons=N_NEURONS,
                 code_objects=None):
    """One plastic chunk of 10 images on a small network, with or without the changes
    (the faster program of Diehl & Cook's model: without the lateral inhibition's synapses,
    ``inh_exc``; its state entry is the model file's constant). ``code_objects``: the
    ``run_code_objects`` fixture, to check the faster program's code."""
    spec = load_model(model)
    rng = np.random.default_rng(5)
    fixed = draw_fixed(spec, n_neurons, 784, rng)

    class Session(StandaloneSession):
        flush_denormals = group_delays = delay_sorted = peek_in_place = ranged_events = faster
        uniform_connections = vectorise = faster

    session = Session(spec, n_neurons, 784, SLOTS, fixed, directory=tmp_path / name)
    try:
        state = session.initial_state(rng)
        session.compile()
        if faster:
            assert MARK in (tmp_path / name / "brianlib" / "spikequeue.h").read_text()
            code = code_objects(tmp_path / name, "inp_exc_pre")
            assert "inp_exc_pre.queue[0]->peek()" in code  # the slot read in place
            delayed = bool(spec.synapses["inp_exc"].delay)  # the LC-SNN's input has none
            assert ("_n_runs" in code) == delayed  # runs of synapses
            # in runs, the arrival time (written, not read) is stored past the cache
            assert ("_brian_stdp_stream(&_ptr_array_inp_exc_t_arrival[_idx], t_arrival);"
                    in code) == delayed
            assert (session.handles.stored_order.get("inp_exc") is not None) == delayed
        if faster and model == "diehl_cook_2015":
            code = code_objects(tmp_path / name, "exc_inh_pre")
            assert "exc_inh_pre.queue[0]->peek()" in code and "_n_runs" not in code
            assert set(session.handles.uniform) == {"inh_exc"}  # no per-synapse records
            assert "inh_exc" not in session.handles.synapse_indices
        stimulus = np.zeros((SLOTS, 784))
        stimulus[:10] = encode(load_dataset("mnist", "train").images[:10])
        ctrl = ControllerState.fresh(spec.protocol.min_spikes)
        return session.run_chunk(stimulus, 10, state, ctrl, plastic=True, seed=11)
    finally:
        session.close()


def _without_denormals(values):
    values = np.asarray(values)
    if values.dtype.kind != "f":
        return values
    return np.where(np.abs(values) < np.finfo(values.dtype).tiny, 0.0, values)


@pytest.mark.standalone_compatible
@pytest.mark.parametrize("model, n_neurons", [
    ("diehl_cook_2015", N_NEURONS),
    ("lc_snn", 18),  # patches of the input, inhibition by a condition: 2 filters x 9 places
])
def test_faster_program_simulates_the_same_network(tmp_path, model, n_neurons, run_code_objects,
                                                   monkeypatch):
    monkeypatch.setattr(streamed_stores, "MIN_RUN", 1)  # stream the short runs of 42 neurons
    plain = _train_chunk(tmp_path, "brian2", faster=False, model=model, n_neurons=n_neurons)
    faster = _train_chunk(tmp_path, "faster", faster=True, model=model, n_neurons=n_neurons,
                          code_objects=run_code_objects)
    assert len(plain.spike_slot) > 20, "the comparison needs spikes"
    np.testing.assert_array_equal(faster.spike_slot, plain.spike_slot)
    np.testing.assert_array_equal(faster.spike_neuron, plain.spike_neuron)
    np.testing.assert_array_equal(faster.slot_img, plain.slot_img)
    assert faster.input_spikes == plain.input_spikes
    assert faster.state.keys() == plain.state.keys()
    for key in plain.state:  # equal to the bit, where a value is not a denormal
        np.testing.assert_array_equal(_without_denormals(faster.state[key]),
                                      _without_denormals(plain.state[key]), err_msg=key)
