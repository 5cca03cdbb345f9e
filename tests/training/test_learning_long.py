"""MNIST-sized learning checks (marked long: run with `python -m pytest -m long`)."""

import pytest

from brian_stdp.training import rundir
from brian_stdp.training.trainer import RunConfig, Trainer

pytestmark = [pytest.mark.long, pytest.mark.standalone_compatible]


def test_400_neurons_learn_mnist_well_above_chance(tmp_path):
    # 3,000 training images take about half a minute on one core; after them
    # the network classifies MNIST test digits far above the 10 % of chance.
    config = RunConfig(neurons=400, train=3000, label=2000, test=1000, seed=3)
    metrics = Trainer(config, tmp_path, progress=False).run()
    assert metrics["accuracy_all_activity"] > 0.6
    assert metrics["labelled_neurons"] > 300
    activity = metrics["activity"]
    assert 5 < activity["spikes_per_image_last"] < 60, "activity must stay bounded"
    state = rundir.load_arrays(tmp_path / rundir.STATE)
    weights = state["weights"]
    assert abs(weights.sum(axis=0).mean() - 78) < 5, "weights stay near their normalised sum"
