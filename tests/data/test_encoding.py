"""Encoders: receptive field, regular rate code and Poisson values against hand-computed values."""

import dataclasses

import brian2
import numpy as np
import pytest

from brian_stdp.backends.network import draw_fixed
from brian_stdp.backends.session import ControllerState, RuntimeSession
from brian_stdp.data.encoding import (RECEPTIVE_FIELD_KERNEL, encode, receptive_field,
                                      regular_periods)
from brian_stdp.errors import ConfigError
from brian_stdp.model.spec import load_model

W1, W2, W3, W4 = 0.625, 0.125, -0.125, -0.5


@pytest.mark.codegen_independent
def test_kernel_is_the_papers():
    expected = [[W4, W3, W2, W3, W4],
                [W3, W2, W1, W2, W3],
                [W2, W1, 1.0, W1, W2],
                [W3, W2, W1, W2, W3],
                [W4, W3, W2, W3, W4]]
    np.testing.assert_array_equal(RECEPTIVE_FIELD_KERNEL, expected)


@pytest.mark.codegen_independent
def test_receptive_field_of_one_pixel_is_the_kernel_divided_by_255():
    image = np.zeros((1, 7, 7), dtype=np.uint8)
    image[0, 3, 3] = 255
    out = receptive_field(image)
    np.testing.assert_allclose(out[0, 1:6, 1:6], RECEPTIVE_FIELD_KERNEL, rtol=0, atol=1e-15)
    assert np.all(out[0, 0, :] == 0) and np.all(out[0, :, 6] == 0)
    half = receptive_field(image // 2)  # 127/255 of it
    np.testing.assert_allclose(half[0, 3, 3], 127 / 255)


@pytest.mark.codegen_independent
def test_receptive_field_is_a_correlation_with_zero_padding():
    # An asymmetric kernel tells correlation from convolution: with a single
    # pixel at (0, 0), out[y, x] = kernel[2 - y, 2 - x] (pixels outside are 0).
    kernel = np.arange(25, dtype=float).reshape(5, 5)
    image = np.zeros((1, 4, 4))
    image[0, 0, 0] = 255
    out = receptive_field(image, kernel)[0]
    assert out[0, 0] == kernel[2, 2] and out[0, 1] == kernel[2, 1]
    assert out[1, 0] == kernel[1, 2] and out[2, 2] == kernel[0, 0]
    assert np.all(out[3, :] == 0) and np.all(out[:, 3] == 0)
    # a full 3x3 sum by hand at an inner pixel of a random image
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(1, 6, 6)).astype(float)
    by_hand = sum(kernel[a, b] * image[0, 3 + a - 2, 2 + b - 2]
                  for a in range(5) for b in range(5)) / 255
    assert receptive_field(image, kernel)[0, 3, 2] == pytest.approx(by_hand, rel=1e-12)


@pytest.mark.codegen_independent
def test_regular_periods_by_hand():
    # min -0.5, max 1.0 map to 1 and 50 spikes per 350-step window:
    # 0.25 -> f = 1 + 49*0.75/1.5 = 25.5 -> period ceil(350/25.5) = 14
    # 0.5  -> f = 1 + 49*1.0/1.5 = 33.67 -> period ceil(10.396) = 11
    # 1.0  -> f = 50 -> period 7; 0 and -0.5 never spike.
    values = np.array([[0.0, -0.5, 0.25, 1.0, 0.5]])
    np.testing.assert_array_equal(regular_periods(values, 350), [[0, 0, 14, 7, 11]])
    # another range: 2 to 10 spikes per 100 steps; min 0.1 -> f = 2 -> period 50
    np.testing.assert_array_equal(regular_periods(np.array([[0.1, 0.3]]), 100, 2, 10),
                                  [[50, 10]])


def regular_spike_steps(period: int, steps: int) -> np.ndarray:
    """Window steps (0-based) at which a regular input with ``period`` (steps; 0 or less:
    never) spikes in a window of ``steps``: ``period - 1, 2*period - 1, ...`` below
    ``steps``, the published code's steps ``period, 2*period, ... <= steps`` counted from 1.
    The reference the network's regular input group is checked against."""
    if period <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.arange(period - 1, steps, period, dtype=np.int64)


@pytest.mark.codegen_independent
def test_regular_spike_trains_by_hand():
    # period 7: the published code's steps 7, 14, ..., 350 are window steps 6, 13, ..., 349
    np.testing.assert_array_equal(regular_spike_steps(7, 350), np.arange(6, 350, 7))
    assert len(regular_spike_steps(7, 350)) == 50
    np.testing.assert_array_equal(regular_spike_steps(11, 350)[[0, 1, -1]], [10, 21, 340])
    assert len(regular_spike_steps(11, 350)) == 31  # 11*31 = 341 <= 350 < 352
    np.testing.assert_array_equal(regular_spike_steps(350, 350), [349])
    assert len(regular_spike_steps(0, 350)) == 0


@pytest.mark.codegen_independent
def test_encode_follows_the_protocol():
    spec = load_model("wolff_2022")
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(3, 28, 28)).astype(np.uint8)
    filtered = receptive_field(images).reshape(3, -1)
    np.testing.assert_array_equal(encode(images, spec.protocol),
                                  regular_periods(filtered, 350, 1, 50))
    # the Poisson encoder: pixels as they are, or the positive filtered values on the
    # pixel scale; the Diehl & Cook protocol gives exactly the plain pixels
    np.testing.assert_array_equal(encode(images), images.reshape(3, -1).astype(float))
    np.testing.assert_array_equal(encode(images, load_model("diehl_cook_2015").protocol),
                                  encode(images, "poisson"))
    poisson_rf = dataclasses.replace(spec.protocol, encoder="poisson")
    np.testing.assert_allclose(encode(images, poisson_rf), 255 * np.maximum(filtered, 0))


@pytest.mark.codegen_independent
def test_encoder_errors_are_clear():
    images = np.zeros((1, 4, 4), dtype=np.uint8)
    with pytest.raises(ConfigError, match="unknown encoder 'morse'.*poisson, regular"):
        encode(images, "morse")
    with pytest.raises(ConfigError, match="'regular' needs the model's protocol"):
        encode(images, "regular")
    with pytest.raises(ConfigError, match="spikes_min <= spikes_max"):
        regular_periods(np.ones((1, 3)), 350, 60, 50)
    with pytest.raises(ValueError, match="shape"):
        encode(np.zeros((4, 4)), "poisson")


@pytest.mark.codegen_independent
def test_blank_image_is_silent():
    spec = load_model("wolff_2022")
    assert not np.any(encode(np.zeros((2, 28, 28), dtype=np.uint8), spec.protocol))


def test_brian2_input_layer_spikes_at_the_hand_computed_steps():
    """The network's regular input group emits exactly the encoder's spike trains."""
    spec = load_model("wolff_2022")
    n_input, slots, steps = 16, 3, 350
    periods = np.zeros((slots, n_input))
    periods[0, :5] = [7, 0, 350, 14, 11]
    periods[1, :3] = [50, 7, 1]
    periods[2, :] = 9  # the row after n_avail: must stay silent
    target = brian2.prefs.codegen.target
    brian2.prefs.codegen.target = "numpy"
    try:
        session = RuntimeSession(spec, 2, n_input, slots,
                                 draw_fixed(spec, 2, n_input, np.random.default_rng(0)))
        monitor = brian2.SpikeMonitor(session.handles["inp"], name="test_inp_spikes")
        session.handles.net.add(monitor)
        session.run_chunk(periods, 2, session.initial_state(np.random.default_rng(0)),
                          ControllerState.fresh(0), plastic=False, seed=0)
        step = np.rint(monitor.t[:] / spec.protocol.dt).astype(int)
        neuron = np.asarray(monitor.i[:])
    finally:
        brian2.prefs.codegen.target = target
    for slot in range(slots):
        for i in range(n_input):
            got = step[(neuron == i) & (step // steps == slot)] - slot * steps
            period = int(periods[slot, i]) if slot < 2 else 0
            np.testing.assert_array_equal(got, regular_spike_steps(period, steps),
                                          err_msg=f"slot {slot}, input {i}")
