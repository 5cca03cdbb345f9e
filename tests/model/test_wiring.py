"""Wiring in model files: patch layouts, conditions, their checks, and the LC-SNN."""

import numpy as np
import pytest

from brian_stdp.backends.network import check_model, group_sizes, model_synapse_pairs
from brian_stdp.errors import ConfigError, ModelFileError
from brian_stdp.model.files import MODELS_DIR
from brian_stdp.model.spec import load_model
from brian_stdp.model.wiring import PatchLayout, pairs_for
from brian_stdp.run import main

pytestmark = pytest.mark.codegen_independent

LC = MODELS_DIR / "lc_snn.toml"
DC = MODELS_DIR / "diehl_cook_2015.toml"
PATCHES = 'connect = { rule = "patches", input_shape = [28, 28], crop = 4, kernel = 12, stride = 4 }'
CONDITION = 'connect = "location_pre == location_post and filter_pre != filter_post"'


def test_patch_layout_of_the_lc_snn():
    layout = load_model("lc_snn").synapses["inp_exc"].connect
    assert isinstance(layout, PatchLayout)
    assert layout.grid == (3, 3) and layout.n_locations == 9 and layout.fan_in == 144
    assert layout.corner(0) == (4, 4) and layout.corner(8) == (12, 12)
    # the last location's patch: rows and columns 12..23 of the 28x28 image
    patch = layout.patch(8).reshape(12, 12)
    assert patch[0, 0] == 12 * 28 + 12 and patch[-1, -1] == 23 * 28 + 23


def test_small_lc_snn_synapse_counts_and_each_neuron_sees_only_its_patch():
    """3 filters x 9 locations: 27 neurons of 144 inputs each; each inhibits the 2 other
    filters of its location."""
    spec = load_model("lc_snn")
    check_model(spec)
    sizes = group_sizes(spec, 27, 784)
    pre, post = model_synapse_pairs(spec, "inp_exc", sizes)
    assert len(pre) == 27 * 144
    assert np.all(np.diff(pre) >= 0), "source-major"
    for j in range(27):
        location = j // 3
        row, col = divmod(location, 3)
        expected = {(4 + 4 * row + r) * 28 + 4 + 4 * col + c
                    for r in range(12) for c in range(12)}
        assert set(pre[post == j].tolist()) == expected
    assert not np.isin(pre, [0, 27, 28 * 4 - 1, 28 * 24]).any(), "the crop reaches nobody"
    pre, post = model_synapse_pairs(spec, "exc_exc", sizes)
    assert len(pre) == 27 * 2
    assert np.all(pre // 3 == post // 3) and np.all(pre != post)
    assert spec.weight_sum(784) == pytest.approx(0.2 * 144), "weight_sum from its own fan-in"
    assert load_model("diehl_cook_2015").weight_sum(784) == pytest.approx(78.0)


@pytest.mark.parametrize("old, new, where, problem", [
    (PATCHES, PATCHES.replace("kernel = 12", "kernel = 21"), r"\[synapses.inp_exc\] connect.kernel",
     "larger than the input after the crop"),
    (PATCHES, PATCHES.replace("stride = 4", "stride = 0"), r"\[synapses.inp_exc\] connect.stride",
     "at least 1"),
    (PATCHES, PATCHES.replace("crop = 4", "crop = 14"), r"\[synapses.inp_exc\] connect.crop",
     "leave no rows"),
    (PATCHES, PATCHES.replace("kernel = 12", "kernel = 1.5"),
     r"\[synapses.inp_exc\] connect.kernel",
     "whole number"),
    (PATCHES, PATCHES.replace("stride = 4", "stride = 4, strides = 2"),
     r"\[synapses.inp_exc\] connect", "unknown key.*strides"),
    (PATCHES, PATCHES.replace('"patches"', '"patch"'),
     r"\[synapses.inp_exc\] connect.rule", "unknown rule 'patch'"),
    (CONDITION, CONDITION.replace("filter_pre != filter_post", "filter_pre != filter_pre"),
     r"\[synapses.exc_exc\] connect", "selects no synapse"),
    (CONDITION, CONDITION.replace("location_post", "locaton_post"),
     r"\[synapses.exc_exc\] connect", "undefined name"),
    (CONDITION, 'connect = "i == j +"', r"\[synapses.exc_exc\] connect", "not a valid condition"),
    (CONDITION, 'connect = "__import__(1)"', r"\[synapses.exc_exc\] connect", "may use"),
])
def test_bad_wiring_names_file_and_key(edited_model, old, new, where, problem):
    path = edited_model(LC, old, new)
    with pytest.raises(ModelFileError, match=f"edited.toml: {where}.*{problem}"):
        check_model(load_model(path))


def test_bad_wiring_exits_2_with_the_key(edited_model, tmp_path, capsys):
    path = edited_model(LC, PATCHES, PATCHES.replace("stride = 4", "stride = 0"))
    assert main(["--model", str(path), "--neurons", "18", "--train", "10", "--out",
                 str(tmp_path / "run"), "--quiet"]) == 2
    assert "edited.toml: [synapses.inp_exc] connect.stride: must be at least 1" in \
        capsys.readouterr().err


def test_neurons_not_a_multiple_of_the_locations_is_refused_naming_the_flag(tmp_path, capsys):
    with pytest.raises(ConfigError, match=r"--neurons 100: .*9 patch locations.*900"):
        load_model("lc_snn").check_neurons(100)
    assert main(["--model", "lc_snn", "--neurons", "100", "--out", str(tmp_path / "run"),
                 "--quiet"]) == 2
    assert "--neurons 100" in capsys.readouterr().err
    assert not (tmp_path / "run" / "config.json").exists(), "refused before the run starts"


def test_condition_on_a_model_without_layout(edited_model):
    """A condition on i and j wires any model; the Diehl & Cook all-but-self inhibition
    written as a condition gives the same synapses."""
    pre, post = pairs_for("i != j", 4, 4, "x")
    ref = pairs_for("all_but_self", 4, 4, "x")
    assert np.array_equal(pre, ref[0]) and np.array_equal(post, ref[1])
    pre, post = pairs_for("not (i == j) and (i < 2 or j < 1)", 3, 3, "x")
    assert list(zip(pre.tolist(), post.tolist())) == [(0, 1), (0, 2), (1, 0), (1, 2), (2, 0)]
    spec = load_model(edited_model(DC, 'connect = "all_but_self"', 'connect = "i != j"'))
    check_model(spec)


def test_patch_layout_must_match_the_input_size():
    layout = PatchLayout(input_shape=(28, 28), crop=(4, 4), kernel=(12, 12), stride=(4, 4))
    with pytest.raises(ModelFileError, match=r"x: connect.input_shape.*784 pixels.*64"):
        pairs_for(layout, 64, 9, "x: connect")


def test_compare_counts_the_patch_weights_of_an_lc_snn_run(tmp_path):
    """The comparison's parameter count reads the run's model copy: 144 weights per neuron
    for lc_snn, the all-to-all formula for Diehl & Cook."""
    from brian_stdp.experiments.comparison.runs import patch_wiring

    (tmp_path / "model.toml").write_text(LC.read_text())
    assert patch_wiring(tmp_path) == (144, 9, 784)
    (tmp_path / "model.toml").write_text(DC.read_text())
    assert patch_wiring(tmp_path) is None


def test_genn_check_refuses_the_lc_snn_naming_what_it_needs():
    from brian_stdp.backends.brian2genn.check import genn_problems

    problems = "\n".join(genn_problems(load_model("lc_snn")))
    assert "[groups.exc] slot_start" in problems
    assert "[synapses.exc_exc] on_pre: 'v_post -= ...'" in problems
    assert "lr_scale_post" in problems
