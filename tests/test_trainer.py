"""Runs: resume equals an uninterrupted run, same seed same result, clear flag errors."""

import json

import numpy as np
import pytest

from brian_stdp import rundir
from brian_stdp.errors import ConfigError, DeviceError, SimulationError
from brian_stdp.run import main
from brian_stdp.session import ChunkResult, Session
from brian_stdp.trainer import (RunConfig, Trainer, check_activity, chunk_seed, phases,
                                resume)

TINY = RunConfig(neurons=10, train=120, label=60, test=40, chunk=50, seed=5, epochs=2,
                 eval_every_epoch=True)


def _results(run_dir):
    state = rundir.load_arrays(run_dir / rundir.STATE)
    metrics = rundir.load_json(run_dir / rundir.METRICS)
    metrics.pop("timing")
    metrics.pop("train_images_per_second")
    return state, metrics


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("whole")
    Trainer(TINY, run_dir, progress=False).run()
    return run_dir


@pytest.mark.standalone_compatible
def test_uninterrupted_run_writes_a_complete_run_dir(uninterrupted):
    for name in (rundir.CONFIG, rundir.PROVENANCE, rundir.MODEL_COPY, rundir.STATE,
                 rundir.METRICS, rundir.CHECKPOINT):
        assert (uninterrupted / name).is_file(), name
    assert not (uninterrupted / "build").exists(), "the build folder is removed"
    state, metrics = _results(uninterrupted)
    assert state["weights"].shape == (784, 10)
    assert state["assignment"].shape == (10,) and state["theta"].shape == (10,)
    assert len(metrics["history"]) == 2, "evaluated after each of the 2 epochs"
    assert 0 <= metrics["accuracy_all_activity"] <= 1
    assert np.array(metrics["confusion_matrix"]).sum() <= 40
    assert (uninterrupted / "figures" / "receptive_fields.png").stat().st_size > 0
    provenance = rundir.load_json(uninterrupted / rundir.PROVENANCE)
    assert provenance["seed"] == 5 and provenance["device"] == "cpp_standalone"
    assert "brian2" in provenance["versions"]


@pytest.mark.standalone_compatible
def test_resume_after_interrupt_equals_uninterrupted_run(uninterrupted, tmp_path, monkeypatch):
    calls = {"n": 0}
    original = Session.run_chunk

    def interrupting(self, *args, **kwds):
        calls["n"] += 1
        if calls["n"] == 4:  # inside the second epoch's training
            raise KeyboardInterrupt
        return original(self, *args, **kwds)

    monkeypatch.setattr(Session, "run_chunk", interrupting)
    with pytest.raises(KeyboardInterrupt):
        Trainer(TINY, tmp_path, progress=False).run()
    assert (tmp_path / rundir.CHECKPOINT).exists() and not (tmp_path / rundir.METRICS).exists()
    monkeypatch.setattr(Session, "run_chunk", original)
    resume(tmp_path, progress=False)

    state_a, metrics_a = _results(uninterrupted)
    state_b, metrics_b = _results(tmp_path)
    assert metrics_a == metrics_b
    assert state_a.keys() == state_b.keys()
    for key in state_a:
        np.testing.assert_array_equal(state_a[key], state_b[key], err_msg=key)


@pytest.mark.standalone_compatible
def test_other_seed_gives_other_result(uninterrupted, tmp_path):
    config = RunConfig(**{**TINY.__dict__, "seed": 6, "epochs": 1, "eval_every_epoch": False})
    Trainer(config, tmp_path, progress=False).run()
    a, _ = _results(uninterrupted)
    b, _ = _results(tmp_path)
    assert not np.array_equal(a["weights"], b["weights"])


def test_phases_and_chunk_seeds():
    assert [p.name for p in phases(TINY)] == ["train-1", "label-1", "test-1", "train-2",
                                             "label-2", "test-2"]
    no_eval = RunConfig(epochs=2)
    assert [p.name for p in phases(no_eval)] == ["train-1", "train-2", "label-2", "test-2"]
    seeds = {chunk_seed(1, p, c) for p in range(3) for c in range(50)}
    assert len(seeds) == 150 and all(0 <= s < 2**32 for s in seeds)
    assert chunk_seed(1, 0, 0) == chunk_seed(1, 0, 0) != chunk_seed(2, 0, 0)


@pytest.mark.parametrize("changes, message", [
    ({"neurons": 0}, "--neurons must be a positive"),
    ({"epochs": -1}, "--epochs must be a positive"),
    ({"train": 0}, "--train must be a positive"),
    ({"train": 10, "per_class": 5}, "--train and --per-class exclude each other"),
    ({"dataset": "cifar"}, "--dataset cifar: unknown dataset"),
    ({"seed": -1}, "--seed"),
])
def test_bad_config_values(changes, message):
    with pytest.raises(ConfigError, match=message):
        RunConfig(**{**TINY.__dict__, **changes}).check()


def test_unknown_and_missing_devices():
    with pytest.raises(DeviceError, match="(?s)--device gpu: unknown device.*cpp_standalone"):
        RunConfig(device="gpu").check()
    with pytest.raises(DeviceError, match="genn"):
        RunConfig(device="genn").check()


def test_unknown_config_keys_are_rejected():
    with pytest.raises(ConfigError, match="x.json: unknown key.*neuron\\b"):
        RunConfig.from_dict({"neuron": 4}, "x.json")


@pytest.mark.parametrize("argv, message", [
    (["--neurons", "0"], "--neurons must be a positive"),
    (["--device", "nosuch"], "unknown device"),
    (["--model", "missing.toml"], "missing.toml: model file not found"),
    (["--dataset", "digits", "--train", "all", "--label", "all", "--test", "5000"],
     "--test 5000: the digits test split has only"),
    (["--dataset", "digits"], "--train 10000: "),
])
def test_cli_errors_exit_2_with_a_message(argv, message, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path / "run"), "--quiet"]) == 2
    assert message in capsys.readouterr().err


def test_cli_resume_of_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert main(["--resume", str(tmp_path), "--quiet"]) == 2
    assert "not a run directory" in capsys.readouterr().err


def test_config_file_round_trip(uninterrupted):
    saved = json.loads((uninterrupted / rundir.CONFIG).read_text())
    assert RunConfig.from_dict(saved, "config.json") == TINY


def _chunk(n_spikes, slots=10, state=None):
    return ChunkResult(state=state or {"exc.v": np.zeros(4)}, ctrl_img=slots, ctrl_attempts=1,
                       ctrl_count=5, slot_img=np.arange(slots), slot_attempts=np.ones(slots),
                       spike_slot=np.zeros(n_spikes, int), spike_neuron=np.zeros(n_spikes, int),
                       input_spikes=0, seconds=0.0)


def test_runaway_activity_is_an_error_not_a_result():
    check_activity(_chunk(10 * 4 * 10), 10, 4, "train-1")  # 10 per neuron and image: allowed
    with pytest.raises(SimulationError, match="train-1, images 1-10: 10.0.*exponential_euler"):
        check_activity(_chunk(10 * 4 * 10 + 1), 10, 4, "train-1, images 1-10")
    with pytest.raises(SimulationError, match="non-finite values in exc.v"):
        check_activity(_chunk(0, state={"exc.v": np.array([0.0, np.nan])}), 10, 4, "x")
