"""Runs: resume equals an uninterrupted run, same seed same result, clear flag errors."""

import dataclasses
import json
import logging
import re
import shutil
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from brian_stdp.backends.session import ChunkResult, Session
from brian_stdp.errors import ConfigError, DeviceError, SimulationError
from brian_stdp.model.files import MODELS_DIR
from brian_stdp.run import main, parse_args
from brian_stdp.training import rundir
from brian_stdp.training.checkpoint import load_checkpoint
from brian_stdp.training.evaluation import neuron_usage
from brian_stdp.training.chunks import check_activity, chunk_seed
from brian_stdp.training.trainer import Phase, RunConfig, Trainer, phases, resume

# one process: the chunks counted (this process's) are then all the run's, whichever
# process would have been ready first for a label or test block
TINY = RunConfig(neurons=10, train=120, label=60, test=40, chunk=50, seed=5, epochs=2,
                 eval_every_epoch=True, workers=1)


def _results(run_dir):
    state = rundir.load_arrays(run_dir / rundir.STATE)
    metrics = rundir.load_json(run_dir / rundir.METRICS)
    metrics.pop("timing")
    metrics.pop("train_images_per_second")
    return state, metrics


def _count_chunks(patcher, stop_inside=None):
    """Count :meth:`Session.run_chunk` calls (``calls["n"]``, those that ran).

    With ``stop_inside = (run_dir, phase name)``: raise KeyboardInterrupt at the first
    call made when the checkpoint in ``run_dir`` stands inside that phase (some of its
    images done, not all), before the chunk runs.
    """
    calls = {"n": 0}
    original = Session.run_chunk

    def counting(self, *args, **kwds):
        if stop_inside is not None:
            where = _stands_at(stop_inside[0])
            if where is not None and where[0] == stop_inside[1] and where[1] > 0:
                raise KeyboardInterrupt
        calls["n"] += 1
        return original(self, *args, **kwds)

    patcher.setattr(Session, "run_chunk", counting)
    return calls


def _stands_at(run_dir):
    """(phase name, images of it done) in the checkpoint of ``run_dir``; None: none yet."""
    if not (run_dir / rundir.CHECKPOINT).exists():
        return None
    progress, _, _ = load_checkpoint(run_dir / rundir.CHECKPOINT)
    return phases(TINY)[progress.phase_index].name, progress.position


#: Where the interrupted run stops: inside the second epoch's training, after its first
#: chunk (TINY trains on 120 images in chunks of 50).
STOP_INSIDE = "train-2"


@pytest.fixture(scope="module")
def whole_run(tmp_path_factory):
    """A finished TINY run: its folder (``path``) and the chunks it ran (``chunks``)."""
    run_dir = tmp_path_factory.mktemp("whole")
    with pytest.MonkeyPatch.context() as patcher:
        calls = _count_chunks(patcher)
        Trainer(TINY, run_dir, progress=False).run()
    return SimpleNamespace(path=run_dir, chunks=calls["n"])


@pytest.fixture(scope="module")
def uninterrupted(whole_run):
    return whole_run.path


@pytest.fixture(scope="module")
def interrupted_run(tmp_path_factory):
    """A TINY run stopped by Ctrl-C inside STOP_INSIDE: its folder (``path``, copy it to
    use it) and the chunks it ran (``chunks``)."""
    run_dir = tmp_path_factory.mktemp("interrupted")
    with pytest.MonkeyPatch.context() as patcher:
        calls = _count_chunks(patcher, stop_inside=(run_dir, STOP_INSIDE))
        with pytest.raises(KeyboardInterrupt):
            Trainer(TINY, run_dir, progress=False).run()
    assert (run_dir / rundir.CHECKPOINT).exists() and not (run_dir / rundir.METRICS).exists()
    return SimpleNamespace(path=run_dir, chunks=calls["n"])


@pytest.fixture(scope="module")
def interrupted(interrupted_run):
    return interrupted_run.path


def _copy(run_dir, dest):
    shutil.copytree(run_dir, dest)
    return dest


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
def test_neuron_usage_counts_the_wins_up_to_each_test(uninterrupted):
    """Each test phase's neuron usage is that of its own test counts, against the training
    images won up to its epoch (120 per epoch); metrics.json holds the last one."""
    _, records = load_checkpoint(uninterrupted / rundir.CHECKPOINT)[1:]
    metrics = rundir.load_json(uninterrupted / rundir.METRICS)
    winners = records["train"]["winner"]
    assert len(winners) == 240
    # Only the last test phase's counts are kept: check the last epoch in full ...
    assert metrics["neuron_usage"] == neuron_usage(winners, records["test"]["counts"])
    assert metrics["history"][-1]["neuron_usage"] == metrics["neuron_usage"]
    # ... and that the first epoch's counted the first epoch's wins only.
    never_won_first = 10 - len(np.unique(winners[:120][winners[:120] >= 0]))
    assert metrics["history"][0]["neuron_usage"]["never_won"] == never_won_first


@pytest.mark.standalone_compatible
def test_resume_after_interrupt_equals_uninterrupted_run(whole_run, interrupted_run, tmp_path,
                                                         same_run,
                                                         monkeypatch, caplog):
    uninterrupted = whole_run.path
    run_dir = _copy(interrupted_run.path, tmp_path / "run")
    # It stopped where it was meant to: in the second epoch, part of its training done,
    # after the first epoch was trained and evaluated.
    progress, _, _ = load_checkpoint(run_dir / rundir.CHECKPOINT)
    assert phases(TINY)[progress.phase_index].name == STOP_INSIDE
    assert 0 < progress.position < TINY.train, progress.position
    assert len(progress.history) == 1 and not progress.done
    first_epoch = rundir.load_json(uninterrupted / rundir.METRICS)["history"][0]
    assert progress.history[0] == first_epoch
    assert interrupted_run.chunks < whole_run.chunks
    calls = _count_chunks(monkeypatch)
    with caplog.at_level(logging.INFO, logger="brian_stdp"):
        resume(run_dir, progress=False)
    # It resumed: only the chunks after the checkpoint ran, not the whole run again.
    assert calls["n"] == whole_run.chunks - interrupted_run.chunks
    # ... and its log says that the phase's last images, not all of them, ran after it.
    assert (f"{STOP_INSIDE}: {TINY.train} images, the last {TINY.train - progress.position} "
            f"of them in") in caplog.text
    assert f"test-2: {TINY.test} images in" in caplog.text  # a phase run whole here
    same_run(uninterrupted, run_dir)


@pytest.mark.standalone_compatible
def test_resume_without_a_checkpoint_says_so_and_runs_from_the_start(whole_run, same_run,
                                                                     interrupted_run,
                                                                     tmp_path, caplog):
    run_dir = _copy(interrupted_run.path, tmp_path / "run")
    (run_dir / rundir.CHECKPOINT).unlink()
    with caplog.at_level(logging.WARNING, logger="brian_stdp"):
        resume(run_dir, progress=False)
    assert f"{run_dir} holds no {rundir.CHECKPOINT}" in caplog.text
    assert "starts again from its first image" in caplog.text
    same_run(whole_run.path, run_dir)


@pytest.mark.standalone_compatible
def test_resume_of_a_finished_run_runs_nothing_and_changes_nothing(uninterrupted, tmp_path,
                                                                   monkeypatch, folder_digest):
    run_dir = _copy(uninterrupted, tmp_path / "run")
    before = folder_digest(run_dir)
    calls = _count_chunks(monkeypatch)
    metrics = resume(run_dir, progress=False)
    assert calls["n"] == 0
    assert metrics == rundir.load_json(uninterrupted / rundir.METRICS)
    assert folder_digest(run_dir) == before


@pytest.mark.parametrize("which", ["finished", "interrupted"])
@pytest.mark.standalone_compatible
def test_out_on_a_folder_holding_a_run_is_refused_and_left_alone(
        which, uninterrupted, interrupted, tmp_path, capsys, monkeypatch, folder_digest):
    run_dir = _copy(uninterrupted if which == "finished" else interrupted, tmp_path / "run")
    before = folder_digest(run_dir)
    calls = _count_chunks(monkeypatch)
    # The case: other settings into a used folder.
    assert main(["--neurons", "10", "--train", "60", "--seed", "9", "--out", str(run_dir),
                 "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert f"--resume {run_dir}" in err and "new folder" in err
    # The same settings as the run there: still refused; a checkpoint needs --resume.
    with pytest.raises(ConfigError, match="already holds a run"):
        Trainer(TINY, run_dir, progress=False)
    assert calls["n"] == 0
    assert folder_digest(run_dir) == before


def test_resume_with_other_settings_is_refused(interrupted, tmp_path, capsys, folder_digest):
    run_dir = _copy(interrupted, tmp_path / "run")
    before = folder_digest(run_dir)
    assert main(["--resume", str(run_dir), "--neurons", "20", "--seed", "9"]) == 2
    err = capsys.readouterr().err
    assert "--neurons" in err and "--seed" in err and "stored there" in err
    assert folder_digest(run_dir) == before


@pytest.mark.standalone_compatible
def test_two_threads_same_seed_same_result(tmp_path, same_run):
    config = RunConfig(neurons=10, train=60, label=30, test=20, chunk=40, seed=3, threads=2,
                       keep_build=True)
    Trainer(config, tmp_path / "a", progress=False).run()
    Trainer(config, tmp_path / "b", progress=False).run()
    # The program was built for 2 threads (brian_stdp/backends/threads.py): the time
    # step's loop in one parallel region, code objects that split their work.
    for run in "ab":
        build = tmp_path / run / "build"
        header = (build / "brianlib" / "brian_stdp_threads.h").read_text()
        assert "#define BRIAN_STDP_THREADS 2" in header, run
        assert "-fopenmp" in (build / "makefile").read_text(), run
        assert "brian_stdp::barrier()" in (build / "network.cpp").read_text(), run
        assert any("BRIAN_STDP_SPLIT" in path.read_text()
                   for path in (build / "code_objects").glob("*.cpp")), run
        assert rundir.load_json(tmp_path / run / rundir.CONFIG)["threads"] == 2
    metrics, _ = same_run(tmp_path / "a", tmp_path / "b")
    assert metrics["activity"]["spikes_per_image_last"] > 0, "the network spiked"


@pytest.mark.standalone_compatible
def test_other_seed_gives_other_result(uninterrupted, tmp_path):
    config = RunConfig(**{**TINY.__dict__, "seed": 6, "epochs": 1, "eval_every_epoch": False})
    Trainer(config, tmp_path, progress=False).run()
    a, _ = _results(uninterrupted)
    b, _ = _results(tmp_path)
    assert not np.array_equal(a["weights"], b["weights"])


def _run_with_t_present_eval(edited_model, run_dir, t_present_eval):
    """TINY with the default model plus ``[protocol] t_present_eval``; its results."""
    model = edited_model(MODELS_DIR / "diehl_cook_2015.toml", 't_rest            = "150*ms"',
                         f't_rest            = "150*ms"\nt_present_eval = "{t_present_eval}"')
    Trainer(dataclasses.replace(TINY, model=str(model)), run_dir, progress=False).run()
    assert not (run_dir / "build").exists(), "both build folders are removed"
    return _results(run_dir)


@pytest.mark.standalone_compatible
def test_label_and_test_show_the_images_for_t_present_eval(uninterrupted, edited_model,
                                                           tmp_path):
    """With ``[protocol] t_present_eval`` twice ``t_present``, a run labels and tests on
    its own program (built in build/evaluation, switched to and back after each epoch's
    training): the same training, more spikes per label and test image."""
    state, _ = _run_with_t_present_eval(edited_model, tmp_path, "700*ms")
    plain_state, _ = _results(uninterrupted)
    for key in ("weights", "theta"):
        np.testing.assert_array_equal(state[key], plain_state[key], err_msg=key)
    _, _, plain_records = load_checkpoint(uninterrupted / rundir.CHECKPOINT)
    _, _, records = load_checkpoint(tmp_path / rundir.CHECKPOINT)
    for phase in ("label", "test"):
        more, fewer = records[phase]["counts"].sum(), plain_records[phase]["counts"].sum()
        assert more > 1.5 * fewer, (phase, more, fewer)


@pytest.mark.long
@pytest.mark.standalone_compatible
def test_t_present_eval_equal_to_t_present_gives_the_same_run(uninterrupted, edited_model,
                                                              tmp_path):
    """The evaluation program switched to and back, showing the images as long as
    training does: the run of the model without the key, to the bit."""
    state, metrics = _run_with_t_present_eval(edited_model, tmp_path, "350*ms")
    plain_state, plain_metrics = _results(uninterrupted)
    assert metrics == {**plain_metrics, "model": metrics["model"]}
    for key in plain_state:
        np.testing.assert_array_equal(state[key], plain_state[key], err_msg=key)


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
    assert not any(tmp_path.iterdir()), "nothing is written there"


@pytest.mark.codegen_independent
@pytest.mark.parametrize("flags, workers", [([], None), (["--workers", "1"], 1),
                                            (["--workers", str(RunConfig().workers)],
                                             RunConfig().workers)])
def test_resume_takes_workers_only_when_given(flags, workers, tmp_path):
    # None keeps the stored setting; a given value wins, the default value too
    assert parse_args(["--resume", str(tmp_path), *flags]).workers == workers


def test_config_file_round_trip(uninterrupted):
    saved = json.loads((uninterrupted / rundir.CONFIG).read_text())
    # --threads auto is saved as the number it gave: 1 for a small network
    assert TINY.threads is None and saved["threads"] == 1
    assert RunConfig.from_dict(saved, "config.json") == dataclasses.replace(TINY, threads=1)


def _chunk(n_spikes, slots=10, state=None):
    return ChunkResult(state=state or {"exc.v": np.zeros(4)}, ctrl_img=slots, ctrl_attempts=1,
                       ctrl_count=5, slot_img=np.arange(slots), slot_attempts=np.ones(slots),
                       spike_slot=np.zeros(n_spikes, int), spike_neuron=np.zeros(n_spikes, int),
                       input_spikes=0, seconds=0.0, slots_run=slots)


def test_runaway_activity_is_an_error_not_a_result():
    check_activity(_chunk(10 * 4 * 10), 10, 4, "train-1")  # 10 per neuron and image: allowed
    with pytest.raises(SimulationError, match="train-1, images 1-10: 10.0.*exponential_euler"):
        check_activity(_chunk(10 * 4 * 10 + 1), 10, 4, "train-1, images 1-10")
    with pytest.raises(SimulationError, match="non-finite values in exc.v"):
        check_activity(_chunk(0, state={"exc.v": np.array([0.0, np.nan])}), 10, 4, "x")


@pytest.mark.parametrize("command", ["run", "ann.cli", "predict"])
def test_help_has_no_empty_defaults_and_explains_epochs_and_seed(command, capsys):
    import importlib

    module = importlib.import_module(f"brian_stdp.{command}")
    with pytest.raises(SystemExit):
        module.parser().parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: None)" not in text and "(default: False)" not in text
    if command != "predict":
        assert re.search(r"--epochs \w+ passes over the training images \(default: \d+\)",
                         text), text
        assert re.search(r"--seed \w+ seed of [^(]+\(default: 0\)", text), text


def test_model_file_error_is_one_line_without_brian2_warnings(edited_model, tmp_path):
    bad = edited_model("models/diehl_cook_2015.toml", 'tau_ge       = "1*ms"',
                       'tau_ge       = "1*mV"')
    result = subprocess.run(
        [sys.executable, "-m", "brian_stdp.run", "--model", str(bad), "--neurons", "10",
         "--train", "20", "--label", "20", "--test", "10", "--out", str(tmp_path / "run"),
         "--quiet"], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 2
    err = result.stderr.strip()
    assert err.startswith(f"error: {bad}: [groups.exc]") and "DimensionMismatchError" in err
    assert len(err.splitlines()) == 1, err


@pytest.mark.standalone_compatible
def test_validation_split_holds_out_the_last_selected_training_images(tmp_path):
    config = RunConfig(neurons=10, train=150, validation=50, label=None, chunk=100, seed=2)
    trainer = Trainer(config, tmp_path, progress=False)
    selected = np.arange(150)  # --train 150: the first 150 training images
    trained = trainer.images.stream(Phase("train", 1))[1]
    assert sorted(trained) == list(selected[:100]), "the held-out images are never trained on"
    np.testing.assert_array_equal(trainer.images.stream(Phase("label", 1))[1], selected[:100])
    scored_set, scored = trainer.images.stream(Phase("test", 1))
    assert scored_set is trainer.images.train_set
    np.testing.assert_array_equal(scored, selected[100:])
    metrics = trainer.run()
    assert metrics["scored_on"] == "validation"
    assert (metrics["train_images"], metrics["label_images"], metrics["test_images"]) == \
        (100, 100, 50)
    confusion = np.array(metrics["confusion_matrix"])
    np.testing.assert_array_equal(confusion.sum(axis=1),
                                  np.bincount(trainer.images.train_set.labels[100:150], minlength=10))
    with pytest.raises(ConfigError, match="--validation 150: only 150 training images"):
        Trainer(dataclasses.replace(config, validation=150), tmp_path / "b", progress=False)
