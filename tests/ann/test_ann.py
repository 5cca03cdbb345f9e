"""The Keras baseline: paper configurations, equal data with the SNN, learning, determinism,
run directories and clear errors (its grids: tests/experiments/test_sweep.py)."""

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

from brian_stdp.ann import baseline as ann
from brian_stdp.ann import cli as ann_cli
from brian_stdp.ann.baseline import (PAPER_CONFIGURATIONS, AnnConfig, count_parameters,
                                     epoch_order, load_data, macs_per_image, parse_hidden)
from brian_stdp.data.datasets import load_dataset, select_indices
from brian_stdp.data.sources import find_data_dir
from brian_stdp.errors import ConfigError
from brian_stdp.training import rundir

pytest.importorskip("tensorflow", reason="the ANN baseline needs pip install -e '.[ann]'")

REPO = Path(__file__).resolve().parents[2]
DIGITS = AnnConfig(dataset="digits", hidden=(32,), optimizer="adam", lr=0.01, epochs=5, seed=3)


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("digits_run")
    return run_dir, ann.train(DIGITS, run_dir, progress=False)


# -- the study's configuration table ---------------------------------------------------------
def test_configuration_table_matches_the_paper():
    # Section III.C: one hidden layer of 16, then two hidden layers of 16, doubled to 256.
    assert PAPER_CONFIGURATIONS == ((16,), (16, 16), (32, 32), (64, 64), (128, 128),
                                    (256, 256))
    default = AnnConfig()
    assert (default.optimizer, default.lr, default.batch, default.epochs) == ("sgd", 0.001,
                                                                              64, 15)
    assert default.train is None and default.per_class is None and default.test is None


def test_parameter_and_mac_counts():
    # 784*16 + 16 (hidden) + 16*10 + 10 (output)
    assert count_parameters(784, (16,)) == 12730
    # 784*256 + 256 + 256*256 + 256 + 256*10 + 10
    assert count_parameters(784, (256, 256)) == 269322
    assert macs_per_image(784, (64, 64)) == 784 * 64 + 64 * 64 + 64 * 10
    assert macs_per_image(64, (32,)) == 64 * 32 + 32 * 10


# -- bad configurations ----------------------------------------------------------------------
@pytest.mark.parametrize("text, message", [
    ("0", "at least one unit"), ("16,0", "at least one unit"), ("-4", "at least one unit"),
    ("", "separated by commas"), ("16,", "separated by commas"), ("a,b", "whole numbers"),
])
def test_bad_hidden_layers_are_clear_errors(text, message):
    with pytest.raises(ConfigError, match=message) as err:
        parse_hidden(text)
    assert "--hidden" in str(err.value)


def test_parse_hidden():
    assert parse_hidden("16") == (16,)
    assert parse_hidden(" 64, 64 ") == (64, 64)


@pytest.mark.parametrize("changes, message", [
    ({"hidden": (16, 0)}, "--hidden 16,0: every hidden layer needs a positive"),
    ({"hidden": ()}, "--hidden must name at least one hidden layer"),
    ({"optimizer": "rmsprop"}, "--optimizer rmsprop: unknown optimizer .choose from sgd, adam"),
    ({"lr": 0.0}, "--lr must be a positive"), ({"lr": float("nan")}, "--lr must be"),
    ({"batch": 0}, "--batch must be a positive"), ({"epochs": -1}, "--epochs must be"),
    ({"train": 100, "per_class": 10}, "exclude each other"),
    ({"per_class": 0}, "--per-class must be"), ({"dataset": "cifar"}, "--dataset cifar"),
    ({"seed": -1}, "--seed"),
])
def test_bad_config_values(changes, message):
    with pytest.raises(ConfigError, match=message):
        AnnConfig(**changes).check()


def test_cli_errors_exit_2_with_a_message(tmp_path, capsys):
    assert ann_cli.main(["--optimizer", "rmsprop", "--out", str(tmp_path / "x")]) == 2
    assert "error: --optimizer rmsprop: unknown optimizer" in capsys.readouterr().err
    assert ann_cli.main(["--hidden", "0", "--out", str(tmp_path / "y")]) == 2
    assert "at least one unit" in capsys.readouterr().err
    assert ann_cli.main(["--train", "100", "--per-class", "5"]) == 2
    assert "exclude each other" in capsys.readouterr().err


def test_missing_tensorflow_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # makes "import tensorflow" fail
    with pytest.raises(ConfigError, match=r"pip install -e '\.\[ann\]'"):
        ann.import_tensorflow()


def test_too_many_images_asked_for():
    with pytest.raises(ConfigError, match="--per-class 500: .*class 0 has only"):
        load_data(AnnConfig(dataset="digits", per_class=500))
    with pytest.raises(ConfigError, match="--test 1000: the digits test split has only 450"):
        load_data(AnnConfig(dataset="digits", test=1000))


# -- equal data with the SNN -----------------------------------------------------------------
def test_same_training_images_and_order_as_the_snn_trainer():
    from brian_stdp.training.config import RunConfig
    from brian_stdp.training.selection import Phase, select_images

    # the SNN trainer's own data selection (Trainer.images), no network built
    snn = select_images(RunConfig(dataset="digits", train=None, per_class=20, label=None,
                                  test=None, seed=7, epochs=2))
    data = load_data(AnnConfig(dataset="digits", per_class=20, seed=7))
    np.testing.assert_array_equal(data.train_indices, snn.train_idx)
    assert len(data.train_indices) == 200
    for epoch in (1, 2):
        np.testing.assert_array_equal(epoch_order(data.train_indices, 7, epoch),
                                      snn.stream(Phase("train", epoch))[1])
    assert not np.array_equal(epoch_order(data.train_indices, 7, 1),
                              epoch_order(data.train_indices, 7, 2))
    # images scaled to [0, 1], flattened; test images are the first ones of the split
    test_set = load_dataset("digits", "test")
    np.testing.assert_allclose(data.test_images, test_set.images.reshape(450, 64) / 255.0,
                               rtol=1e-6)
    assert data.train_images.min() == 0.0 and data.train_images.max() == 1.0


def test_first_n_selection():
    data = load_data(AnnConfig(dataset="digits", train=100))
    np.testing.assert_array_equal(data.train_indices, np.arange(100))
    labels = load_dataset("digits", "train").labels
    np.testing.assert_array_equal(load_data(AnnConfig(dataset="digits", per_class=5,
                                                      seed=1)).train_indices,
                                  select_indices(labels, per_class=5, seed=1))


# -- training --------------------------------------------------------------------------------
def test_small_network_learns_the_digits(digits_run):
    _, metrics = digits_run
    assert metrics["accuracy"] > 0.8, "chance is 0.1"
    history = metrics["history"]
    assert [entry["epoch"] for entry in history] == [1, 2, 3, 4, 5]
    assert [entry["images_seen"] for entry in history] == [1347 * k for k in range(1, 6)]
    assert history[-1]["loss_train"] < history[0]["loss_train"]
    assert metrics["best_accuracy"] == max(entry["accuracy_test"] for entry in history)
    assert history[metrics["best_epoch"] - 1]["accuracy_test"] == metrics["best_accuracy"]
    assert all(entry["train_seconds"] > 0 for entry in history)


def test_run_directory(digits_run):
    run_dir, metrics = digits_run
    for name in (rundir.CONFIG, rundir.PROVENANCE, rundir.METRICS, rundir.STATE):
        assert (run_dir / name).is_file(), name
    for name in ("accuracy.png", "confusion.png", "per_class_accuracy.png"):
        assert (run_dir / "figures" / name).stat().st_size > 0, name
    saved = AnnConfig.from_dict(rundir.load_json(run_dir / rundir.CONFIG), "config.json")
    assert saved == DIGITS
    provenance = rundir.load_json(run_dir / rundir.PROVENANCE)
    assert provenance["seed"] == 3 and "tensorflow" in provenance["versions"]
    state = rundir.load_arrays(run_dir / rundir.STATE)
    assert state["layer0/kernel"].shape == (64, 32) and state["layer1/bias"].shape == (10,)
    assert metrics["parameters"] == count_parameters(64, (32,)) == 2410
    assert metrics["neurons"] == 32 and metrics["train_images"] == 1347
    confusion = np.array(metrics["confusion_matrix"])
    assert confusion.sum() == 450 == metrics["test_images"]
    assert np.trace(confusion) / 450 == pytest.approx(metrics["accuracy"])
    with pytest.raises(ConfigError, match="already holds a run"):
        ann.train(DIGITS, run_dir, progress=False)


@pytest.mark.parametrize("present", [(rundir.CONFIG,), (rundir.STATE,),
                                     (rundir.CONFIG, rundir.METRICS)])
def test_out_folder_holding_a_run_is_refused_and_left_alone(digits_run, tmp_path, capsys,
                                                           folder_digest, present):
    run_dir, _ = digits_run
    used = tmp_path / "used"
    used.mkdir()
    for name in present:
        (used / name).write_bytes((run_dir / name).read_bytes())
    before = folder_digest(used)
    assert ann_cli.main(["--dataset", "digits", "--epochs", "1", "--out", str(used), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "a new folder" in err, err
    assert folder_digest(used) == before


def test_same_seed_same_result_other_seed_other_result(digits_run, tmp_path):
    _, metrics = digits_run
    config = dataclasses.replace(DIGITS, epochs=2)
    first = ann.train(config, tmp_path / "a", progress=False)
    again = ann.train(config, tmp_path / "b", progress=False)
    other = ann.train(dataclasses.replace(config, seed=4), tmp_path / "c",
                      progress=False)
    assert [e["accuracy_test"] for e in first["history"]] == \
        [e["accuracy_test"] for e in metrics["history"][:2]], "more epochs, same start"
    weights_a = rundir.load_arrays(tmp_path / "a" / rundir.STATE)
    weights_b = rundir.load_arrays(tmp_path / "b" / rundir.STATE)
    assert all(np.array_equal(weights_a[key], weights_b[key]) for key in weights_a)
    assert first["history"][-1]["loss_train"] == again["history"][-1]["loss_train"]
    assert other["history"][-1]["loss_train"] != first["history"][-1]["loss_train"]


@pytest.mark.long
@pytest.mark.skipif(find_data_dir("mnist") is None, reason="MNIST files not found")
def test_small_network_learns_from_1000_mnist_images(tmp_path):
    config = AnnConfig(hidden=(64,), optimizer="adam", lr=0.003, epochs=5, train=1000,
                       test=1000)
    metrics = ann.train(config, tmp_path, progress=False)
    assert metrics["train_images"] == 1000 and metrics["test_images"] == 1000
    assert metrics["accuracy"] > 0.8, "chance is 0.1"


def test_command_line_prints_no_tensorflow_messages(tmp_path):
    import os
    import subprocess

    env = {key: value for key, value in os.environ.items()
           if key not in ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS")}
    result = subprocess.run(
        [sys.executable, "-m", "brian_stdp.ann", "--dataset", "digits", "--epochs", "1",
         "--hidden", "8", "--out", str(tmp_path / "run")],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr  # our two log lines, nothing from TensorFlow
    assert lines[0].startswith("ANN 8, sgd optimizer") and lines[1].startswith("epoch 1/1:")
    assert "test accuracy:" in result.stdout and "results:" in result.stdout
