"""Tests of brian_stdp.predict: classifying images with a tiny trained run."""

import re
import shutil

import numpy as np
import pytest
from PIL import Image

from brian_stdp.data.datasets import load_dataset
from brian_stdp.data.images import load_image
from brian_stdp.errors import ConfigError
from brian_stdp.predict import main
from brian_stdp.training import evaluation, rundir
from brian_stdp.training.classify import predict_images
from brian_stdp.training.trainer import RunConfig, Trainer

pytestmark = pytest.mark.standalone_compatible

N_TEST = 50


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A finished run: 10 neurons trained on 100 MNIST images (closes its session)."""
    path = tmp_path_factory.mktemp("run")
    config = RunConfig(neurons=10, train=100, label=100, test=N_TEST, chunk=100, seed=1)
    Trainer(config, path, progress=False).run()
    return path


@pytest.fixture(scope="module")
def test_set():
    return load_dataset("mnist", "test")


@pytest.fixture(scope="module")
def test_predictions(run_dir, test_set):
    return predict_images(run_dir, test_set.images[:N_TEST])


def test_predict_images_shapes(test_predictions):
    out = test_predictions
    assert out["all_activity"].shape == (N_TEST,)
    assert out["proportion_weighting"].shape == (N_TEST,)
    assert out["spike_counts"].shape == (N_TEST, 10)
    assert out["presentations"].shape == (N_TEST,)
    for key in ("all_activity", "proportion_weighting"):
        assert np.all((out[key] >= -1) & (out[key] <= 9))
    assert np.all((out["presentations"] >= 1) & (out["presentations"] <= 10))
    assert out["spike_counts"].sum() > 0


def test_cli_test_accuracy(run_dir, test_set, test_predictions, capsys):
    assert main([str(run_dir), "--test", str(N_TEST), "--quiet"]) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert len([line for line in lines if line.startswith("test[")]) == N_TEST
    match = re.search(rf"accuracy on the first {N_TEST} test images: ([\d.]+)% \(all "
                      rf"activity\), ([\d.]+)% \(proportion weighting\)", out)
    assert match, out
    # Same images, seeds and chunking as predict_images: the same predictions.
    labels = test_set.labels[:N_TEST]
    expected = 100 * evaluation.accuracy(test_predictions["all_activity"], labels)
    assert float(match.group(1)) == pytest.approx(expected, abs=0.01)


def test_images_are_shown_for_t_present_eval(run_dir, test_set, test_predictions, tmp_path):
    """A run whose model sets ``[protocol] t_present_eval`` classifies with the images
    shown that long, as its test phase does: twice 350 ms, more spikes per image."""
    longer = shutil.copytree(run_dir, tmp_path / "run")
    model = longer / rundir.MODEL_COPY
    text = model.read_text()
    assert 't_rest            = "150*ms"' in text, "test setup"
    model.write_text(text.replace('t_rest            = "150*ms"',
                                  't_rest            = "150*ms"\nt_present_eval = "700*ms"', 1))
    counts = predict_images(longer, test_set.images[:N_TEST])["spike_counts"]
    assert counts.sum() > 1.5 * test_predictions["spike_counts"].sum()


def _write_pngs(folder, digit):
    """The digit as MNIST has it (28x28) and 56x56 dark-on-light."""
    original = folder / "digit.png"
    Image.fromarray(digit).save(original)
    inverted = folder / "digit_inverted_56.png"
    Image.fromarray(255 - digit).resize((56, 56), Image.Resampling.NEAREST).save(inverted)
    return original, inverted


def test_preprocessing_resize_and_invert(tmp_path, test_set):
    digit = test_set.images[0]
    original, inverted = _write_pngs(tmp_path, digit)
    a = load_image(original, (28, 28))
    b = load_image(inverted, (28, 28))
    assert a.shape == b.shape == (28, 28) and a.dtype == b.dtype == np.uint8
    np.testing.assert_array_equal(a, digit)  # right size and dark: unchanged
    assert b.mean() < 127  # inverted back to bright-on-dark
    assert np.corrcoef(a.ravel().astype(float), b.ravel().astype(float))[0, 1] > 0.9
    # RGB with an alpha channel: transparent background laid over white, then inverted.
    rgba = np.zeros((28, 28, 4), dtype=np.uint8)
    rgba[..., 3] = digit  # black ink where the digit is, transparent elsewhere
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "alpha.png")
    c = load_image(tmp_path / "alpha.png", (28, 28))
    assert np.corrcoef(a.ravel().astype(float), c.ravel().astype(float))[0, 1] > 0.9


def test_png_files_through_cli(run_dir, tmp_path, test_set, capsys):
    # Whether the two files draw the same class is left to the preprocessing test
    # above: they reach the network as near-identical arrays, but a 10-neuron network
    # trained on 100 images answers the same input differently from slot to slot.
    original, inverted = _write_pngs(tmp_path, test_set.images[0])
    assert main([str(run_dir), str(original), str(inverted), "--quiet"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("# image")
    assert [line.split()[0] for line in lines[1:]] == [str(original), str(inverted)]
    for line in lines[1:]:
        fields = line.split()
        assert -1 <= int(fields[1]) <= 9 and -1 <= int(fields[2]) <= 9
        assert re.fullmatch(r"spikes=\d+", fields[3]) and re.fullmatch(r"presentations=\d+",
                                                                        fields[4])


def test_unreadable_image_exits_2(run_dir, tmp_path, capsys):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image\n")
    assert main([str(run_dir), str(bad), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and str(bad) in err
    with pytest.raises(ConfigError, match="notes.png"):
        load_image(bad, (28, 28))


def test_missing_run_dir_exits_2(tmp_path, capsys):
    missing = tmp_path / "no_such_run"
    assert main([str(missing), "--test", "5", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and str(missing) in err


def test_damaged_state_exits_2(run_dir, tmp_path, capsys):
    broken = tmp_path / "broken_run"
    broken.mkdir()
    for name in ("config.json", "model.toml"):
        (broken / name).write_bytes((run_dir / name).read_bytes())
    (broken / "state.npz").write_bytes(b"not a zip file")
    assert main([str(broken), "--test", "5", "--quiet"]) == 2
    assert "state.npz" in capsys.readouterr().err
