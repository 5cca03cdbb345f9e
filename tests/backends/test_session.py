"""The compiled network: learning, the re-presentation rule, seeds, chunk hand-over."""

import numpy as np
import pytest

from brian_stdp.backends.network import draw_fixed
from brian_stdp.backends.session import ControllerState, StandaloneSession
from brian_stdp.data.datasets import load_dataset
from brian_stdp.data.encoding import encode
from brian_stdp.model.spec import load_model

pytestmark = pytest.mark.standalone_compatible

N_NEURONS, SLOTS = 10, 24


@pytest.fixture(scope="module")
def images():
    return encode(load_dataset("mnist", "train").images[:SLOTS])


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """A 10-neuron Diehl & Cook network compiled once for the module (device reset after)."""
    spec = load_model("diehl_cook_2015")
    rng = np.random.default_rng(1)
    fixed = draw_fixed(spec, N_NEURONS, 784, rng)
    s = StandaloneSession(spec, N_NEURONS, 784, SLOTS, fixed, directory=tmp_path_factory.mktemp("build"))
    s.initial = s.initial_state(rng)
    s.compile()
    yield s
    s.close()


def run(session, images, n_avail, plastic, seed=3, state=None, ctrl=None):
    stimulus = np.zeros((SLOTS, 784))
    stimulus[:n_avail] = images[:n_avail]
    ctrl = ctrl or ControllerState.fresh(session.spec.protocol.min_spikes)
    return session.run_chunk(stimulus, n_avail, state or session.initial, ctrl, plastic, seed)


def test_network_learns_and_normalises(session, images):
    # 8 images, then idle slots: the weights are normalised at each slot start,
    # and nothing changes them in idle slots, so the sums must be exactly the target.
    result = run(session, images, 8, plastic=True)
    w0 = session.initial["inp_exc.w"].reshape(784, N_NEURONS)
    w1 = result.state["inp_exc.w"].reshape(784, N_NEURONS)
    assert result.ctrl_img == 8, "every image must have been completed"
    assert not np.allclose(w0 / w0.sum(0) * 78, w1), "STDP must change the weights"
    np.testing.assert_allclose(w1.sum(axis=0), 78.0, rtol=1e-9)
    assert np.all((w1 >= 0) & (w1 <= 1))
    theta0, theta1 = session.initial["exc.theta"], result.state["exc.theta"]
    assert np.any(theta1 > theta0 + 0.04e-3), "spiking neurons must raise their threshold"
    assert len(result.spike_slot) > 0 and result.input_spikes > 0


def test_no_plasticity_when_labelling(session, images):
    result = run(session, images, 20, plastic=False)
    np.testing.assert_array_equal(result.state["inp_exc.w"], session.initial["inp_exc.w"])
    np.testing.assert_array_equal(result.state["exc.theta"], session.initial["exc.theta"])
    assert len(result.spike_slot) > 0


def test_representation_rule_terminates(session):
    # blank images never draw a spike: each is shown max_presentations times, brighter
    # every time, and the controller then moves on.
    blank = np.zeros((SLOTS, 784))
    max_p = session.spec.protocol.max_presentations
    result = run(session, blank, 2, plastic=False)
    assert max_p * 2 <= SLOTS
    np.testing.assert_array_equal(result.slot_img[:2 * max_p], np.repeat([0, 1], max_p))
    np.testing.assert_array_equal(result.slot_attempts[:2 * max_p],
                                  np.tile(np.arange(1, max_p + 1), 2))
    assert np.all(result.slot_img[2 * max_p:] >= 2), "after the last image: idle slots"
    assert result.ctrl_img == 2 and len(result.spike_slot) == 0


def test_a_frozen_chunk_ends_after_its_images_with_the_same_records(session, images):
    # learning off, 6 images in 24 slots: the run ends at the start of the first slot past
    # them (stops_early); what it returns equals the run through every slot
    early = run(session, images, 6, plastic=False)
    session.stops_early = False  # the same program, told to run every slot
    try:
        full = run(session, images, 6, plastic=False)
    finally:
        session.stops_early = True
    shown = int(np.count_nonzero(full.slot_img < 6))
    assert full.slots_run == SLOTS and early.slots_run == shown + 1 < SLOTS
    for name in ("slot_img", "slot_attempts", "spike_slot", "spike_neuron"):
        np.testing.assert_array_equal(getattr(early, name), getattr(full, name), err_msg=name)
    assert ((early.ctrl_img, early.ctrl_attempts, early.ctrl_count, early.input_spikes)
            == (full.ctrl_img, full.ctrl_attempts, full.ctrl_count, full.input_spikes))
    for key in ("inp_exc.w", "exc.theta"):
        np.testing.assert_array_equal(early.state[key], full.state[key])
    # learning on: every slot runs (the state goes on changing)
    assert run(session, images, 6, plastic=True).slots_run == SLOTS


def test_dim_images_are_shown_again(session, images):
    dim = images * 0.05  # too faint to draw 5 spikes at the first intensity
    result = run(session, dim, 4, plastic=False)
    assert result.slot_attempts.max() > 1
    in_use = result.slot_img < 4
    shown, attempts = result.slot_img[in_use], result.slot_attempts[in_use]
    assert shown[0] == 0 and np.all(np.diff(shown) >= 0), "an image is shown again at once"
    np.testing.assert_array_equal(np.unique(shown), np.arange(shown.max() + 1),
                                  err_msg="no image is skipped")
    for image in np.unique(shown):  # its presentations count 1, 2, 3, ... slot after slot
        np.testing.assert_array_equal(attempts[shown == image],
                                      np.arange(1, np.sum(shown == image) + 1))


def test_same_seed_same_result_other_seed_differs(session, images):
    a = run(session, images, 6, plastic=True, seed=11)
    b = run(session, images, 6, plastic=True, seed=11)
    c = run(session, images, 6, plastic=True, seed=12)
    np.testing.assert_array_equal(a.spike_neuron, b.spike_neuron)
    np.testing.assert_array_equal(a.state["inp_exc.w"], b.state["inp_exc.w"])
    assert a.input_spikes != c.input_spikes


def test_input_rates_match_poisson_expectation(session, images):
    # Input spikes of one presentation: sum over pixels of p*steps with
    # p = pixel/8 Hz * intensity * dt, 700 steps of input, intensity 2.
    result = run(session, images, 20, plastic=False)
    shown = np.flatnonzero(result.slot_img < 20)
    intensity = 2 + (result.slot_attempts[shown] - 1)
    rows = result.slot_img[shown]
    expected = np.sum(images[rows].sum(axis=1) / 8 * intensity * 0.35)
    assert result.input_spikes == pytest.approx(expected, rel=0.03)


def test_chunk_hand_over_continues_the_image_in_progress(session, images):
    # Stop a chunk in the middle of the stream and hand its state to the next chunk.
    first = run(session, images, SLOTS, plastic=True)
    assert first.ctrl_img < SLOTS, "all slots used: the last image is still in progress"
    ctrl = first.handed_on()
    rest = images[first.ctrl_img:]
    second = run(session, rest, len(rest), plastic=True, state=first.state, ctrl=ctrl)
    if first.ctrl_count >= 5 or first.ctrl_attempts >= 10:
        assert second.slot_img[0] == 1, "a finished image is not shown again"
    else:
        assert second.slot_img[0] == 0 and second.slot_attempts[0] == first.ctrl_attempts + 1
    last_spike = first.state["exc.lastspike"]
    assert np.all(last_spike < 0), "spike times are re-based to the next chunk's start"


def test_a_run_arg_file_cut_short_by_a_killed_run_is_not_read(session, images):
    """Brian2 writes the file of a run argument only where none of its name exists; a run
    killed while writing leaves it cut short (here: empty). The next run with the same
    values must write and read them whole: the same result as a clean run."""
    from brian2 import device

    clean = run(session, images, 8, plastic=True)
    names = list(device.run_args_arrays)
    assert any(name.startswith("init_stim_values_") for name in names)
    static = session.directory / "static_arrays"
    for name in names:  # what a run killed while writing its inputs leaves
        (static / name).write_bytes(b"")
    again = run(session, images, 8, plastic=True)
    np.testing.assert_array_equal(again.state["inp_exc.w"], clean.state["inp_exc.w"])
    np.testing.assert_array_equal(again.spike_neuron, clean.spike_neuron)
    assert not list(static.glob("init_*")), "no run-argument file is left behind"
