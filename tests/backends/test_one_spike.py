"""One spike per time step (``one_spike_per_step``, BindsNET's ``one_spike``): at most one
neuron of the group spikes in a step, the others above threshold are reset without a
spike; the choice is uniform, reproducible for a seed, and the key is checked."""

import brian2
import numpy as np
import pytest
from brian2 import EventMonitor, StateMonitor

from brian_stdp.backends import one_spike
from brian_stdp.backends.brian2genn.check import genn_problems
from brian_stdp.backends.network import draw_fixed
from brian_stdp.backends.session import ControllerState, RuntimeSession, StandaloneSession
from brian_stdp.data.datasets import load_dataset
from brian_stdp.data.encoding import encode
from brian_stdp.errors import ModelFileError
from brian_stdp.model.files import MODELS_DIR
from brian_stdp.model.spec import SILENT_RESET_EVENT, load_model

MODEL = "lc_snn_one_spike"
N_NEURONS, SLOTS, IMAGES = 18, 6, 5  # 2 filters x 9 locations


# -- the model file and the key -----------------------------------------------------------
@pytest.mark.codegen_independent
def test_variant_changes_only_the_rule_and_its_deviation():
    base, variant = load_model("lc_snn"), load_model(MODEL)
    assert variant.groups["exc"].one_spike_per_step
    assert not base.groups["exc"].one_spike_per_step
    assert {**vars(variant.groups["exc"]), "one_spike_per_step": False} == \
        vars(base.groups["exc"])
    assert variant.synapses == base.synapses and variant.protocol == base.protocol
    assert variant.deviations[1:] == base.deviations[1:]
    assert "one spike per time step" in variant.deviations[0].lower()


@pytest.mark.codegen_independent
@pytest.mark.parametrize("old, new, where, problem", [
    ("one_spike_per_step = true", 'one_spike_per_step = "yes"',
     r"\[groups.exc\] one_spike_per_step", "must be true or false"),
    ("one_spike_per_step = true", "one_spike_per_step = true\nevents = { silent_reset = "
     '"v > 0*mV" }\nthreshold_after_input = true', r"\[groups.exc\] events",
     "'silent_reset' cannot name an event"),
])
def test_bad_key_names_file_and_key(edited_model, old, new, where, problem):
    path = edited_model(MODELS_DIR / f"{MODEL}.toml", old, new)
    with pytest.raises(ModelFileError, match=f"edited.toml: {where}: {problem}"):
        load_model(path)


@pytest.mark.codegen_independent
def test_command_line_refuses_a_bad_value_with_exit_2(edited_model, tmp_path, capsys):
    from brian_stdp.run import main

    path = edited_model(MODELS_DIR / f"{MODEL}.toml", "one_spike_per_step = true",
                        "one_spike_per_step = 1")
    assert main(["--model", str(path), "--neurons", "18", "--train", "10",
                 "--out", str(tmp_path / "run")]) == 2
    assert "edited.toml: [groups.exc] one_spike_per_step: must be true or false" in \
        capsys.readouterr().err


@pytest.mark.codegen_independent
def test_extra_spikes_and_one_spike_are_refused_together(tmp_path):
    if not (MODELS_DIR / "wolff_2022.toml").is_file():
        pytest.skip("models/wolff_2022.toml is not there")
    path = tmp_path / "both.toml"
    path.write_text('extends = "wolff_2022"\n[model]\nname = "both"\n'
                    "[groups.exc]\none_spike_per_step = true\n")
    (tmp_path / "wolff_2022.toml").write_text((MODELS_DIR / "wolff_2022.toml").read_text())
    with pytest.raises(ModelFileError, match=r"both.toml: \[groups.exc\] one_spike_per_step: "
                                             r"cannot be combined with extra_spikes"):
        load_model(path)


@pytest.mark.codegen_independent
def test_genn_and_other_devices_refuse_the_key(monkeypatch):
    spec = load_model(MODEL)
    assert any(p.startswith("[groups.exc] one_spike_per_step:") for p in genn_problems(spec))
    monkeypatch.setattr(one_spike.brian2, "get_device", lambda: object())  # e.g. brian2cuda
    with pytest.raises(ModelFileError, match=r"lc_snn_one_spike.toml: \[groups.exc\] "
                                             r"one_spike_per_step: runs on cpp_standalone"):
        one_spike.one_spike_rule(spec, "exc")


@pytest.mark.codegen_independent
def test_numpy_choice_is_reservoir_sampling_and_uniform():
    choose = one_spike.one_spike_rule(load_model(MODEL), "exc").functions[
        "one_spike_choose_exc"].pyfunc
    i = np.arange(8)
    above = np.array([0, 1, 0, 1, 1, 0, 1, 0])
    rng = np.random.default_rng(0)
    counts = np.zeros(8, dtype=int)
    for _ in range(4000):
        r = rng.random(8)
        pick = choose(i, above, r)[0]
        chosen, k = -1, 0  # the C++ loop, neuron by neuron
        for n in i:
            if above[n]:
                k += 1
                chosen = n if r[n] * k < 1 else chosen
        assert pick == chosen
        counts[pick] += 1
    assert counts[above == 0].sum() == 0
    np.testing.assert_allclose(counts[above == 1] / 4000, 0.25, atol=0.03)  # 4 sd
    assert choose(i, np.zeros(8), rng.random(8))[0] == -1


# -- the compiled network -----------------------------------------------------------------
class RecordedSession(StandaloneSession):
    """A session whose network also records the silent resets and v, theta at the end of
    every step."""

    def _make_network(self):
        handles = super()._make_network()
        exc = handles["exc"]
        handles.net.add(EventMonitor(exc, SILENT_RESET_EVENT, name="exc_silent"),
                        StateMonitor(exc, ["v", "theta"], record=True, when="end",
                                     name="exc_state"))
        return handles


def _steps(times):
    return np.rint(np.asarray(times) / 1e-3).astype(np.int64)  # dt = 1 ms


def _compiled(directory, threads=1):
    """The 18-neuron one-spike network with its extra monitors, compiled."""
    spec = load_model(MODEL)
    rng = np.random.default_rng(2)
    session = RecordedSession(spec, N_NEURONS, 784, SLOTS, draw_fixed(spec, N_NEURONS, 784, rng),
                              directory=directory, threads=threads)
    try:
        session.initial = session.initial_state(rng)
        session.compile()
    except BaseException:
        session.close()
        raise
    return session


def _run(session, seed):
    stimulus = np.zeros((SLOTS, 784))
    stimulus[:IMAGES] = encode(load_dataset("mnist", "train").images[:IMAGES])
    result = session.run_chunk(stimulus, IMAGES, session.initial,
                               ControllerState.fresh(session.spec.protocol.min_spikes),
                               plastic=True, seed=seed)
    h = session.handles
    record = {"spike_t": _steps(h["exc_spikes"].t_[:]), "spike_i": np.array(h["exc_spikes"].i[:]),
              "silent_t": _steps(h["exc_silent"].t_[:]), "silent_i": np.array(h["exc_silent"].i[:]),
              "v": np.array(h["exc_state"].v_[:]), "theta": np.array(h["exc_state"].theta_[:])}
    return result, record


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The network run with seeds 7, 7 and 8; the device is released before the tests, so
    that later ones can pick another."""
    session = _compiled(tmp_path_factory.mktemp("one_spike"))
    try:
        return _run(session, seed=7), _run(session, seed=7), _run(session, seed=8)
    finally:
        session.close()


@pytest.mark.standalone_compatible
def test_at_most_one_spike_per_step_though_several_cross(runs):
    (result, rec), _, _ = runs
    assert len(rec["spike_t"]) > 20, "the test needs spikes"
    assert np.bincount(rec["spike_t"]).max() == 1
    # without the rule these steps would have had several spikes: spike + silent resets
    silent_steps = np.unique(rec["silent_t"])
    assert len(silent_steps) >= 5, "the test needs steps where several neurons cross"
    assert set(silent_steps) <= set(rec["spike_t"]), "a silent reset only beside a spike"
    spiker = dict(zip(rec["spike_t"], rec["spike_i"]))
    assert all(spiker[t] != i for t, i in zip(rec["silent_t"], rec["silent_i"]))
    assert len(result.spike_slot) == len(rec["spike_t"])  # only the chosen count


@pytest.mark.standalone_compatible
def test_silent_neurons_are_reset_refractory_and_adapt(runs):
    (result, rec), _, _ = runs
    p = load_model(MODEL).parameters
    v_reset, theta_plus, t_ref = (float(p[k]) for k in ("v_reset", "theta_plus", "t_ref"))
    t, i = rec["silent_t"], rec["silent_i"]
    np.testing.assert_allclose(rec["v"][i, t], v_reset)  # at the end of their step
    # theta rose by theta_plus at every spike and every silent reset (decay: 1e7 ms)
    events = np.bincount(np.concatenate([rec["spike_i"], i]), minlength=N_NEURONS)
    np.testing.assert_allclose(result.state["exc.theta"], events * theta_plus, rtol=1e-3)
    assert (np.bincount(i, minlength=N_NEURONS) > 0).sum() >= 2
    # refractory: no spike nor silent reset of that neuron in the next t_ref
    steps_ref = round(t_ref / 1e-3)
    all_t = np.concatenate([rec["spike_t"], t])
    all_i = np.concatenate([rec["spike_i"], i])
    for n in range(N_NEURONS):
        times = np.sort(all_t[all_i == n])
        assert np.all(np.diff(times) >= steps_ref), f"neuron {n} crossed while refractory"


@pytest.mark.standalone_compatible
def test_same_seed_same_spikes(runs):
    (_, a), (_, b), (_, c) = runs
    for key in ("spike_t", "spike_i", "silent_t", "silent_i"):
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["spike_i"], c["spike_i"]), "another seed, other spikes"


def test_runtime_device_keeps_one_spike_per_step():
    """The runtime device with the NumPy target (the group's code is NumPy's whatever the
    target; NumPy elsewhere too keeps the test short)."""
    target = brian2.prefs.codegen.target
    brian2.prefs.codegen.target = "numpy"
    spec = load_model(MODEL)
    rng = np.random.default_rng(2)
    session = RuntimeSession(spec, N_NEURONS, 784, 2, draw_fixed(spec, N_NEURONS, 784, rng))
    try:
        stimulus = encode(load_dataset("mnist", "train").images[:2])
        session.run_chunk(stimulus, 2, session.initial_state(rng),
                          ControllerState.fresh(spec.protocol.min_spikes), plastic=True, seed=3)
        steps = _steps(session.handles["exc_spikes"].t_[:])
        assert len(steps) > 5 and np.bincount(steps).max() == 1
    finally:
        session.close()
        brian2.prefs.codegen.target = target


@pytest.mark.long
@pytest.mark.standalone_compatible
def test_two_threads_keep_the_rule(tmp_path):
    """With 2 threads (backends/threads.py) the group's code stays on the first thread:
    one spike per step, the same spikes for the same seed."""
    session = _compiled(tmp_path, threads=2)
    try:
        (_, a), (_, b) = _run(session, seed=7), _run(session, seed=7)
    finally:
        session.close()
    assert len(a["silent_t"]) > 5 and np.bincount(a["spike_t"]).max() == 1
    for key in ("spike_t", "spike_i", "silent_t", "silent_i"):
        np.testing.assert_array_equal(a[key], b[key])
