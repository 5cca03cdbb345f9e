"""--init-from: training a finished run's network further gives the longer run, to the bit."""

import dataclasses
import shutil

import numpy as np
import pytest

from brian_stdp.backends.session import Session
from brian_stdp.errors import ConfigError
from brian_stdp.model.spec import load_model
from brian_stdp.run import main
from brian_stdp.training import continuation, rundir
from brian_stdp.training.checkpoint import load_checkpoint, save_checkpoint
from brian_stdp.training.evaluation import few_wins
from brian_stdp.training.selection import draw_indices, phases
from brian_stdp.training.trainer import RunConfig, Trainer, resume

# 240 training wins over two epochs among 10 neurons: some win fewer than 15, so that
# --silence-below counts the first epoch's wins too (checked below)
SMALL = RunConfig(neurons=10, train=120, label=60, test=40, chunk=50, seed=5, epochs=2,
                  workers=1, silence_below=15)
FIRST = dataclasses.replace(SMALL, epochs=1)


@pytest.fixture(scope="module")
def longer(tmp_path_factory):
    """A finished run of SMALL's two epochs."""
    run_dir = tmp_path_factory.mktemp("longer")
    Trainer(SMALL, run_dir, progress=False).run()
    return run_dir


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    """A finished run of its first epoch."""
    run_dir = tmp_path_factory.mktemp("first")
    Trainer(FIRST, run_dir, progress=False).run()
    return run_dir


def _second(first):
    """The settings of a run that trains ``first``'s network for the second epoch."""
    return dataclasses.replace(FIRST, init_from=str(first))


@pytest.fixture(scope="module")
def continued(first, tmp_path_factory):
    """A finished run that trained ``first``'s network for one more epoch."""
    run_dir = tmp_path_factory.mktemp("continued")
    Trainer(_second(first), run_dir, progress=False).run()
    return run_dir


@pytest.mark.codegen_independent
@pytest.mark.parametrize("eval_every_epoch, before, expected", [
    (False, 0, [0, 1, 2, 3]),      # train-1 train-2 label-2 test-2
    (False, 1, [1, 2, 3, 4]),      # of train-1 train-2 train-3 label-3 test-3
    (True, 1, [3, 4, 5, 6, 7, 8]),  # of train-1 label-1 test-1 train-2 ... test-3
])
def test_a_continued_run_draws_as_the_phases_of_the_longer_run(eval_every_epoch, before,
                                                               expected):
    config = dataclasses.replace(SMALL, eval_every_epoch=eval_every_epoch)
    assert draw_indices(config, before) == expected
    assert len(expected) == len(phases(config))


@pytest.mark.standalone_compatible
def test_one_more_epoch_gives_the_two_epoch_run_to_the_bit(longer, first, continued):
    whole, more = (rundir.load_arrays(d / rundir.STATE) for d in (longer, continued))
    network = [key for key in whole if key.startswith("state/")]
    assert network and sorted(network) == sorted(k for k in more if k.startswith("state/"))
    for key in network + ["weights", "theta", "assignment", "silenced"]:
        assert np.array_equal(whole[key], more[key]), key
    # the first epoch changed the network: the continued run did not start afresh
    assert not np.array_equal(rundir.load_arrays(first / rundir.STATE)["weights"],
                              more["weights"])
    a, b = (load_checkpoint(d / rundir.CHECKPOINT) for d in (longer, continued))
    assert np.array_equal(a[2]["test"]["counts"], b[2]["test"]["counts"])
    assert a[0].chunk_index == b[0].chunk_index, "the chunk seeds went on from the first run"
    metrics = [rundir.load_json(d / rundir.METRICS) for d in (longer, continued)]
    for key in ("accuracy_all_activity", "accuracy_proportion_weighting",
                "confusion_matrix", "silenced_neurons", "neuron_usage", "epochs"):
        assert metrics[0][key] == metrics[1][key], key
    # metrics.json counts the network's whole training, the epochs before this run too
    assert metrics[1]["epochs_before"] == 1 and "epochs_before" not in metrics[0]
    assert metrics[0]["history"][-1] == metrics[1]["history"][-1]
    # the silencing counted the first epoch's wins: this run's own would silence others
    own = few_wins(b[2]["train"]["winner"].astype(np.int64), SMALL.neurons, SMALL.silence_below)
    assert more["silenced"].any() and not np.array_equal(own, more["silenced"])


@pytest.mark.standalone_compatible
def test_another_model_file_is_noticed(first):
    assert continuation.same_model(first, load_model("diehl_cook_2015"))
    assert not continuation.same_model(first, load_model("diehl_cook_2015_fast_learning"))


@pytest.mark.standalone_compatible
def test_the_continuation_is_recorded_and_chains(first, continued, longer):
    record = continuation.recorded(continued)
    first_progress = load_checkpoint(first / rundir.CHECKPOINT)[0]
    assert record == continuation.Continuation(source=str(first), epochs_before=1,
                                               chunk_index=first_progress.chunk_index, seed=5)
    assert continuation.recorded(first) is None
    # a run continuing the continued one starts after both epochs
    chained = continuation.describe(continued, SMALL.neurons, (28, 28))
    assert chained.epochs_before == 2
    assert chained.chunk_index == load_checkpoint(longer / rundir.CHECKPOINT)[0].chunk_index


@pytest.mark.standalone_compatible
def test_resume_of_a_continued_run_equals_it_uninterrupted(first, continued, tmp_path,
                                                           same_run, monkeypatch):
    run_dir = tmp_path / "run"
    calls = {"n": 0}
    original = Session.run_chunk

    def stop_at_the_second_chunk(self, *args, **kwds):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(self, *args, **kwds)

    with monkeypatch.context() as patcher:
        patcher.setattr(Session, "run_chunk", stop_at_the_second_chunk)
        with pytest.raises(KeyboardInterrupt):
            Trainer(_second(first), run_dir, progress=False).run()
    progress = load_checkpoint(run_dir / rundir.CHECKPOINT)[0]
    assert progress.phase_index == 0 and 0 < progress.position < FIRST.train
    resume(run_dir, progress=False)
    same_run(continued, run_dir)


def _unfinished(first, dest):
    """A copy of ``first`` whose checkpoint says that it stopped before its end."""
    shutil.copytree(first, dest)
    progress, state, records = load_checkpoint(dest / rundir.CHECKPOINT)
    save_checkpoint(dest / rundir.CHECKPOINT, dataclasses.replace(progress, done=False),
                    state, records)
    return dest


@pytest.mark.standalone_compatible
@pytest.mark.parametrize("source, flags, message", [
    ("empty", [], "no config.json there; not a run directory"),
    ("unfinished", [], "has not finished (its checkpoint.npz stands before the end); "
                       "finish it first with python -m brian_stdp.run --resume"),
    ("first", ["--neurons", "12"], "that network has 10 neurons, not 12; give --neurons 10"),
    ("first", ["--dataset", "digits", "--train", "120", "--test", "40"],
     "trained on images of shape (28, 28), not (8, 8); give the --dataset it was trained on "
     "(mnist)"),
])
def test_bad_init_from_exits_2_naming_the_flag_and_writes_no_run(first, source, flags, message,
                                                                 tmp_path, capsys):
    folder = {"first": first, "empty": tmp_path / "empty",
              "unfinished": tmp_path / "unfinished"}[source]
    if source == "empty":
        folder.mkdir()
    if source == "unfinished":
        _unfinished(first, folder)
    out = tmp_path / "out"
    argv = ["--neurons", "10", "--train", "120", "--label", "60", "--test", "40", *flags,
            "--init-from", str(folder), "--out", str(out), "--quiet", "--workers", "1"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"--init-from {folder}: " in err and message in err
    assert rundir.run_files(out) == [], "no run is made, so the same --out can be used again"


@pytest.mark.codegen_independent
def test_a_network_of_another_model_is_refused_by_name():
    fresh = {"exc.v": np.zeros(3), "exc.theta": np.zeros(3)}
    with pytest.raises(ConfigError, match=r"--init-from X: its network is not this run's "
                                        r"\(missing exc.theta; not in this model: exc.ge\)"):
        continuation.adopt(fresh, {"exc.v": np.ones(3), "exc.ge": np.ones(3)}, "X")
    with pytest.raises(ConfigError, match=r"exc.v of shape \(4,\), not \(3,\)"):
        continuation.adopt(fresh, {"exc.v": np.ones(4), "exc.theta": np.ones(3)}, "X")
    adopted = continuation.adopt(fresh, {"exc.v": np.ones(3), "exc.theta": np.ones(3, int)}, "X")
    assert adopted["exc.theta"].dtype == np.float64 and adopted["exc.v"].sum() == 3
    # a part of the state (the build-time values) need not hold every variable
    assert continuation.adopt({"exc.v": np.zeros(3)}, fresh, "X", whole=False)["exc.v"].shape == (3,)
