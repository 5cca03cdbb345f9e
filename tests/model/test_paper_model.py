"""The paper's model (models/wolff_2022.toml) against a NumPy reference of its step rule.

The reference below is written from ../shared/paper/original-model.md (the
behaviour of the study's published code), independently of the package: its
own receptive field, its own regular spike trains, and the per-step rule of
the note (input, linear leak, winner-take-all on the highest potential,
counted losers, windowed soft-bound STDP of the winner only).
"""

import math
import re

import brian2
import numpy as np
import pytest
from brian2 import ms, mV

from brian_stdp.backends.network import check_model, draw_fixed
from brian_stdp.backends.session import ChunkResult, ControllerState, RuntimeSession
from brian_stdp.data.datasets import load_dataset
from brian_stdp.errors import ModelFileError
from brian_stdp.model.files import MODELS_DIR
from brian_stdp.model.spec import load_model
from brian_stdp.training.chunks import record_chunk
from brian_stdp.training.trainer import Phase, _phase_records

WOLFF = MODELS_DIR / "wolff_2022.toml"
STEPS = 350


# -- the reference ---------------------------------------------------------------------------
def reference_spike_trains(image):
    """Boolean (350, 784) input spikes of one uint8 28x28 image, as in the note."""
    w1, w2, w3, w4 = 0.625, 0.125, -0.125, -0.5
    kernel = [[w4, w3, w2, w3, w4], [w3, w2, w1, w2, w3], [w2, w1, 1, w1, w2],
              [w3, w2, w1, w2, w3], [w4, w3, w2, w3, w4]]
    height, width = image.shape
    filtered = np.zeros((height, width))
    for y in range(height):
        for x in range(width):
            total = 0.0
            for a in range(-2, 3):
                for b in range(-2, 3):
                    if 0 <= y + a < height and 0 <= x + b < width:
                        total += kernel[2 + a][2 + b] * float(image[y + a, x + b]) / 255
            filtered[y, x] = total
    values = filtered.ravel()
    trains = np.zeros((STEPS + 1, values.size), dtype=bool)  # index = the note's step 1..350
    for i, value in enumerate(values):
        f = np.interp(value, [values.min(), values.max()], [1, 50])
        period = math.ceil(STEPS / f)
        if value > 0:
            trains[period:STEPS + 1:period, i] = True
    return trains[1:]  # row k: step k + 1 of the note, step k of a presentation


def reference_step_rule(weights, images, p, plastic):
    """Run the note's step rule over ``images`` from ``weights``.

    Parameters
    ----------
    weights : ndarray, shape (784, n_neurons)
        Initial weights (copied).
    images : ndarray, shape (n_images, 28, 28), uint8
    p : dict of str to float
        The model file's parameters in SI units (volt, second), so that the
        arithmetic is the same as in the simulation.
    plastic : bool
        Learning on (training) or off (testing).

    Returns
    -------
    counts : ndarray, shape (n_images, n_neurons)
        Spikes per neuron and image: winners plus losers above their threshold.
    winners : ndarray, shape (n_images,)
        Neuron of each image's last winning spike (-1: none).
    weights : ndarray, shape (784, n_neurons)
    """
    w = np.array(weights, dtype=float)
    n_neurons = w.shape[1]
    t_ref = int(round(p["t_ref"] / 1e-3))
    window = int(round(p["window"] / 1e-3))
    potentiation = [p["a_minus"] * (math.exp(-age * 1e-3 / p["tau_minus"]) - p["stdp_offset"])
                    for age in range(window + 1)]
    depression = -p["a_plus"] * (math.exp(-p["t_ltd"] / p["tau_plus"]) - p["stdp_offset"])
    counts = np.zeros((len(images), n_neurons), dtype=int)
    winners = np.full(len(images), -1)
    for n, image in enumerate(images):
        trains = reference_spike_trains(image)
        v = np.full(n_neurons, p["v_rest"])
        theta = np.full(n_neurons, p["v_thresh"])
        rest_until = np.full(n_neurons, -1)
        for step in range(STEPS):
            active = rest_until < step
            for i in np.flatnonzero(trains[step]):  # 1. input, in input order
                v[active] += w[i, active] * p["w_unit"]
            leaking = active & (v > p["v_rest"])  # 2. spike drop and threshold drop
            theta[leaking & (theta > p["v_thresh"])] -= p["theta_drop"]
            v[leaking] -= p["v_drop"]
            winner = int(np.argmax(v))  # 3. the only candidate
            if not (active[winner] and v[winner] >= theta[winner]):
                continue
            counts[n, winner] += 1
            winners[n] = winner
            losers = np.arange(n_neurons) != winner
            counts[n, losers & active & (v > theta)] += 1
            if plastic:  # 4. STDP on the winner's synapses
                for i in range(w.shape[0]):
                    recent = np.flatnonzero(trains[max(step - window, 0):step + 1, i])
                    if recent.size:
                        age = step - (max(step - window, 0) + recent[-1])
                        dw = p["sigma"] * potentiation[age] * (p["w_max"] - w[i, winner]) ** p["mu"]
                    else:
                        dw = p["sigma"] * depression * (w[i, winner] - p["w_min"]) ** p["mu"]
                    w[i, winner] = min(max(w[i, winner] + dw, p["w_min"]), p["w_max"])
            v[losers] = p["v_inh"]
            rest_until[losers] = step + t_ref
            v[winner] = p["v_hyper"]
            theta[winner] += p["theta_plus"]
            rest_until[winner] = step + t_ref
    return counts, winners, w


# -- the simulation --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def spec():
    return load_model("wolff_2022")


@pytest.fixture(scope="module")
def images():
    return load_dataset("mnist", "train").images[:4]


def simulate(spec, weights, images, plastic):
    """Counts, winners and weights from the Brian2 model (runtime device, numpy target)."""
    from brian_stdp.data.encoding import encode

    n_neurons, slots = weights.shape[1], len(images)
    target = brian2.prefs.codegen.target
    brian2.prefs.codegen.target = "numpy"
    try:
        session = RuntimeSession(spec, n_neurons, 784, slots,
                                 draw_fixed(spec, n_neurons, 784, np.random.default_rng(0)))
        state = session.initial_state(np.random.default_rng(0))
        state["inp_exc.w"] = weights.reshape(-1).copy()
        result = session.run_chunk(encode(images, spec.protocol), slots, state,
                                   ControllerState.fresh(0), plastic=plastic, seed=0)
    finally:
        brian2.prefs.codegen.target = target
    assert np.array_equal(result.slot_img, np.arange(slots)), "one slot per image"
    counts = np.zeros((slots, n_neurons), dtype=int)
    np.add.at(counts, (result.spike_slot, result.spike_neuron), 1)
    winners = np.full(slots, -1)
    for slot in range(slots):
        mine = result.winner_neuron[result.winner_slot == slot]
        winners[slot] = mine[-1] if mine.size else -1
    return counts, winners, result.state["inp_exc.w"].reshape(784, n_neurons)


def parameters_si(spec):
    return {name: float(value) for name, value in spec.parameters.items()}


@pytest.mark.parametrize("start, n_neurons, plastic", [
    ("ones", 8, True),      # the paper's start: all weights 1, ties broken by index
    ("random", 8, True),    # distinct weights: a real argmax at every step
    ("random", 8, False),   # testing: no learning, the same dynamics
])
def test_brian2_model_matches_the_numpy_step_rule(spec, images, start, n_neurons, plastic):
    """Brian2 and the NumPy reference, from the same weights, on 4 MNIST images.

    Tolerance: spike counts (winners and counted losers, per image and
    neuron) and winners must agree exactly, and every weight within 1e-9.
    Both compute in float64 with the same constants (the model file's values
    in SI units) and add inputs in the same order, so the potentials are
    bitwise equal while the weights are; the STDP update differs only in the
    order of floating-point operations (code generation rearranges the
    products, exp((t_arrival - t)/tau) of times in seconds against exp(-age/5)),
    a few 1e-16 per update. A spike would only flip where a potential lands
    within such a rounding error of a threshold or of another potential.
    """
    rng = np.random.default_rng(7)
    weights = (np.ones((784, n_neurons)) if start == "ones"
               else rng.uniform(0.2, 1.0, (784, n_neurons)))
    ref_counts, ref_winners, ref_weights = reference_step_rule(weights, images,
                                                               parameters_si(spec), plastic)
    counts, winners, final = simulate(spec, weights, images, plastic)
    assert ref_counts.sum() > 0 and np.all(ref_winners >= 0), "the test must exercise spikes"
    np.testing.assert_array_equal(counts, ref_counts)
    np.testing.assert_array_equal(winners, ref_winners)
    np.testing.assert_allclose(final, ref_weights, rtol=0, atol=1e-9)
    if plastic:
        assert np.abs(final - weights).max() > 1e-3, "learning must change the weights"
    else:
        np.testing.assert_array_equal(final, weights)


def test_table_values(spec):
    p = spec.parameters
    assert p["v_inh"] == -100 * mV and p["v_thresh"] == -55 * mV and p["v_hyper"] == -90 * mV
    assert p["v_drop"] == 0.8 * mV and p["theta_drop"] == 0.4 * mV and p["v_rest"] == -70 * mV
    assert float(p["w_min"]) == 1e-5 and float(p["w_max"]) == 1.0
    assert float(p["stdp_offset"]) == 0 and float(p["sigma"]) == 0.01 and float(p["mu"]) == 0.9
    assert p["tau_plus"] == 5 * ms and p["tau_minus"] == 5 * ms
    assert float(p["a_plus"]) == 0.8 and float(p["a_minus"]) == 0.3
    proto = spec.protocol
    assert proto.dt == 1 * ms and proto.steps_present == 350 and proto.steps_per_slot == 350
    assert proto.encoder == "regular" and proto.receptive_field
    assert (proto.spikes_min, proto.spikes_max) == (1, 50)
    assert proto.labelling == "last-winner" and proto.min_spikes == 0
    assert len(spec.deviations) >= 3, "the model file must state its deviations"


def test_model_passes_brian2_checks(spec):
    check_model(spec)


def test_poisson_encoder_works_with_this_model(tmp_path, images):
    text = WOLFF.read_text().replace('encoder         = "regular"', 'encoder         = "poisson"')
    assert 'encoder         = "poisson"' in text
    path = tmp_path / "wolff_poisson.toml"
    path.write_text(text)
    spec = load_model(path)
    check_model(spec)
    counts, winners, final = simulate(spec, np.ones((784, 6)), images[:2], plastic=True)
    assert counts.sum() > 0 and np.all(winners >= 0)
    assert np.abs(final - 1).max() > 1e-3


@pytest.mark.parametrize("old, new, where, problem", [
    ('labelling       = "last-winner"', 'labelling       = "first-loser"',
     r"\[protocol\] labelling", "unknown labelling 'first-loser'"),
    ("receptive_field = true", 'receptive_field = "yes"', r"\[protocol\] receptive_field",
     "true or false"),
    ('spikes_min      = "1"', 'spikes_min      = "80"', r"\[protocol\] spikes_min",
     "spikes_min <= spikes_max"),
    ("\nthreshold_after_input = true", "\nthreshold_after_input = false",
     r"\[groups.exc\] after_input", "needs threshold_after_input"),
    ("\nthreshold_after_input = true", '\nthreshold_after_input = "yes"',
     r"\[groups.exc\] threshold_after_input", "true or false"),
    ('encoder         = "regular"', 'encoder         = "morse"', r"\[protocol\] encoder",
     "unknown encoder"),
    ('rate_scale      = "0.215*Hz"\n', "", "", "OK"),  # not needed by the regular encoder
])
def test_bad_optional_keys_name_file_and_key(edited_model, old, new, where, problem):
    path = edited_model(WOLFF, old, new)
    if problem == "OK":
        assert load_model(path).protocol.rate_scale == 0 * brian2.Hz
        poisson = edited_model(WOLFF, 'encoder         = "regular"',
                               'encoder         = "poisson"')
        text = re.sub(r'rate_scale *= "[^"]*"\n', "", poisson.read_text())
        poisson.write_text(text)
        with pytest.raises(ModelFileError, match=r'\[protocol\]: encoder = "poisson" needs '
                                                 r"rate_scale"):
            load_model(poisson)
        return
    with pytest.raises(ModelFileError, match=f"edited.toml.*{where}.*{problem}"):
        load_model(path)


def test_extra_spikes_only_on_the_output_layer(tmp_path):
    dc = (MODELS_DIR / "diehl_cook_2015.toml").read_text()
    path = tmp_path / "dc_extra.toml"
    path.write_text(dc.replace('threshold = "v > v_thresh_inh"',
                               'threshold = "v > v_thresh_inh"\nextra_spikes = "v > 0*mV"'))
    with pytest.raises(ModelFileError, match=r"\[groups.inh\] extra_spikes.*only the output"):
        load_model(path)


@pytest.mark.codegen_independent
def test_trainer_records_the_last_winner_of_each_image():
    # slots 0 and 2 hold images; slot 0 has two winner spikes and a counted loser
    # (neuron 3, after its winner in time), slot 1 is idle, slot 2 has no winner.
    result = ChunkResult(
        state={}, ctrl_img=2, ctrl_attempts=1, ctrl_count=0,
        slot_img=np.array([0, 1, 2]), slot_attempts=np.array([1, 1, 1]),
        spike_slot=np.array([0, 0, 0, 2]), spike_neuron=np.array([1, 2, 3, 3]),
        input_spikes=0, seconds=0.0, slots_run=3,
        winner_slot=np.array([0, 0]), winner_neuron=np.array([1, 2]))
    records = {}
    rec, offset = _phase_records(records, Phase("train", 1), 3, 4, 1)
    record_chunk(result, rec, offset, 3, 4, 0)
    np.testing.assert_array_equal(rec["winner"], [2, -1, -1])
    np.testing.assert_array_equal(rec["spikes"], [3, 0, 1])
    # without extra events every spike is a winner: the last one of the slot
    plain = ChunkResult(state={}, ctrl_img=1, ctrl_attempts=1, ctrl_count=0,
                        slot_img=np.array([0, 1]), slot_attempts=np.array([1, 1]),
                        spike_slot=np.array([0, 0]), spike_neuron=np.array([3, 1]),
                        input_spikes=0, seconds=0.0, slots_run=2)
    records = {}
    rec, offset = _phase_records(records, Phase("train", 1), 1, 4, 1)
    record_chunk(plain, rec, offset, 1, 4, 0)
    np.testing.assert_array_equal(rec["winner"], [1])


@pytest.mark.long
@pytest.mark.standalone_compatible
def test_a_run_holds_both_evaluations(tmp_path):
    """A compiled run of the paper's model: both labellings in metrics.json and state.npz."""
    from brian_stdp.training import rundir
    from brian_stdp.training.trainer import RunConfig, Trainer

    config = RunConfig(model="wolff_2022", neurons=20, per_class=10, train=None, label=None,
                       test=200, epochs=2, eval_every_epoch=True, chunk=100, seed=1)
    metrics = Trainer(config, tmp_path, progress=False).run()
    assert metrics["labelling"] == "last-winner"
    assert [row["epoch"] for row in metrics["history"]] == [1, 2]
    for row in metrics["history"]:
        for key in ("accuracy_all_activity", "accuracy_proportion_weighting",
                    "accuracy_last_winner"):
            assert 0.2 < row[key] <= 1, f"{key} {row[key]}: far below what 20 neurons learn"
        assert np.array(row["confusion_matrix_last_winner"]).sum() <= 200
    assert metrics["accuracy_last_winner"] == metrics["history"][-1]["accuracy_last_winner"]
    state = rundir.load_arrays(tmp_path / rundir.STATE)
    assert state["assignment_last_winner"].shape == (20,)
    assert np.all(state["weights"] >= 1e-5) and np.all(state["weights"] <= 1)
    assert metrics["activity"]["shown_again_fraction"] == 0, "no re-presentation rule"


def test_cap_neurons_option_caps_the_layer_at_the_training_images(tmp_path):
    from brian_stdp.training.trainer import RunConfig, Trainer

    text = WOLFF.read_text()
    assert "cap_neurons     = false" in text
    capped = tmp_path / "capped.toml"
    capped.write_text(text.replace("cap_neurons     = false", "cap_neurons     = true"))
    config = RunConfig(model=str(capped), neurons=50, per_class=2, train=None, label=None,
                       test=10, device="runtime")
    trainer = Trainer(config, tmp_path / "run", progress=False)
    assert trainer.config.neurons == 20 and trainer.neurons_requested == 50
    as_given = Trainer(RunConfig(**{**config.__dict__, "model": "wolff_2022"}),
                       tmp_path / "run2", progress=False)
    assert as_given.config.neurons == 50, "off by default: --neurons as given"
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("cap_neurons     = false", 'cap_neurons     = "no"'))
    with pytest.raises(ModelFileError, match=r"\[protocol\] cap_neurons.*true or false"):
        load_model(bad)
