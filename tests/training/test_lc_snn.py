"""The LC-SNN (models/lc_snn.toml) through the runner: it trains, labels, tests and draws its
receptive fields per filter and location, and every neuron learns only on its patch.

One run: 2 filters x 9 locations (18 neurons), the first 300 training images, 200 to label,
200 test images, seed 0, on one core (about 3 minutes with the compile on the loaded
2-core machine, hence ``long``). Measured with this configuration: 29.0 % (all activity);
the floor, 20 %, is twice chance (10 %, standard error 2.1 points on 200 images)."""

import numpy as np
import pytest

from brian_stdp.model.spec import load_model
from brian_stdp.training import rundir
from brian_stdp.training.trainer import RunConfig, Trainer

pytestmark = [pytest.mark.standalone_compatible, pytest.mark.long]


@pytest.fixture(scope="module")
def lc_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("lc_snn")
    config = RunConfig(model="lc_snn", neurons=18, train=300, label=200, test=200, seed=0,
                       workers=1)
    metrics = Trainer(config, run_dir, progress=False).run()
    return run_dir, metrics, rundir.load_arrays(run_dir / rundir.STATE)


def test_lc_snn_learns_on_its_patches_only(lc_run):
    run_dir, metrics, state = lc_run
    layout = load_model("lc_snn").layouts()["exc"]
    weights = state["weights"]
    assert weights.shape == (784, 18)
    for j in range(18):
        outside = np.ones(784, dtype=bool)
        outside[layout.patch(j // 2)] = False
        assert not weights[outside, j].any(), f"neuron {j} has weights outside its patch"
        # normalised at the start of each presentation to 0.2 per input, then trained
        assert weights[~outside, j].sum() == pytest.approx(0.2 * 144, rel=0.2)
    assert (run_dir / rundir.FIGURES / "receptive_fields.png").is_file()
    assert metrics["accuracy_all_activity"] > 0.2, "twice chance after 300 images"
