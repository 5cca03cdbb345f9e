"""Re-scoring a finished run from its recorded spike counts: the vote against the number
of labelling images, and a supervised linear readout."""

import json

import numpy as np
import pytest

from brian_stdp import readout as command
from brian_stdp.errors import ConfigError
from brian_stdp.experiments import rescoring
from brian_stdp.training import rundir
from brian_stdp.training.trainer import RunConfig, Trainer


def _two_classes_per_neuron(n_images, rng):
    """5 neurons for 10 classes: neuron k answers class 2k with about 20 spikes and class
    2k + 1 with about 5. One label per neuron can tell only 5 classes apart; the counts
    tell all 10."""
    labels = rng.integers(0, 10, n_images)
    counts = np.zeros((n_images, 5), dtype=np.int64)
    counts[np.arange(n_images), labels // 2] = rng.poisson(np.where(labels % 2, 5, 20))
    return counts, labels


@pytest.mark.codegen_independent
def test_the_linear_readout_reads_what_one_label_per_neuron_cannot():
    rng = np.random.default_rng(0)
    label_counts, label_labels = _two_classes_per_neuron(2000, rng)
    scored_counts, scored_labels = _two_classes_per_neuron(1000, rng)
    all_activity, proportion = rescoring.vote_accuracy(label_counts, label_labels,
                                                     scored_counts, scored_labels, 10)
    even = np.mean(scored_labels % 2 == 0)  # each neuron is labelled with its even class
    assert all_activity == pytest.approx(even) and proportion == pytest.approx(even)
    assert rescoring.linear_readout_accuracy(label_counts, label_labels, scored_counts,
                                           scored_labels) > 0.97


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("readout") / "run"
    config = RunConfig(dataset="digits", neurons=20, train=300, label=200, test=150,
                       chunk=100, seed=1, workers=1)
    Trainer(config, run_dir, progress=False).run()
    return run_dir


@pytest.mark.standalone_compatible
def test_the_vote_on_all_labelling_images_is_the_runs_own_figure(finished_run, tmp_path,
                                                                 capsys):
    report = rescoring.readout_report(finished_run, sizes=(50, 200, 5000))
    assert [v["label_images"] for v in report["vote"]] == [50, 200], "capped at 200"
    metrics = rundir.load_json(finished_run / rundir.METRICS)
    assert report["vote"][-1]["all_activity"] == metrics["accuracy_all_activity"]
    assert report["vote"][-1]["proportion_weighting"] == \
        metrics["accuracy_proportion_weighting"]
    assert (report["scored_on"], report["label_images"], report["scored_images"]) == \
        ("test", 200, 150)
    assert 0.1 < report["linear"] <= 1
    out = tmp_path / "readout.json"
    assert command.main([str(finished_run), "--sizes", "100,200", "--json", str(out)]) == 0
    table = capsys.readouterr().out
    assert "| run | scored on | vote, 100 label images | vote, 200 label images |" in table
    assert json.loads(out.read_text())[0]["vote"][1] == report["vote"][1]


def test_an_unfinished_run_is_named_and_the_others_are_still_scored(finished_run, tmp_path,
                                                                     capsys):
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / rundir.CONFIG).write_text((finished_run / rundir.CONFIG).read_text())
    with pytest.raises(ConfigError, match="checkpoint.npz: not found"):
        rescoring.readout_report(unfinished)
    assert command.main([str(unfinished), str(finished_run)]) == 2
    captured = capsys.readouterr()
    assert f"error: {unfinished}/checkpoint.npz: not found" in captured.err
    assert "1 of 2 runs not scored" in captured.err and finished_run.name in captured.out
    with pytest.raises(SystemExit):
        command.main([str(finished_run), "--sizes", "0,10"])
    assert "--sizes: 0,10: expected positive integers" in capsys.readouterr().err
