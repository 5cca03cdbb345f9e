"""``--silence-below K``: the neurons that won fewer than K training images stay silent in
the label and test phases, in ``predict`` and in a compact export; training is untouched."""

import dataclasses

import numpy as np
import pytest

from brian_stdp.data.datasets import load_dataset
from brian_stdp.errors import ConfigError
from brian_stdp.model.spec import load_model
from brian_stdp.run import main
from brian_stdp.training import compact as compact_form
from brian_stdp.training import rundir, scoring
from brian_stdp.training.checkpoint import load_checkpoint
from brian_stdp.training.classify import predict_images
from brian_stdp.training.evaluation import few_wins
from brian_stdp.training.trainer import RunConfig, Trainer, check_silencing

PLAIN = RunConfig(neurons=10, train=120, label=60, test=40, chunk=50, seed=5)
#: About the mean number of wins per neuron (120 images, 10 neurons): silences some, not all.
BELOW = 12


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The same run without and with ``--silence-below BELOW``: their folders."""
    root = tmp_path_factory.mktemp("silencing")
    Trainer(PLAIN, root / "plain", progress=False).run()
    Trainer(dataclasses.replace(PLAIN, silence_below=BELOW), root / "silenced",
            progress=False).run()
    return root / "plain", root / "silenced"


def _records(run_dir):
    return load_checkpoint(run_dir / rundir.CHECKPOINT)[2]


@pytest.mark.standalone_compatible
def test_training_and_the_trained_state_are_untouched(runs):
    plain, silenced = runs
    for key, value in _records(plain)["train"].items():
        np.testing.assert_array_equal(_records(silenced)["train"][key], value, err_msg=key)
    a, b = (rundir.load_arrays(path / rundir.STATE) for path in runs)
    np.testing.assert_array_equal(a["theta"], b["theta"])  # saved as trained, not raised
    np.testing.assert_array_equal(a["weights"], b["weights"])
    assert "silenced" not in a and "silenced_neurons" not in rundir.load_json(
        plain / rundir.METRICS)


@pytest.mark.standalone_compatible
def test_silenced_neurons_never_fire_in_label_and_test(runs):
    plain, silenced = runs
    records = _records(silenced)
    mask = few_wins(records["train"]["winner"], PLAIN.neurons, BELOW)
    assert 0 < mask.sum() < PLAIN.neurons, "the test needs some silenced, some not"
    for phase in ("label", "test"):
        counts = records[phase]["counts"]
        assert counts[:, mask].sum() == 0, phase
        assert counts[:, ~mask].sum() > 0, phase
    assert _records(plain)["test"]["counts"][:, mask].sum() > 0, "they fire when not silenced"
    metrics = rundir.load_json(silenced / rundir.METRICS)
    assert metrics["silenced_neurons"] == metrics["history"][-1]["silenced_neurons"] \
        == int(mask.sum())
    assert metrics["neuron_usage"]["never_won_spike_share"] == 0.0
    np.testing.assert_array_equal(rundir.load_arrays(silenced / rundir.STATE)["silenced"], mask)


@pytest.mark.standalone_compatible
def test_predict_and_a_compact_export_keep_them_silent(runs, tmp_path):
    _, silenced = runs
    mask = rundir.load_arrays(silenced / rundir.STATE)["silenced"]
    compact = tmp_path / "compact"
    compact_form.export(silenced, compact)
    np.testing.assert_array_equal(rundir.load_arrays(compact / rundir.STATE)["silenced"], mask)
    images = load_dataset("mnist", "test").images[:20]
    for run_dir in (silenced, compact):
        counts = predict_images(run_dir, images)["spike_counts"]
        assert counts[:, mask].sum() == 0 and counts.sum() > 0, run_dir


@pytest.mark.codegen_independent
def test_few_wins_known_counts_and_bad_input():
    winners = [0, 0, 2, -1, 2, 2, 3]  # wins: 2, 0, 3, 1 (neuron 4: 0)
    np.testing.assert_array_equal(few_wins(winners, 5, 0), [False] * 5)
    np.testing.assert_array_equal(few_wins(winners, 5, 1), [False, True, False, False, True])
    np.testing.assert_array_equal(few_wins(winners, 5, 3), [True, True, False, True, True])
    np.testing.assert_array_equal(few_wins([], 3, 1), [True] * 3)
    with pytest.raises(ValueError, match="winners"):
        few_wins([5], 5, 1)
    with pytest.raises(ValueError, match="below must be at least 0"):
        few_wins(winners, 5, -1)


@pytest.mark.codegen_independent
def test_silence_raises_only_the_chosen_thresholds_on_a_copy():
    state = {scoring.THETA_KEY: np.array([0.01, 0.02, 0.03]), "exc.v": np.zeros(3)}
    out = scoring.silence(state, np.array([False, True, False]))
    np.testing.assert_allclose(out[scoring.THETA_KEY], [0.01, 0.02 + scoring.SILENCE, 0.03])
    np.testing.assert_array_equal(state[scoring.THETA_KEY], [0.01, 0.02, 0.03])
    assert out["exc.v"] is state["exc.v"]
    with pytest.raises(KeyError, match="exc.theta"):
        scoring.silence({"exc.v": np.zeros(3)}, np.ones(3, dtype=bool))


@pytest.mark.codegen_independent
def test_a_model_without_an_adaptive_threshold_is_refused(edited_model, tmp_path):
    path = edited_model("models/diehl_cook_2015.toml",
                        "v > v_thresh_exc - theta_offset + theta", "v > v_thresh_exc")
    spec = load_model(path)
    check_silencing(spec, 0)  # no silencing asked: fine
    with pytest.raises(ConfigError, match="--silence-below 3: model .* no adaptive threshold"):
        check_silencing(spec, 3)
    for shipped in ("diehl_cook_2015", "diehl_cook_2015_fast_learning", "lc_snn"):
        check_silencing(load_model(shipped), 3)


@pytest.mark.codegen_independent
def test_a_model_that_resets_theta_is_refused():
    """wolff_2022 sets theta back at each image and lowers it after each input step: a
    raised theta would not keep a neuron silent."""
    with pytest.raises(ConfigError, match=r"wolff_2022 sets theta in \[groups.exc\] "
                                          r"slot_start, which would undo"):
        check_silencing(load_model("wolff_2022"), 1)


@pytest.mark.codegen_independent
@pytest.mark.parametrize("value", [-1, 1.5, True, "2"])
def test_bad_silence_below_values(value):
    with pytest.raises(ConfigError, match="--silence-below must be a whole number"):
        dataclasses.replace(PLAIN, silence_below=value).check()


def test_cli_bad_flag_or_model_exits_2_before_the_run_is_made(tmp_path, capsys, edited_model):
    with pytest.raises(SystemExit) as exit_:  # argparse's own error line
        main(["--silence-below", "x", "--out", str(tmp_path / "a"), "--quiet"])
    assert exit_.value.code == 2
    assert "--silence-below" in capsys.readouterr().err
    path = edited_model("models/diehl_cook_2015.toml",
                        "v > v_thresh_exc - theta_offset + theta", "v > v_thresh_exc")
    assert main(["--model", str(path), "--silence-below", "1", "--out", str(tmp_path / "b"),
                 "--quiet"]) == 2
    assert "no adaptive threshold" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()
    assert not (tmp_path / "b" / rundir.CONFIG).exists(), "refused before the run is made"
