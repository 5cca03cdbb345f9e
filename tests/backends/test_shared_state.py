"""Shared model variables are part of the state a chunk hands to the next."""

import numpy as np
import pytest

from brian_stdp.backends.network import draw_fixed
from brian_stdp.backends.session import ControllerState, StandaloneSession
from brian_stdp.data.datasets import load_dataset
from brian_stdp.data.encoding import encode
from brian_stdp.model.spec import load_model

pytestmark = pytest.mark.standalone_compatible

N_NEURONS, SLOTS = 10, 12

#: models/diehl_cook_2015_annealed_learning.toml with its factor as one shared value.
SHARED_FACTOR = '''
extends = "diehl_cook_2015_annealed_learning"

[model]
name = "annealed_shared"

[equations]
learning_rate = """
lr_scale : 1 (shared)  # factor on the learning rates, one for the layer
"""
'''


def _train_two_chunks(spec, images, directory, threads):
    """Train two chunks of ``SLOTS`` slots of one compiled program on ``threads`` threads
    on ``images``, the second going on where the first stopped; the two chunks' results."""
    rng = np.random.default_rng(1)
    session = StandaloneSession(spec, N_NEURONS, 784, SLOTS, draw_fixed(spec, N_NEURONS, 784, rng),
                                directory=directory, threads=threads)
    try:
        state = session.initial_state(rng)
        session.compile()
        ctrl = ControllerState.fresh(spec.protocol.min_spikes)
        results, first = [], 0
        for seed in (3, 4):
            stimulus = np.zeros((SLOTS, images.shape[1]))
            shown = images[first:first + SLOTS]
            stimulus[:len(shown)] = shown
            result = session.run_chunk(stimulus, len(shown), state, ctrl, True, seed)
            state = result.state
            ctrl = result.handed_on()  # the image in progress, if any
            first += result.ctrl_img
            results.append(result)
        return results
    finally:
        session.close()


def test_a_shared_factor_carries_over_chunks_as_the_per_neuron_one(tmp_path):
    """The annealed learning rate kept as one shared value, on two threads (the first
    writes it), gives the per-neuron version's spikes on one thread over two chunks, and
    its weights to rounding (Brian2 multiplies the shared factor into the constants once
    per step, in another order); its value goes on from where the first chunk left it."""
    images = encode(load_dataset("mnist", "train").images[:2 * SLOTS])
    (tmp_path / "shared.toml").write_text(SHARED_FACTOR)
    shared = _train_two_chunks(load_model(tmp_path / "shared.toml"), images, tmp_path / "a", 2)
    per_neuron = _train_two_chunks(load_model("diehl_cook_2015_annealed_learning"), images,
                                   tmp_path / "b", 1)
    factor = 0.5 ** (1 / 60000)
    for slots, s, p in zip((SLOTS, 2 * SLOTS), shared, per_neuron):
        assert s.state["exc.lr_scale"].shape == (1,)
        assert p.state["exc.lr_scale"].shape == (N_NEURONS,)
        np.testing.assert_array_equal(np.unique(p.state["exc.lr_scale"]), s.state["exc.lr_scale"])
        assert s.state["exc.lr_scale"][0] == pytest.approx(2 * factor**slots, rel=1e-12)
        np.testing.assert_array_equal(s.spike_neuron, p.spike_neuron)
        np.testing.assert_array_equal(s.spike_slot, p.spike_slot)
        np.testing.assert_allclose(s.state["inp_exc.w"], p.state["inp_exc.w"], rtol=1e-12,
                                   atol=1e-15)
    assert len(shared[1].spike_neuron) > 0, "the second chunk must learn too"
