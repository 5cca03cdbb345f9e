"""Label and test with the weights held (ModelSpec.frozen, Session.evaluation_spec): the
same spikes, to the bit, as the trained model with learning off."""

from dataclasses import replace

import numpy as np
import pytest

from brian_stdp.backends.network import draw_fixed
from brian_stdp.backends.session import ControllerState, RuntimeSession, StandaloneSession
from brian_stdp.data.datasets import load_dataset
from brian_stdp.data.encoding import encode
from brian_stdp.model.files import MODELS_DIR
from brian_stdp.model.spec import _writes_pre_or_post, load_model

SLOTS = 12


@pytest.mark.codegen_independent
def test_the_frozen_model_holds_the_weights_and_clips_them():
    spec = load_model("diehl_cook_2015")
    frozen = spec.frozen()
    assert frozen.protocol.normalise == "" and spec.protocol.normalise == "inp_exc"
    # the rule's changes are 0 where it had some; nothing else of it runs
    assert (frozen.stdp.on_pre, frozen.stdp.on_post) == ("0", "0")
    assert (frozen.stdp.after_pre, frozen.stdp.after_post) == ("", "")
    assert (frozen.stdp.ltp, frozen.stdp.ltd) == (spec.stdp.ltp, spec.stdp.ltd)
    assert frozen.groups == spec.groups and frozen.synapses == spec.synapses
    pair = load_model("diehl_cook_2015_pair_stdp").frozen()
    assert pair.stdp.on_post == "0"
    # held already: the same model, so that the trainer builds no second program
    still = replace(frozen, stdp=None)
    assert still.frozen() is still
    # the evaluation model of a session class: frozen on cpp_standalone only, and only
    # where the network has enough input synapses for it to pay for its build
    bound = StandaloneSession.FROZEN_FROM_SYNAPSES
    assert StandaloneSession.evaluation_spec(spec, bound // 784, 784) == frozen
    assert StandaloneSession.evaluation_spec(spec, bound // 784 - 1, 784) is spec
    assert RuntimeSession.evaluation_spec(spec, bound // 784, 784) is spec
    # the LC-SNN's neurons see a patch each (144 pixels): the bound counts its synapses
    lc = load_model("lc_snn").for_evaluation()
    assert lc.fan_in(784) == 144
    assert StandaloneSession.evaluation_spec(lc, 1600, 784) is lc
    assert StandaloneSession.evaluation_spec(lc, -(-bound // 144), 784) == lc.frozen()
    # counted on the trained synapses, normalised or not
    unnormalised = replace(lc, protocol=replace(lc.protocol, normalise=""))
    assert unnormalised.fan_in(784) is None and unnormalised.plastic_fan_in(784) == 144
    assert StandaloneSession.evaluation_spec(unnormalised, 1600, 784) is unnormalised
    assert spec.plastic_fan_in(784) == 784 and still.plastic_fan_in(784) is None


@pytest.mark.codegen_independent
@pytest.mark.parametrize("code, writes", [
    ("t_arrival = t", False),
    ("# post1_post = 0\n\nw = clip(w + post1_post, 0, wmax)  # reads it", False),
    ("t_arrival = t\npost1_post+=0  # a neuron variable", True),
    ("ge_pre = ge_pre == 1", True),
    ("x_post //= 2", True),  # an operator the former regex did not know
    ("w +", True),  # unreadable: counted as writing, so the trained model stays
])
def test_writes_pre_or_post_reads_the_assigned_name(code, writes):
    assert _writes_pre_or_post(code) is writes


@pytest.mark.codegen_independent
def test_a_rule_that_writes_a_neuron_variable_is_not_frozen(edited_model):
    model = edited_model(MODELS_DIR / "diehl_cook_2015.toml", 'after_pre = "t_arrival = t"',
                         'after_pre = """\nt_arrival = t\npost1_post += 0\n"""')
    spec = load_model(model)
    assert spec.frozen() is spec


def _run(tmp_path, name, spec, fixed, state, plastic, seed, images):
    """One chunk of ``spec`` from ``state``: its result."""
    session = StandaloneSession(spec, 12, 784, SLOTS, fixed, directory=tmp_path / name)
    try:
        if state is None:
            state = session.initial_state(np.random.default_rng(5))
        session.compile()
        stimulus = np.zeros((SLOTS, 784))
        stimulus[:len(images)] = encode(images)
        ctrl = ControllerState.fresh(spec.protocol.min_spikes)
        return session.run_chunk(stimulus, len(images), state, ctrl, plastic=plastic,
                                 seed=seed)
    finally:
        session.close()


@pytest.mark.standalone_compatible
@pytest.mark.parametrize("model", ["diehl_cook_2015", "diehl_cook_2015_pair_stdp"])
def test_the_frozen_model_gives_the_spikes_of_the_model_with_learning_off(tmp_path, model):
    spec = load_model(model)
    images = load_dataset("mnist", "train").images[:20]
    fixed = draw_fixed(spec, 12, 784, np.random.default_rng(5))
    trained = _run(tmp_path, "train", spec, fixed, None, True, 11, images[:10]).state
    state = {key: value.copy() for key, value in trained.items()}
    # weights past the bounds (a normalisation after the last clipping leaves some there):
    # the model with learning off clips them at their next event, and so must the frozen one
    w = state["inp_exc.w"]
    w[::7] = 1.05
    w[3::11] = -0.01
    held = _run(tmp_path, "held", spec, fixed, dict(state), False, 12, images[10:])
    frozen = _run(tmp_path, "frozen", spec.frozen(), fixed, dict(state), False, 12, images[10:])
    assert len(held.spike_slot) > 20, "the comparison needs spikes"
    np.testing.assert_array_equal(frozen.spike_slot, held.spike_slot)
    np.testing.assert_array_equal(frozen.spike_neuron, held.spike_neuron)
    assert frozen.input_spikes == held.input_spikes
    for key, value in held.state.items():
        if key != "inp_exc.t_arrival":  # read only by the rule
            np.testing.assert_array_equal(frozen.state[key], value, err_msg=key)
    # the clipping took place (at input events, and at output spikes for all the synapses
    # onto the neuron)
    after = held.state["inp_exc.w"]
    assert np.sum(after == 1.05) < np.sum(w == 1.05) and np.sum(w == 1.05) > 0
    assert np.sum(after == -0.01) < np.sum(w == -0.01) and np.sum(w == -0.01) > 0
